import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { getRoom } from '#shared/domain/rooms.ts';
import { getDeps } from './lib/deps.ts';

/** `GET /rooms/{roomId}` — members only. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  return { status: 200, body: await getRoom(getDeps(), req.user(), roomId) };
});
