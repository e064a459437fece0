import type { Deps } from '#shared/ports/runtime.ts';
import type { User } from '#shared/model.ts';
import { notFound } from '#shared/errors.ts';
import { requireMembership } from './access.ts';
import { findMessage } from './messages.ts';
import { unreadCount } from './rooms.ts';

/**
 * Everything up to and including `messageId` is read. The mark only moves forward; when it
 * moves, the room hears `messages_read` (through the stream).
 */
export async function markRead(deps: Deps, actor: User, roomId: string, messageId: string): Promise<{ lastReadSeq: number; unreadCount: number }> {
  const [{ room, member }, latestSeq] = await Promise.all([requireMembership(deps, roomId, actor.userId), deps.messages.latestSeq(roomId)]);
  const message = await findMessage(deps, roomId, messageId);
  if (!message) throw notFound('Message');
  const lastReadSeq = Math.max(member.lastReadSeq, message.seq);
  if (message.seq > member.lastReadSeq) {
    await deps.rooms.markRead(roomId, actor.userId, message.seq, message.id, deps.clock.now().toISOString());
  }
  return { lastReadSeq, unreadCount: unreadCount({ ...room, lastSeq: Math.max(room.lastSeq, latestSeq) }, { ...member, lastReadSeq }) };
}
