import { createECDH, createDecipheriv, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A push service as browsers' vendors run one, for the tests: it checks each request's VAPID
 * (RFC 8292) JWT and decrypts its aes128gcm payload (RFC 8291) with the subscription's own keys —
 * written from the RFCs with node:crypto, independent of the library the server pushes with.
 */

/** A browser-side subscription: the keys the push service's client (the browser) holds. */
export interface BrowserSubscription {
  endpoint: string;
  /** The `PushSubscription.toJSON()` the browser would hand the app. */
  json: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  privateKey: Buffer;
  publicKey: Buffer;
  auth: Buffer;
}

export interface ReceivedPush {
  endpoint: string;
  headers: IncomingHttpHeaders;
  claims: { aud: string; exp: number; sub: string };
  vapidPublicKey: string;
  payload: Record<string, any>;
}

export interface PushService {
  origin: string;
  pushes: ReceivedPush[];
  /** The endpoint path of every request that arrived, whatever it was answered. */
  hits: string[];
  /** Requests refused as malformed, with why (a test expects none). */
  rejected: string[];
  /** Status per endpoint path (default 201). */
  statusFor: Map<string, number>;
  /** How long to wait before answering, per endpoint path (a slow push service; default none). */
  delayFor: Map<string, number>;
  subscribe(): BrowserSubscription;
  close(): Promise<void>;
}

const b64u = (s: string) => Buffer.from(s, 'base64url');

export function decryptAes128gcm(body: Buffer, sub: Pick<BrowserSubscription, 'privateKey' | 'publicKey' | 'auth'>): Buffer {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  if (idlen !== 65 || ciphertext.length > rs) throw new Error(`bad aes128gcm header (idlen ${idlen}, rs ${rs}, ${ciphertext.length} bytes)`);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(sub.privateKey);
  const secret = ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), sub.publicKey, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', secret, sub.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('the last record does not end with the 0x02 delimiter');
  return padded.subarray(0, end);
}

/** Verifies `vapid t=<jwt>, k=<key>`: ES256 over the key, aud the endpoint's origin, exp within 24 h, sub present. */
export function checkVapid(authorization: string | undefined, origin: string): { claims: ReceivedPush['claims']; publicKey: string } {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!m) throw new Error(`Authorization is not "vapid t=…, k=…": ${authorization}`);
  const [jwt, k] = [m[1]!, m[2]!];
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const header = JSON.parse(b64u(h).toString()) as { alg: string; typ?: string };
  if (header.alg !== 'ES256') throw new Error(`alg ${header.alg}`);
  const raw = b64u(k);
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, format: 'jwk' });
  if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, b64u(s))) throw new Error('bad JWT signature');
  const claims = JSON.parse(b64u(p).toString()) as ReceivedPush['claims'];
  const now = Date.now() / 1000;
  if (claims.aud !== origin) throw new Error(`aud ${claims.aud} is not ${origin}`);
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600)) throw new Error(`exp ${claims.exp} not within 24 h`);
  if (!claims.sub) throw new Error('no sub');
  return { claims, publicKey: k };
}

export async function startPushService(): Promise<PushService> {
  const subs = new Map<string, BrowserSubscription>();
  const service: PushService = {
    origin: '',
    pushes: [],
    hits: [],
    rejected: [],
    statusFor: new Map(),
    delayFor: new Map(),
    subscribe() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const endpoint = `${service.origin}/push/${randomBytes(12).toString('base64url')}`;
      const sub: BrowserSubscription = {
        endpoint,
        json: { endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } },
        privateKey: ecdh.getPrivateKey(),
        publicKey: ecdh.getPublicKey(),
        auth,
      };
      subs.set(new URL(endpoint).pathname, sub);
      return sub;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', service.origin).pathname;
      service.hits.push(path);
      const sub = subs.get(path);
      const status = service.statusFor.get(path) ?? 201;
      try {
        if (!sub) throw new Error(`unknown subscription ${path}`);
        if (req.method !== 'POST') throw new Error(`method ${req.method}`);
        if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`Content-Encoding ${req.headers['content-encoding']}`);
        if (!/^\d+$/.test(String(req.headers.ttl))) throw new Error('no TTL');
        if (!['very-low', 'low', 'normal', 'high'].includes(String(req.headers.urgency))) throw new Error(`Urgency ${req.headers.urgency}`);
        const { claims, publicKey } = checkVapid(req.headers.authorization, service.origin);
        if (status === 201) {
          const payload = JSON.parse(decryptAes128gcm(Buffer.concat(chunks), sub).toString('utf8')) as Record<string, any>;
          service.pushes.push({ endpoint: sub.endpoint, headers: req.headers, claims, vapidPublicKey: publicKey, payload });
        }
        setTimeout(() => res.writeHead(status).end(), service.delayFor.get(path) ?? 0);
      } catch (err) {
        service.rejected.push((err as Error).message);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  service.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return service;
}
