import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { membersQuery } from '#shared/schemas/people.ts';
import { listMembers } from '#shared/domain/members.ts';
import { getDeps, withConnections } from './lib/deps.ts';

/** `GET /rooms/{roomId}/members` — every member with role and presence, in one page (no cursor). */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  parseOrThrow(membersQuery, req.query, 'query');
  return { status: 200, body: await listMembers(getDeps(withConnections), req.user(), roomId) };
});
