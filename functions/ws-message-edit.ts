import { wsHandler } from '#shared/adapters/apigw/ws.ts';
import { messageEditFrame } from '#shared/schemas/frames.ts';
import { editMessage } from '#shared/domain/messages.ts';
import { getDeps, withAttachments, withRateLimits } from './lib/deps.ts';

/** `message_edit` → `ack` with the edited message; the room gets `message_edited` through the stream. */
export const handler = wsHandler(messageEditFrame, async ({ roomId, messageId, content }, { user }) =>
  editMessage(getDeps(withAttachments, withRateLimits), user, roomId, messageId, content),
);
