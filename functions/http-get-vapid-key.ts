import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { vapidPublicKey } from '#shared/domain/notifications.ts';
import { getVapidKeyDeps } from './lib/preference-deps.ts';

/** `GET /push/vapid-key` → `{publicKey}`: the `applicationServerKey` for `pushManager.subscribe` (base64url, uncompressed P-256). */
export const handler = httpHandler(async () => ({ status: 200, body: await vapidPublicKey(getVapidKeyDeps()) }));
