import type { Deps } from '#shared/ports/runtime.ts';
import type { User } from '#shared/model.ts';
import { conflict, notFound, validationFailed } from '#shared/errors.ts';
import { requireMembership } from './access.ts';
import { limit } from './rate-limit.ts';
import { CHANGE_TTL_SECONDS, findMessage, viewOf } from './messages.ts';
import type { MessageView } from './views.ts';

async function reactable(deps: Deps, actor: User, roomId: string, messageId: string) {
  const [{ room }] = await Promise.all([requireMembership(deps, roomId, actor.userId), limit(deps, actor.userId, 'write')]);
  const message = await findMessage(deps, roomId, messageId);
  if (!message) throw notFound('Message');
  if (message.deletedAt) throw conflict('The message was deleted');
  return { room, message };
}

/** Adds my reaction; adding it again changes nothing. A message holds at most 50 distinct emoji. */
export async function addReaction(deps: Deps, actor: User, roomId: string, messageId: string, emoji: string): Promise<MessageView> {
  const { room, message } = await reactable(deps, actor, roomId, messageId);
  const present = await deps.messages.reactionEmoji(roomId, message.seq);
  if (!present.has(emoji) && present.size >= deps.settings.maxReactionsPerMessage) {
    throw validationFailed(`A message holds at most ${deps.settings.maxReactionsPerMessage} different emoji`);
  }
  // The first reaction above the room's mark raises it (one write of the room item, once per
  // message reacted to, the room read strongly just now): the room list then reads the newest
  // message's reactions only when it has had some. Before the reaction, so none lies above it.
  if (room.reactedSeq !== undefined && message.seq > room.reactedSeq) await deps.rooms.markReacted(roomId, message.seq);
  const at = deps.clock.now().toISOString();
  if (await deps.messages.addReaction({ roomId, messageId, seq: message.seq, emoji, userId: actor.userId, createdAt: at })) {
    await deps.messages.recordChange({ roomId, seq: message.seq, messageId, kind: 'reactions', at }, CHANGE_TTL_SECONDS);
  }
  return viewOf(deps, message, actor.userId);
}

/** Removes my reaction; removing one I never added changes nothing. */
export async function removeReaction(deps: Deps, actor: User, roomId: string, messageId: string, emoji: string): Promise<MessageView> {
  const { message } = await reactable(deps, actor, roomId, messageId);
  if (await deps.messages.removeReaction(roomId, message.seq, emoji, actor.userId)) {
    const at = deps.clock.now().toISOString();
    await deps.messages.recordChange({ roomId, seq: message.seq, messageId, kind: 'reactions', at }, CHANGE_TTL_SECONDS);
  }
  return viewOf(deps, message, actor.userId);
}
