import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow, roomParams } from '#shared/schemas/common.ts';

import { listMembers } from '#shared/domain/members.ts';
import { getDeps } from './lib/deps.ts';

/** `GET /rooms/{roomId}/members` — every member with role and presence. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  return { status: 200, body: await listMembers(getDeps(), req.user(), roomId) };
});
