import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { changeRoleBody, memberParams } from '#shared/schemas/people.ts';
import { changeRole } from '#shared/domain/members.ts';
import { getDeps, withConnections, withRateLimits } from './lib/deps.ts';

/** `PATCH /rooms/{roomId}/members/{userId}` (admin) — `{role}`. */
export const handler = httpHandler(async (req) => {
  const { roomId, userId } = parseOrThrow(memberParams, req.params, 'path');
  const { role } = parseOrThrow(changeRoleBody, req.body() ?? {}, 'body');
  return { status: 200, body: await changeRole(getDeps(withConnections, withRateLimits), req.user(), roomId, userId, role) };
});
