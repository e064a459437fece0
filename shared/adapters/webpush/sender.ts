import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createECDH, createPrivateKey, randomBytes, sign } from 'node:crypto';
import * as ece from 'http_ece';
import type { PushPayload, PushSender, PushSubscriptionRecord } from '#shared/ports/notifications.ts';
import { addressProblem, pushEndpointProblem, type EndpointPolicy } from '#shared/domain/push-endpoints.ts';
import type { VapidKeys } from './vapid.ts';

const TIMEOUT_MS = 10_000;

/** How long the VAPID JWT is valid (RFC 8292 allows at most 24 hours). */
const VAPID_JWT_SECONDS = 12 * 60 * 60;

/**
 * The VAPID JWT (RFC 8292): ES256 over the compact JWS (RFC 7515), signed by Node's own crypto
 * (`ieee-p1363` is JWS's raw r||s form). The token has one fixed header and three claims; a JWT
 * library would add 14 KB of key handling and claim parsing to the function that sends pushes.
 */
function vapidJwt(vapid: VapidKeys & { subject: string }, audience: string, expiresAt: number): string {
  const pub = Buffer.from(vapid.publicKey, 'base64url');
  const key = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33).toString('base64url'), d: vapid.privateKey }, format: 'jwk' });
  const part = (json: object) => Buffer.from(JSON.stringify(json)).toString('base64url');
  const signingInput = `${part({ typ: 'JWT', alg: 'ES256' })}.${part({ sub: vapid.subject, aud: audience, exp: expiresAt })}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/**
 * The Web Push request for a subscription: the payload encrypted for it (RFC 8291 `aes128gcm`, by
 * `http_ece`, the RFC's reference implementation) and a VAPID JWT for the push service's origin.
 * (`web-push` does the same; its ASN.1 and bignum dependencies would more than double the
 * function's bundle.)
 */
export async function webPushRequest(
  sub: Pick<PushSubscriptionRecord, 'endpoint' | 'keys'>,
  payload: string,
  vapid: VapidKeys & { subject: string },
  options: { ttlSeconds: number; urgency: 'normal' | 'high'; topic: string },
  now = Date.now(),
): Promise<{ headers: Record<string, string>; body: Buffer }> {
  const local = createECDH('prime256v1');
  local.generateKeys();
  const body = ece.encrypt(Buffer.from(payload), { version: 'aes128gcm', dh: sub.keys.p256dh, privateKey: local, salt: randomBytes(16).toString('base64url'), authSecret: sub.keys.auth });
  const jwt = vapidJwt(vapid, new URL(sub.endpoint).origin, Math.floor(now / 1000) + VAPID_JWT_SECONDS);
  return {
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Encoding': 'aes128gcm',
      'Content-Length': String(body.length),
      TTL: String(options.ttlSeconds),
      Urgency: options.urgency,
      Topic: options.topic,
      Authorization: `vapid t=${jwt}, k=${vapid.publicKey}`,
    },
    body,
  };
}

/**
 * Web Push: the request built by `webPushRequest`, sent over a connection whose resolved address
 * is checked first (a public name must not lead to a private or metadata address).
 */
export class WebPushSender implements PushSender {
  private keys?: Promise<VapidKeys>;

  constructor(
    private readonly loadKeys: () => Promise<VapidKeys>,
    private readonly subject: string,
    private readonly policy: EndpointPolicy,
  ) {}

  private vapid(): Promise<VapidKeys> {
    this.keys ??= this.loadKeys().catch((err: unknown) => {
      this.keys = undefined;
      throw err;
    });
    return this.keys;
  }

  async publicKey(): Promise<string> {
    return (await this.vapid()).publicKey;
  }

  async send(sub: PushSubscriptionRecord, payload: PushPayload, options: { ttlSeconds: number; urgency: 'normal' | 'high'; topic: string }): Promise<'sent' | 'gone' | 'failed'> {
    // Stored under a policy that may have changed since (local data reused): never call it.
    if (pushEndpointProblem(sub.endpoint, this.policy)) return 'gone';
    const keys = await this.vapid();
    const request = await webPushRequest(sub, JSON.stringify(payload), { ...keys, subject: this.subject }, options);
    try {
      const status = await this.post(sub.endpoint, request.headers, request.body);
      if (status === 404 || status === 410) return 'gone';
      return status >= 200 && status < 300 ? 'sent' : 'failed';
    } catch {
      return 'failed';
    }
  }

  private post(endpoint: string, headers: Record<string, string | number>, body: Buffer | string): Promise<number> {
    const url = new URL(endpoint);
    const policy = this.policy;
    const options: RequestOptions = {
      method: 'POST',
      headers,
      timeout: TIMEOUT_MS,
      lookup: (hostname, opts, callback) => {
        dnsLookup(hostname, { ...opts, all: true }, (err, addresses: LookupAddress[]) => {
          if (err) return callback(err, '', 4);
          const bad = addresses.find((a) => addressProblem(a.address, policy));
          if (bad || addresses.length === 0) return callback(new Error(`${hostname} resolves to a refused address`), '', 4);
          if ((opts as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
          return callback(null, addresses[0]!.address, addresses[0]!.family);
        });
      },
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, options, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('push service timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }
}
