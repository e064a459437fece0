import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { messageParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { editMessageBody } from '#shared/schemas/messages.ts';
import { editMessage } from '#shared/domain/messages.ts';
import { getDeps, withAttachments, withRateLimits } from './lib/deps.ts';

/** `PATCH /rooms/{roomId}/messages/{messageId}` `{content}` — the sender only, within the edit window. */
export const handler = httpHandler(async (req) => {
  const { roomId, messageId } = parseOrThrow(messageParams, req.params, 'path');
  const { content } = parseOrThrow(editMessageBody, req.body() ?? {}, 'body');
  return { status: 200, body: await editMessage(getDeps(withAttachments, withRateLimits), req.user(), roomId, messageId, content) };
});
