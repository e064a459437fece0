import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { setPresenceBody } from '#shared/schemas/people.ts';
import { setPresence } from '#shared/domain/presence.ts';
import { getDeps, withConnections, withRateLimits } from './lib/deps.ts';

/** `PUT /me/presence` — `{status: online|away|busy}`; shown while a connection is open. */
export const handler = httpHandler(async (req) => {
  const { status } = parseOrThrow(setPresenceBody, req.body() ?? {}, 'body');
  return { status: 200, body: await setPresence(getDeps(withConnections, withRateLimits), req.user(), status) };
});
