import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import webpush from 'web-push';
import type { PushPayload, PushSender, PushSubscriptionRecord } from '#shared/ports/notifications.ts';
import { addressProblem, pushEndpointProblem, type EndpointPolicy } from '#shared/domain/push-endpoints.ts';
import type { VapidKeys } from './vapid.ts';

const TIMEOUT_MS = 10_000;

/**
 * Web Push through `web-push` (RFC 8291 aes128gcm encryption, RFC 8292 VAPID): the library builds
 * the request, this adapter sends it, over a connection whose resolved address is checked first
 * (a public name must not lead to a private or metadata address).
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
    const details = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: sub.keys }, JSON.stringify(payload), {
      vapidDetails: { subject: this.subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
      TTL: options.ttlSeconds,
      urgency: options.urgency,
      topic: options.topic,
      contentEncoding: 'aes128gcm',
    });
    try {
      const status = await this.post(details.endpoint, details.headers, details.body ?? Buffer.alloc(0));
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
