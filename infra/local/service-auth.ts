import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { ENV } from '#shared/env.ts';

/**
 * The local stand-in for IAM authorization on `/service/...` routes: requests must carry an AWS
 * Signature Version 4 (service `execute-api`) made with the local service credential, checked
 * here exactly as AWS checks it (canonical request, scope, 5-minute clock skew). The credential
 * comes from PARLEY_SERVICE_ACCESS_KEY_ID / PARLEY_SERVICE_SECRET_ACCESS_KEY, else from
 * `<data dir>/service-credentials.json` (created once), else is made up per in-memory run;
 * `npm start` prints it.
 */
export interface ServiceCredential {
  accessKeyId: string;
  secretAccessKey: string;
}

export const SERVICE_SIGNING_NAME = 'execute-api';
const MAX_SKEW_MS = 5 * 60 * 1000;

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

/** RFC 3986 encoding as SigV4 wants it. */
const escape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** True when the request carries a valid SigV4 signature of `credential`. */
export function verifySigV4(req: http.IncomingMessage, url: URL, body: Buffer, credential: ServiceCredential, now = Date.now()): boolean {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(auth.trim());
  if (!m) return false;
  const [, credentialScope, signedHeaderList, signature] = m as unknown as [string, string, string, string];
  const [accessKeyId, date, region, service, terminator] = credentialScope.split('/');
  if (accessKeyId !== credential.accessKeyId || service !== SERVICE_SIGNING_NAME || terminator !== 'aws4_request' || !date || !region) return false;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dm || amzDate.slice(0, 8) !== date) return false;
  const signedAt = Date.UTC(+dm[1]!, +dm[2]! - 1, +dm[3]!, +dm[4]!, +dm[5]!, +dm[6]!);
  if (Math.abs(now - signedAt) > MAX_SKEW_MS) return false;
  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) return false;

  const canonicalHeaders = signedHeaders
    .map((h) => {
      const v = req.headers[h];
      return `${h}:${(Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const segments = url.pathname.split('/').filter((s) => s !== '' && s !== '.');
  const canonicalPath = escape(`/${segments.join('/')}${url.pathname.endsWith('/') && segments.length > 0 ? '/' : ''}`).replace(/%2F/g, '/');
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [escape(k), escape(v)] as const)
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const payloadHash = typeof req.headers['x-amz-content-sha256'] === 'string' ? req.headers['x-amz-content-sha256'] : sha256(body);
  if (payloadHash !== sha256(body) && payloadHash !== 'UNSIGNED-PAYLOAD') return false;
  const canonicalRequest = [req.method ?? 'GET', canonicalPath, query, canonicalHeaders, signedHeaderList, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credential.secretAccessKey}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}
