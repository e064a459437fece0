import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { getRoomPreferences } from '#shared/domain/notifications.ts';
import { getPreferenceDeps } from './lib/preference-deps.ts';

/** `GET /rooms/{roomId}/preferences` → `{roomId, notify?, mutedUntil?, effective}`: mine, members only. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  return { status: 200, body: await getRoomPreferences(getPreferenceDeps(), req.user(), roomId) };
});
