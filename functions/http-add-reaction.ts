import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { messageIdSchema, parseOrThrow, roomIdSchema } from '#shared/schemas/common.ts';
import { emojiSchema } from '#shared/schemas/messages.ts';
import { addReaction } from '#shared/domain/reactions.ts';
import { getDeps } from './lib/deps.ts';

/** `PUT /rooms/{roomId}/messages/{messageId}/reactions/{emoji}` — adds my reaction (idempotent); 200 with the message. */
export const handler = httpHandler(async (req) => {
  const roomId = parseOrThrow(roomIdSchema, req.params.roomId, 'roomId');
  const messageId = parseOrThrow(messageIdSchema, req.params.messageId, 'messageId');
  const emoji = parseOrThrow(emojiSchema, req.params.emoji, 'emoji');
  return { status: 200, body: await addReaction(getDeps(), req.user(), roomId, messageId, emoji) };
});
