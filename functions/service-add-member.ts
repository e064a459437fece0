import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { serviceMemberSchema } from '#shared/schemas/people.ts';
import { serviceAddMember } from '#shared/domain/service.ts';
import { getDeps, withConnections, withLevelCopies } from './lib/deps.ts';

/** `POST /service/rooms/{roomId}/members` (IAM) — `{userId, displayName?, role?}` → 201. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  const member = parseOrThrow(serviceMemberSchema, req.body() ?? {}, 'body');
  return { status: 201, body: await serviceAddMember(getDeps(withConnections, withLevelCopies), roomId, member) };
});
