import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { ENV } from '#shared/env.ts';
import { verifySigV4 } from './sigv4.ts';

/**
 * The local stand-in for IAM authorization on `/service/...` routes: requests must carry an AWS
 * Signature Version 4 (service `execute-api`) made with the local service credential, checked
 * as AWS checks it (sigv4.ts: the SDK's signer recomputes it; scope, 5-minute clock skew). The credential
 * comes from PARLEY_SERVICE_ACCESS_KEY_ID / PARLEY_SERVICE_SECRET_ACCESS_KEY, else from
 * `<data dir>/service-credentials.json` (created once), else is made up per in-memory run;
 * `npm start` prints it.
 */
export interface ServiceCredential {
  accessKeyId: string;
  secretAccessKey: string;
}

export const SERVICE_SIGNING_NAME = 'execute-api';

export function loadServiceCredential(dataDir?: string, env: NodeJS.ProcessEnv = process.env): ServiceCredential {
  const accessKeyId = env[ENV.serviceAccessKeyId];
  const secretAccessKey = env[ENV.serviceSecretAccessKey];
  if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey };
  const file = dataDir && path.join(dataDir, 'service-credentials.json');
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ServiceCredential;
  const made = { accessKeyId: `PARLEYLOCAL${randomBytes(5).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64url') };
  if (file) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(made, null, 2), { mode: 0o600 });
  }
  return made;
}

/** True when the request carries a valid SigV4 signature of `credential` (service `execute-api`). */
export async function verifyServiceSignature(req: http.IncomingMessage, body: Buffer, credential: ServiceCredential, now = Date.now()): Promise<boolean> {
  return (await verifySigV4(req, body, { service: SERVICE_SIGNING_NAME, credentials: [credential], now })) === 'valid';
}
