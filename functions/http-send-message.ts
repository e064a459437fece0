import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow, roomIdSchema } from '#shared/schemas/common.ts';
import { sendMessageBody } from '#shared/schemas/messages.ts';
import { sendMessage } from '#shared/domain/messages.ts';
import { getDeps } from './lib/deps.ts';

/** `POST /rooms/{roomId}/messages` — 201 with the message; 200 with the stored one on a clientMessageId retry. */
export const handler = httpHandler(async (req) => {
  const roomId = parseOrThrow(roomIdSchema, req.params.roomId, 'roomId');
  const input = parseOrThrow(sendMessageBody, req.body() ?? {}, 'body');
  const { message, created } = await sendMessage(getDeps(), req.user(), roomId, input);
  return { status: created ? 201 : 200, body: message };
});
