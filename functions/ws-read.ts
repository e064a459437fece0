import { wsHandler } from '#shared/adapters/apigw/ws.ts';
import { readFrame } from '#shared/schemas/frames.ts';
import { markRead } from '#shared/domain/receipts.ts';
import { getDeps } from './lib/deps.ts';

/** `read` → `ack` with `{lastReadSeq, unreadCount}`; the room gets `messages_read` through the stream. */
export const handler = wsHandler(readFrame, async ({ roomId, messageId }, { user }) => markRead(getDeps(), user, roomId, messageId));
