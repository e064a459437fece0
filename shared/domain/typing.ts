import type { Deps } from '#shared/ports/runtime.ts';
import type { User } from '#shared/model.ts';
import { conflict } from '#shared/errors.ts';
import { requireMembership } from './access.ts';
import { deliverToRoom, type Delivery } from './deliver.ts';

/** A typing indicator lasts this long unless refreshed. */
export const TYPING_SECONDS = 5;

/**
 * Relays `user_typing` straight to the other members' connections (no stream round trip), and
 * remembers it for `GET /rooms/{roomId}/typing` until it expires.
 */
export async function setTyping(deps: Deps, actor: User, roomId: string, isTyping: boolean): Promise<Delivery> {
  const { room } = await requireMembership(deps, roomId, actor.userId);
  if (room.archivedAt) throw conflict('The room is archived');
  const until = new Date(deps.clock.now().getTime() + TYPING_SECONDS * 1000).toISOString();
  await (isTyping
    ? deps.typing.putTyping({ roomId, userId: actor.userId, displayName: actor.displayName, until })
    : deps.typing.clearTyping(roomId, actor.userId));
  return deliverToRoom(
    deps,
    roomId,
    { type: 'user_typing', roomId, userId: actor.userId, displayName: actor.displayName, isTyping },
    { except: { userId: actor.userId } },
  );
}

/** Who is typing in the room now. */
export async function listTyping(deps: Deps, actor: User, roomId: string): Promise<{ items: { userId: string; displayName: string; until: string }[] }> {
  await requireMembership(deps, roomId, actor.userId);
  const now = deps.clock.now().toISOString();
  const items = (await deps.typing.listTyping(roomId))
    .filter((t) => t.until > now)
    .map(({ userId, displayName, until }) => ({ userId, displayName, until }));
  return { items };
}
