import type { Deps } from '#shared/ports/runtime.ts';
import type { User } from '#shared/model.ts';
import { notFound } from '#shared/errors.ts';
import { requireSeatWithLatest } from './access.ts';
import { findMessage } from './messages.ts';
import { unreadCount, withActivity } from './rooms.ts';

/**
 * Everything up to and including `messageId` is read. The mark only moves forward; when it
 * moves, the room hears `messages_read` (through the stream).
 */
export async function markRead(deps: Deps, actor: User, roomId: string, messageId: string): Promise<{ lastReadSeq: number; unreadCount: number }> {
  const { room, seat, latest } = await requireSeatWithLatest(deps, roomId, actor.userId);
  // Most receipts are for the newest message: read with the room already.
  const message = latest?.id === messageId ? latest : await findMessage(deps, roomId, messageId);
  if (!message) throw notFound('Message');
  const lastReadSeq = Math.max(seat.lastReadSeq, message.seq);
  if (message.seq > seat.lastReadSeq) {
    await deps.rooms.markRead(roomId, actor.userId, message.seq, message.id, deps.clock.now().toISOString());
  }
  return { lastReadSeq, unreadCount: unreadCount(withActivity(room, latest), { lastReadSeq }) };
}
