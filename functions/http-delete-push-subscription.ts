import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { deleteSubscriptionQuery } from '#shared/schemas/notifications.ts';
import { unsubscribePush } from '#shared/domain/notifications.ts';
import { getPreferenceDeps } from './lib/preference-deps.ts';

/** `DELETE /me/push-subscriptions?endpoint=` → 204: forgets that subscription of mine (idempotent). */
export const handler = httpHandler(async (req) => {
  const { endpoint } = parseOrThrow(deleteSubscriptionQuery, req.query, 'query');
  await unsubscribePush(getPreferenceDeps(), req.user(), endpoint);
  return { status: 204 };
});
