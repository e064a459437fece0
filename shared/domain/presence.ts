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
 * and capped. Cost: 1 index query + a first page of each room's live list; then, for the rooms
 * whose list holds someone else only, 1 batch read of the rooms and the user's member items, and 1
 * query of member ids a room kept. Before the lists serve: the batch read and the member ids of
 * every room, then a presence read per recipient. Then 1 PostToConnection per connection reached.
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
  const connections = (await liveListsServe(deps)) ? await listedOthers(deps, p.userId, page.items) : await presentOthers(deps, p.userId, page.items);
  if (connections.length === 0) return { sent: 0, gone: 0 };
  const frame: ServerFrame = { type: 'presence_changed', userId: p.userId, status: p.status, ...(p.lastSeenAt && { lastSeenAt: p.lastSeenAt }) };
  // Presence is best effort: one failing post must not hold the stream (and every later event) back.
  return deliver(deps, connections, frame).catch(() => ({ sent: 0, gone: 0 }));
}

/**
 * The members of those of the rooms the user is a member of and that hold at most maxRoomSize
 * members, other than the user, up to maxRecipients; and the rooms they were read from.
 */
async function recipientsIn(deps: Deps, userId: string, roomIds: readonly string[]): Promise<{ recipients: Set<string>; read: string[] }> {
  const recipients = new Set<string>();
  const read: string[] = [];
  if (roomIds.length === 0) return { recipients, read };
  const rooms = (await deps.rooms.getRoomsWithMember([...roomIds], userId)).filter((r) => r.room.memberCount <= PRESENCE_FANOUT.maxRoomSize);
  // A few rooms' member ids at once, in the rooms' order, until the cap is reached.
  for (let i = 0; i < rooms.length && recipients.size < PRESENCE_FANOUT.maxRecipients; i += MEMBER_READS_AT_ONCE) {
    const wave = rooms.slice(i, i + MEMBER_READS_AT_ONCE).map(({ room }) => room.roomId);
    const ids = await Promise.all(wave.map((roomId) => deps.rooms.listMemberIds(roomId)));
    for (const [j, roomId] of wave.entries()) {
      if (recipients.size >= PRESENCE_FANOUT.maxRecipients) break;
      read.push(roomId);
      for (const id of ids[j]!) {
        if (recipients.size >= PRESENCE_FANOUT.maxRecipients) break;
        // Not the user's own connections: a new one may still be inside its $connect, where a post fails.
        if (id !== userId) recipients.add(id);
      }
    }
  }
  return { recipients, read };
}

/** Rooms whose member ids a presence change reads at once: a user in many small rooms waits for few round trips. */
const MEMBER_READS_AT_ONCE = 10;

/** Before the lists serve: the recipients' connections from their presence items. */
async function presentOthers(deps: Deps, userId: string, roomIds: readonly string[]): Promise<ConnectionTarget[]> {
  const { recipients } = await recipientsIn(deps, userId, roomIds);
  return recipients.size === 0 ? [] : deps.connections.connectionsOf([...recipients]);
}

/**
 * From the live lists: a first page of each room's list, read before anything else, so that a
 * user whose rooms hold no one else online costs half a read unit a room. Only the rooms whose
 * list holds another user's connection are read further (size, the user's membership, member
 * ids); a listed connection is reached only if its user is a member (live.ts: an entry may
 * briefly list a non-member), each once.
 */
async function listedOthers(deps: Deps, userId: string, roomIds: readonly string[]): Promise<ConnectionTarget[]> {
  const firsts = new Map(await Promise.all(roomIds.map(async (roomId) => [roomId, await deps.connections.liveFirstPage(roomId)] as const)));
  const busy = roomIds.filter((roomId) => {
    const first = firsts.get(roomId)!;
    return first.more || first.connections.some((c) => c.userId !== userId);
  });
  const { recipients, read } = await recipientsIn(deps, userId, busy);
  if (recipients.size === 0) return [];
  const found = new Map<string, ConnectionTarget>();
  const keep = (page: readonly ConnectionTarget[]) => page.forEach((c) => recipients.has(c.userId) && found.set(c.connectionId, c));
  await Promise.all(
    read.map(async (roomId) => {
      const first = firsts.get(roomId)!;
      if (first.more) await deps.connections.liveIn(roomId, keep);
      else keep(first.connections);
    }),
  );
  return [...found.values()];
}
