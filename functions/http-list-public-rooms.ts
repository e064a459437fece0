import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { listQuery } from '#shared/schemas/rooms.ts';
import { listPublicRooms } from '#shared/domain/members.ts';
import { getDeps, withCursors } from './lib/deps.ts';

/** `GET /rooms/public` — discoverable public rooms, newest first. */
export const handler = httpHandler(async (req) => {
  const query = parseOrThrow(listQuery, req.query, 'query');
  return { status: 200, body: await listPublicRooms(getDeps(withCursors), req.user(), query) };
});
