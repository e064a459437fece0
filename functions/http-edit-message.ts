import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { messageIdSchema, parseOrThrow, roomIdSchema } from '#shared/schemas/common.ts';
import { editMessageBody } from '#shared/schemas/messages.ts';
import { editMessage } from '#shared/domain/messages.ts';
import { getDeps } from './lib/deps.ts';

/** `PATCH /rooms/{roomId}/messages/{messageId}` `{content}` — the sender only, within the edit window. */
export const handler = httpHandler(async (req) => {
  const roomId = parseOrThrow(roomIdSchema, req.params.roomId, 'roomId');
  const messageId = parseOrThrow(messageIdSchema, req.params.messageId, 'messageId');
  const { content } = parseOrThrow(editMessageBody, req.body() ?? {}, 'body');
  return { status: 200, body: await editMessage(getDeps(), req.user(), roomId, messageId, content) };
});
