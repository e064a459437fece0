import { wsHandler } from '#shared/adapters/apigw/ws.ts';
import { messageSendFrame } from '#shared/schemas/frames.ts';
import { sendMessage } from '#shared/domain/messages.ts';
import { getDeps, withAttachments } from './lib/deps.ts';

/** `message_send` → `ack` with the stored message; everyone gets `message_new` through the stream. */
export const handler = wsHandler(messageSendFrame, async ({ type: _type, requestId: _requestId, roomId, ...input }, { user }) => {
  const { message } = await sendMessage(getDeps(withAttachments), user, roomId, input);
  return message;
});
