import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { sendMessageBody } from '#shared/schemas/messages.ts';
import { sendMessage } from '#shared/domain/messages.ts';
import { getDeps, withAttachments } from './lib/deps.ts';

/** `POST /rooms/{roomId}/messages` — 201 with the message; 200 with the stored one on a clientMessageId retry. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  const input = parseOrThrow(sendMessageBody, req.body() ?? {}, 'body');
  const { message, created } = await sendMessage(getDeps(withAttachments), req.user(), roomId, input);
  return { status: created ? 201 : 200, body: message };
});
