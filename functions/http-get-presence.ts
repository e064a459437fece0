import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { presenceQuery } from '#shared/schemas/people.ts';
import { getPresence } from '#shared/domain/presence.ts';
import { getDeps, withConnections } from './lib/deps.ts';

/** `GET /presence?userIds=a,b` — of users sharing a room with me (at most 100). */
export const handler = httpHandler(async (req) => {
  const { userIds } = parseOrThrow(presenceQuery, req.query, 'query');
  return { status: 200, body: await getPresence(getDeps(withConnections), req.user(), userIds) };
});
