import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { listTyping } from '#shared/domain/typing.ts';
import { getDeps, withTyping } from './lib/deps.ts';

/** `GET /rooms/{roomId}/typing` — who is typing now. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  return { status: 200, body: await listTyping(getDeps(withTyping), req.user(), roomId) };
});
