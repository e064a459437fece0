import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { updateRoomBody } from '#shared/schemas/people.ts';
import { updateRoom } from '#shared/domain/members.ts';
import { getDeps, withRateLimits } from './lib/deps.ts';

/** `PATCH /rooms/{roomId}` (admin) — the updated room; members get `room_updated`. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  const patch = parseOrThrow(updateRoomBody, req.body() ?? {}, 'body');
  return { status: 200, body: await updateRoom(getDeps(withRateLimits), req.user(), roomId, patch) };
});
