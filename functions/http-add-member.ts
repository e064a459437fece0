import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { addMemberBody } from '#shared/schemas/people.ts';
import { addMember } from '#shared/domain/members.ts';
import { getDeps, withConnections, withLevelCopies, withRateLimits } from './lib/deps.ts';

/** `POST /rooms/{roomId}/members` (admin or moderator) — 201 with the member. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  const input = parseOrThrow(addMemberBody, req.body() ?? {}, 'body');
  return { status: 201, body: await addMember(getDeps(withConnections, withLevelCopies, withRateLimits), req.user(), roomId, input) };
});
