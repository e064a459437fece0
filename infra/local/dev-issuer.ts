import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type JWK, type CryptoKey } from 'jose';
import { StartupError } from './errors.ts';

export const DEV_AUDIENCE = 'parley-local';
const TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;

export interface DevIssuer {
  issuer: string;
  audience: string;
  jwks: { keys: JWK[] };
  /** Signs an RS256 ID-token-like JWT for `userId`. */
  issue(userId: string, displayName?: string): Promise<{ token: string; expiresAt: string }>;
}

interface StoredKey {
  kid: string;
  pkcs8: string;
}

/**
 * The local OpenID Connect issuer that stands in for Cognito. Its RS256 key is kept in the data
 * dir (tokens survive restarts) or made anew for an in-memory run.
 */
export async function createDevIssuer(opts: { issuer: string; keyFile?: string }): Promise<DevIssuer> {
  let stored: StoredKey | undefined;
  if (opts.keyFile && existsSync(opts.keyFile)) {
    try {
      stored = JSON.parse(readFileSync(opts.keyFile, 'utf8')) as StoredKey;
    } catch {
      throw new StartupError(`${opts.keyFile} is not readable JSON: delete it and a new dev signing key is made (old tokens stop working)`);
    }
  }
  let privateKey: CryptoKey;
  if (stored) {
    privateKey = await importPKCS8(stored.pkcs8, 'RS256', { extractable: true });
  } else {
    const pair = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    privateKey = pair.privateKey;
    stored = { kid: randomUUID(), pkcs8: await exportPKCS8(privateKey) };
    if (opts.keyFile) {
      mkdirSync(path.dirname(opts.keyFile), { recursive: true });
      writeFileSync(opts.keyFile, JSON.stringify(stored), { mode: 0o600 });
    }
  }
  const { kid } = stored;
  const full = await exportJWK(privateKey);
  // The public half only: modulus and exponent.
  const jwk: JWK = { kty: 'RSA', n: full.n!, e: full.e!, kid, alg: 'RS256', use: 'sig' };
  return {
    issuer: opts.issuer,
    audience: DEV_AUDIENCE,
    jwks: { keys: [jwk] },
    async issue(userId, displayName) {
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ ...(displayName && { name: displayName }), token_use: 'id' })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuer(opts.issuer)
        .setAudience(DEV_AUDIENCE)
        .setSubject(userId)
        .setIssuedAt(now)
        .setExpirationTime(now + TOKEN_LIFETIME_SECONDS)
        .sign(privateKey);
      return { token, expiresAt: new Date((now + TOKEN_LIFETIME_SECONDS) * 1000).toISOString() };
    },
  };
}
