import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** An access key pair a local endpoint accepts. */
export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * The day's signing key per secret, date, region and service: four HMACs, most of what a check
 * would cost were it made for each request (each `@connections` post of a fan-out is checked).
 */
const signingKeys = new Map<string, Buffer>();
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = JSON.stringify([secret, date, region, service]);
  let key = signingKeys.get(id);
  if (!key) {
    if (signingKeys.size >= 64) signingKeys.clear();
    key = Buffer.from(`AWS4${secret}`, 'utf8');
    for (const part of [date, region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    signingKeys.set(id, key);
  }
  return key;
}

/** RFC 3986 escaping, as SigV4 (and the SDK's signer, `escapeUri`) wants it. */
const escapeUri = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The path as AWS signs it: as sent for S3; for every other service normalized and escaped once more. */
function canonicalPath(path: string, service: string): string {
  if (service === 's3') return path;
  const segments: string[] = [];
  for (const s of path.split('/')) {
    if (s === '..') segments.pop();
    else if (s && s !== '.') segments.push(s);
  }
  const normalized = `/${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

/** The query string as AWS signs it: names and values escaped, sorted by escaped name, a name's pairs sorted. */
function canonicalQuery(search: string): string {
  if (search === '') return '';
  const byName = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(search)) {
    if (k.toLowerCase() === 'x-amz-signature') continue;
    const name = escapeUri(k);
    const pairs = byName.get(name);
    if (pairs) pairs.push(`${name}=${escapeUri(v)}`);
    else byName.set(name, [`${name}=${escapeUri(v)}`]);
  }
  return [...byName.keys()].sort().map((name) => byName.get(name)!.sort().join('&')).join('&');
}

/**
 * Bodies whose SHA-256 was checked lately, by that hash: a fan-out posts one frame to every
 * connection of a room, and comparing the bytes with one already hashed gives the same verdict as
 * hashing them again, at a fraction of the cost to the runtime's main thread.
 */
const hashedBodies = new Map<string, Buffer>();
function hashes(body: Buffer, hexHash: string): boolean {
  if (hashedBodies.get(hexHash)?.equals(body)) return true;
  if (createHash('sha256').update(body).digest('hex') !== hexHash) return false;
  if (hashedBodies.size >= 64) hashedBodies.clear();
  hashedBodies.set(hexHash, body);
  return true;
}

/** AWS refuses a signature made more than 5 minutes before or after it arrives. */
const MAX_SKEW_MS = 5 * 60 * 1000;

const AUTHORIZATION = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

/**
 * What a SigV4 check found: `valid`; `unsigned` (no SigV4 `Authorization` header); `unknown-key`
 * (an access key this endpoint does not know); `invalid` (a signature that does not match, a
 * wrong scope, or one made too long ago).
 */
export type SigV4Verdict = 'valid' | 'unsigned' | 'unknown-key' | 'invalid';

/**
 * `valid` when the request carries a SigV4 `Authorization` header made with one of
 * `credentials` for `service`: the signature is recomputed over the request as received, from
 * exactly the headers the client signed, at the time the client signed, and compared. On
 * `node:crypto` rather than through `@smithy/signature-v4` (whose `sign` the unit test holds this
 * check to): every post of a fan-out is checked here, on the runtime's one thread, and the SDK's
 * signer took twice as long a check (its request clone, an HMAC of the credentials for its key
 * cache, promises). Also checked as AWS does: the scope's service and
 * terminator, `host` and `x-amz-date` among the signed headers, a 5-minute clock skew, and a
 * payload hash header that matches the body.
 */
export async function verifySigV4(
  req: Pick<http.IncomingMessage, 'method' | 'url' | 'headers'>,
  body: Buffer,
  opts: { service: string; credentials: readonly Credential[]; now?: number },
): Promise<SigV4Verdict> {
  const m = AUTHORIZATION.exec((req.headers.authorization ?? '').trim());
  if (!m) return /^AWS4-HMAC-SHA256\s/.test(req.headers.authorization ?? '') ? 'invalid' : 'unsigned';
  const [, scope, signedHeaderList, signature] = m as unknown as [string, string, string, string];
  const [accessKeyId, date, region, service, terminator] = scope.split('/');
  const credential = opts.credentials.find((c) => c.accessKeyId === accessKeyId);
  if (!credential) return 'unknown-key';
  if (service !== opts.service || terminator !== 'aws4_request' || !date || !region) return 'invalid';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dm || amzDate.slice(0, 8) !== date) return 'invalid';
  const signedAt = Date.UTC(+dm[1]!, +dm[2]! - 1, +dm[3]!, +dm[4]!, +dm[5]!, +dm[6]!);
  if (Math.abs((opts.now ?? Date.now()) - signedAt) > MAX_SKEW_MS) return 'invalid';
  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) return 'invalid';

  // The signer trusts a payload hash header; the body must be the one hashed (only S3 allows an unsigned payload).
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (typeof payloadHash === 'string' && !(service === 's3' && payloadHash === 'UNSIGNED-PAYLOAD') && !hashes(body, payloadHash)) return 'invalid';
  // The canonical request over exactly the headers the client signed, as AWS rebuilds it
  // (SigV4's published algorithm; a unit test holds this check to the SDK's own signer).
  let canonicalHeaders = '';
  for (const name of [...signedHeaders].sort()) {
    const value = req.headers[name];
    const text = Array.isArray(value) ? value.join(',') : (value ?? '');
    canonicalHeaders += `${name}:${text.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '')}\n`;
  }
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const canonicalRequest = [
    req.method ?? 'GET',
    canonicalPath(q < 0 ? raw : raw.slice(0, q), service),
    canonicalQuery(q < 0 ? '' : raw.slice(q + 1)),
    canonicalHeaders,
    [...signedHeaders].sort().join(';'),
    typeof payloadHash === 'string' ? payloadHash : createHash('sha256').update(body).digest('hex'),
  ].join('\n');
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope.slice(accessKeyId!.length + 1)}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const expected = createHmac('sha256', signingKey(credential.secretAccessKey, date, region, service)).update(stringToSign).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex')) ? 'valid' : 'invalid';
}

/** What a local JSON 1.1 endpoint answers: an HTTP status and a JSON body. */
export interface Json11Answer {
  status: number;
  body: unknown;
}

/** A fault as a JSON 1.1 service answers it: `{ __type, message }`, which the SDK turns into a named error. */
export const json11Fault = (status: number, type: string, message: string): Json11Answer => ({ status, body: { __type: type, message } });

/**
 * What a JSON 1.1 service (EventBridge, Secrets Manager) does before its operation, with the
 * faults it answers: the SigV4 check (400 `MissingAuthenticationTokenException`,
 * `UnrecognizedClientException` or `InvalidSignatureException`), the operation named by
 * `X-Amz-Target` (400 `UnknownOperationException` for any but `target`), and the body parsed
 * (400 `SerializationException`). Gives the fault, or `field`, which reads a top-level field of
 * the body: an own property only (a body's `__proto__` names nothing).
 */
export async function readJson11(
  req: Pick<http.IncomingMessage, 'method' | 'url' | 'headers'>,
  body: Buffer,
  opts: { service: string; target: string; credentials: readonly Credential[] },
): Promise<{ fault: Json11Answer } | { field: (name: string) => unknown }> {
  const verdict = await verifySigV4(req, body, { service: opts.service, credentials: opts.credentials });
  if (verdict === 'unsigned') return { fault: json11Fault(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token') };
  if (verdict === 'unknown-key') return { fault: json11Fault(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.') };
  if (verdict === 'invalid') return { fault: json11Fault(400, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.') };
  if (req.method !== 'POST' || req.headers['x-amz-target'] !== opts.target) {
    return { fault: json11Fault(400, 'UnknownOperationException', `Only ${opts.target} is supported by this local endpoint.`) };
  }
  let input: unknown;
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch {
    return { fault: json11Fault(400, 'SerializationException', 'The request body is not valid JSON.') };
  }
  return { field: (name) => (typeof input === 'object' && input !== null && Object.hasOwn(input, name) ? (input as Record<string, unknown>)[name] : undefined) };
}

/**
 * Serves a local JSON 1.1 endpoint on 127.0.0.1 (`port` 0 or none: any free one): each request's
 * body read whole and handed to `answer`, whose answer goes back as `application/x-amz-json-1.1`
 * with a request id.
 */
export async function serveJson11(answer: (req: http.IncomingMessage, body: Buffer) => Promise<Json11Answer>, port = 0): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void answer(req, Buffer.concat(chunks)).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(body));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
