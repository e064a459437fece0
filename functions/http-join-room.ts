import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';

import { joinRoom } from '#shared/domain/members.ts';
import { getDeps, withConnections, withLevelCopies, withRateLimits } from './lib/deps.ts';

/** `POST /rooms/{roomId}/join` — public rooms only; 200 with the room (also when already a member). */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  const { room } = await joinRoom(getDeps(withConnections, withLevelCopies, withRateLimits), req.user(), roomId);
  return { status: 200, body: room };
});
