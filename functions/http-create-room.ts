import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { createRoomBody } from '#shared/schemas/rooms.ts';
import { createRoom } from '#shared/domain/rooms.ts';
import { getDeps, withLevelCopies, withRateLimits } from './lib/deps.ts';

/** `POST /rooms` — 201 with the new room; 200 with the existing one for a direct pair. */
export const handler = httpHandler(async (req) => {
  const input = parseOrThrow(createRoomBody, req.body() ?? {}, 'body');
  const { room, created } = await createRoom(getDeps(withLevelCopies, withRateLimits), req.user(), input);
  return { status: created ? 201 : 200, body: room };
});
