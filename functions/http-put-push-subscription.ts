import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { pushSubscriptionBody } from '#shared/schemas/notifications.ts';
import { subscribePush } from '#shared/domain/notifications.ts';
import { getNotifyConfig, getPreferenceDeps } from './lib/preference-deps.ts';

/**
 * `PUT /me/push-subscriptions` (the browser's `PushSubscription` JSON) → `{endpoint, createdAt}`.
 * The endpoint must be https on a public host; at most 10 per user (the oldest gives way).
 */
export const handler = httpHandler(async (req) => {
  const body = parseOrThrow(pushSubscriptionBody, req.body() ?? {}, 'body');
  return { status: 200, body: await subscribePush(getPreferenceDeps(), req.user(), body, { allowLoopback: getNotifyConfig().allowLoopback }) };
});
