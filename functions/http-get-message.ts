import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { messageParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { getMessage } from '#shared/domain/messages.ts';
import { getDeps, withAttachments } from './lib/deps.ts';

/** `GET /rooms/{roomId}/messages/{messageId}` — with `readBy`, derived from the members' read marks. */
export const handler = httpHandler(async (req) => {
  const { roomId, messageId } = parseOrThrow(messageParams, req.params, 'path');
  return { status: 200, body: await getMessage(getDeps(withAttachments), req.user(), roomId, messageId) };
});
