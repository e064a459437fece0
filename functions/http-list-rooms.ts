import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { listQuery } from '#shared/schemas/rooms.ts';
import { listMyRooms } from '#shared/domain/rooms.ts';
import { getDeps, withConnections, withAttachments, withCursors } from './lib/deps.ts';

/** `GET /rooms` — my rooms, most recent activity first, with role, unread count and last message. */
export const handler = httpHandler(async (req) => {
  const query = parseOrThrow(listQuery, req.query, 'query');
  return { status: 200, body: await listMyRooms(getDeps(withConnections, withAttachments, withCursors), req.user(), query) };
});
