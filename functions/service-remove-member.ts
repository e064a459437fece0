import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { memberParams } from '#shared/schemas/people.ts';
import { serviceRemoveMember } from '#shared/domain/service.ts';
import { getDeps, withConnections } from './lib/deps.ts';

/** `DELETE /service/rooms/{roomId}/members/{userId}` (IAM) — 204. */
export const handler = httpHandler(async (req) => {
  const { roomId, userId } = parseOrThrow(memberParams, req.params, 'path');
  await serviceRemoveMember(getDeps(withConnections), roomId, userId);
  return { status: 204 };
});
