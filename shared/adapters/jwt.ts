import { JwtRsaVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';

export type ClaimsVerifier = (token: string) => Promise<Record<string, unknown>>;

/**
 * An RS256 verifier for one OIDC issuer. In AWS it fetches the issuer's JWKS over https; the local
 * runtime hands it the dev issuer's JWKS directly (aws-jwt-verify fetches over https only).
 */
export function createJwtVerifier(opts: { issuer: string; audience: string; jwks?: { keys: object[] } }): ClaimsVerifier {
  const verifier = JwtRsaVerifier.create({ issuer: opts.issuer, audience: opts.audience });
  if (opts.jwks) verifier.cacheJwks(opts.jwks as Jwks);
  return async (token) => (await verifier.verify(token)) as Record<string, unknown>;
}
