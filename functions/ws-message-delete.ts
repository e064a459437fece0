import { wsHandler } from '#shared/adapters/apigw/ws.ts';
import { messageDeleteFrame } from '#shared/schemas/frames.ts';
import { deleteMessage } from '#shared/domain/messages.ts';
import { getDeps, withAttachments, withRateLimits } from './lib/deps.ts';

/** `message_delete` → `ack` with the tombstone; the room gets `message_deleted` through the stream. */
export const handler = wsHandler(messageDeleteFrame, async ({ roomId, messageId }, { user }) => deleteMessage(getDeps(withAttachments, withRateLimits), user, roomId, messageId));
