import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';

import { archiveRoom } from '#shared/domain/members.ts';
import { getDeps, withRateLimits } from './lib/deps.ts';

/** `DELETE /rooms/{roomId}` (admin) — archives: no new messages, history stays; members get `room_archived`. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  return { status: 200, body: await archiveRoom(getDeps(withRateLimits), req.user(), roomId) };
});
