import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { roomPreferencesBody } from '#shared/schemas/notifications.ts';
import { setRoomPreferences } from '#shared/domain/notifications.ts';
import { getPreferenceDeps } from './lib/preference-deps.ts';

/**
 * `PUT /rooms/{roomId}/preferences` `{notify?, mutedUntil?}` → `{roomId, notify?, mutedUntil?, effective}`:
 * my level for this room, and a mute until a time (`null` clears either). Members only.
 */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  const patch = parseOrThrow(roomPreferencesBody, req.body() ?? {}, 'body');
  return { status: 200, body: await setRoomPreferences(getPreferenceDeps(), req.user(), roomId, patch) };
});
