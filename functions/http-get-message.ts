import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { messageIdSchema, parseOrThrow, roomIdSchema } from '#shared/schemas/common.ts';
import { getMessage } from '#shared/domain/messages.ts';
import { getDeps } from './lib/deps.ts';

/** `GET /rooms/{roomId}/messages/{messageId}` — with `readBy`, derived from the members' read marks. */
export const handler = httpHandler(async (req) => {
  const roomId = parseOrThrow(roomIdSchema, req.params.roomId, 'roomId');
  const messageId = parseOrThrow(messageIdSchema, req.params.messageId, 'messageId');
  return { status: 200, body: await getMessage(getDeps(), req.user(), roomId, messageId) };
});
