import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';

import { serviceArchiveRoom } from '#shared/domain/service.ts';
import { getDeps } from './lib/deps.ts';

/** `DELETE /service/rooms/{roomId}` (IAM) — archives the room. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  return { status: 200, body: await serviceArchiveRoom(getDeps(), roomId) };
});
