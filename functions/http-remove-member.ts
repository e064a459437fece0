import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { memberParams } from '#shared/schemas/people.ts';
import { removeMember } from '#shared/domain/members.ts';
import { getDeps, withConnections, withRateLimits } from './lib/deps.ts';

/** `DELETE /rooms/{roomId}/members/{userId}` — leave (self) or remove (admin, or moderator for members). 204. */
export const handler = httpHandler(async (req) => {
  const { roomId, userId } = parseOrThrow(memberParams, req.params, 'path');
  await removeMember(getDeps(withConnections, withRateLimits), req.user(), roomId, userId);
  return { status: 204 };
});
