import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { serviceCreateRoomBody } from '#shared/schemas/people.ts';
import { serviceCreateRoom } from '#shared/domain/service.ts';
import { getDeps, withLevelCopies } from './lib/deps.ts';

/** `POST /service/rooms` (IAM) — 201 with the room, 200 with the one its `context` already has. */
export const handler = httpHandler(async (req) => {
  const input = parseOrThrow(serviceCreateRoomBody, req.body() ?? {}, 'body');
  const { room, created } = await serviceCreateRoom(getDeps(withLevelCopies), input);
  return { status: created ? 201 : 200, body: room };
});
