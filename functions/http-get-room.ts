import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow, roomIdSchema } from '#shared/schemas/common.ts';
import { getRoom } from '#shared/domain/rooms.ts';
import { getDeps } from './lib/deps.ts';

/** `GET /rooms/{roomId}` — members only. */
export const handler = httpHandler(async (req) => {
  const roomId = parseOrThrow(roomIdSchema, req.params.roomId, 'roomId');
  return { status: 200, body: await getRoom(getDeps(), req.user(), roomId) };
});
