import type { ConnectionTarget, PresenceRecord, User } from '#shared/model.ts';
import type { Deps } from '#shared/ports/runtime.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';
import { forbidden } from '#shared/errors.ts';
import { limit } from './rate-limit.ts';
import { deliver, type Delivery } from './deliver.ts';
import { liveListsServe } from './live.ts';

/**
 * Bounds of a `presence_changed` fan-out (docs/design.md): the user's first rooms only, rooms
 * above a size left out (their members see presence in the member list), recipients deduplicated
 * and capped. Cost: 1 index query + 1 batch read of rooms + 2 queries per room kept (its member
 * ids and its live list; before the lists serve, a presence read per recipient instead of the
 * list) + 1 PostToConnection per open connection of a recipient.
 */
export const PRESENCE_FANOUT = { maxRooms: 100, maxRoomSize: 100, maxRecipients: 500 } as const;

/** `presence_set` / `PUT /me/presence`: away or busy (or online again) while connected. */
export async function setPresence(deps: Deps, actor: User, status: 'online' | 'away' | 'busy'): Promise<PresenceRecord> {
  await limit(deps, actor.userId, 'write');
  const now = deps.clock.now().toISOString();
  await deps.connections.setStatus(actor.userId, actor.displayName, status, now);
  const [p] = await deps.connections.getPresence([actor.userId]);
  return publicPresence(p ?? { userId: actor.userId, status: 'offline' });
}

/** `GET /presence?userIds=`: only users who share a room with the caller, or the caller. */
export async function getPresence(deps: Deps, actor: User, userIds: string[]): Promise<{ items: PresenceRecord[] }> {
  const others = userIds.filter((u) => u !== actor.userId);
  if (others.length > 0) {
    const visible = await sharesARoom(deps, actor.userId, others);
    const hidden = others.filter((u) => !visible.has(u));
    if (hidden.length > 0) throw forbidden(`You share no room with ${hidden.slice(0, 5).join(', ')}`);
  }
  return { items: (await deps.connections.getPresence(userIds)).map(publicPresence) };
}

const publicPresence = (p: PresenceRecord): PresenceRecord => ({ userId: p.userId, status: p.status, ...(p.lastSeenAt && { lastSeenAt: p.lastSeenAt }) });

/** Which of `userIds` share at least one room with `userId` (reads the caller's rooms' member items only). */
async function sharesARoom(deps: Deps, userId: string, userIds: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await deps.rooms.listMembershipRoomIds(userId, 100, cursor);
    await Promise.all(
      page.items.map(async (roomId) => {
        const wanted = userIds.filter((u) => !found.has(u));
        if (wanted.length === 0) return;
        for (const m of await deps.rooms.getMembers(roomId, wanted)) found.add(m.userId);
      }),
    );
    cursor = page.cursor;
  } while (cursor && found.size < userIds.length);
  return found;
}

/**
 * Sends `presence_changed` to the members of the rooms the user shares with them, within
 * PRESENCE_FANOUT: their connections from each room's live list (live.ts), or from their presence
 * before the lists serve.
 */
export async function announcePresence(deps: Deps, p: PresenceRecord): Promise<Delivery> {
  const page = await deps.rooms.listMembershipRoomIds(p.userId, PRESENCE_FANOUT.maxRooms);
  const rooms = (await deps.rooms.getRoomsWithMember(page.items, p.userId)).filter((r) => r.room.memberCount <= PRESENCE_FANOUT.maxRoomSize);
  // Not the user's own connections: a new one may still be inside its $connect, where a post fails.
  const recipients = new Set<string>();
  const read: string[] = [];
  for (const { room } of rooms) {
    if (recipients.size >= PRESENCE_FANOUT.maxRecipients) break;
    read.push(room.roomId);
    for (const id of await deps.rooms.listMemberIds(room.roomId)) {
      if (recipients.size >= PRESENCE_FANOUT.maxRecipients) break;
      recipients.add(id);
    }
  }
  const frame: ServerFrame = { type: 'presence_changed', userId: p.userId, status: p.status, ...(p.lastSeenAt && { lastSeenAt: p.lastSeenAt }) };
  recipients.delete(p.userId);
  if (recipients.size === 0) return { sent: 0, gone: 0 };
  const connections = (await liveListsServe(deps)) ? await listedIn(deps, read, recipients) : await deps.connections.connectionsOf([...recipients]);
  // Presence is best effort: one failing post must not hold the stream (and every later event) back.
  return deliver(deps, connections, frame).catch(() => ({ sent: 0, gone: 0 }));
}

/** The connections of `recipients` listed in the rooms' live lists, each once: a Query a room, whatever its members' number. */
async function listedIn(deps: Deps, roomIds: readonly string[], recipients: ReadonlySet<string>): Promise<ConnectionTarget[]> {
  const found = new Map<string, ConnectionTarget>();
  await Promise.all(roomIds.map((roomId) => deps.connections.liveIn(roomId, (page) => page.forEach((c) => recipients.has(c.userId) && found.set(c.connectionId, c)))));
  return [...found.values()];
}
