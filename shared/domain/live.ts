import type { ConnectionRecord, ConnectionTarget, MemberRecord } from '#shared/model.ts';
import type { Deps } from '#shared/ports/runtime.ts';
import { CONNECTION_TTL_SECONDS } from './connections.ts';

/**
 * Live lists: each room lists the open connections of its members, one item per connection in a
 * partition of the room's list (`LIVE#<roomId>`), so that a fan-out reads its recipients in one
 * Query instead of every member's presence (docs/design.md, *Live lists*). The stream fan-out
 * keeps them, from records it is woken by anyway:
 *
 * - a connection item's insert lists the connection in the rooms its user has a seat in (read
 *   strongly consistent), before the connection is greeted (after which the client catches up);
 * - a member item's insert lists the member's open connections (their presence item, strongly
 *   consistent) in the room, in the room's order: before any later message of the room;
 * - a member item's removal and a connection item's removal take them off again.
 *
 * `$connect` writes the presence item before the connection item, so a connect racing a join is
 * listed by whichever of the two is handled second: the connect's seat read misses the seat only
 * if the seat was written after it, and then the join's presence read comes later still. An entry
 * that a connect writes just after a removal took it off lists a non-member: the fan-out keeps
 * only the room's members, so it reaches no one, and it expires with its connection.
 */

/** Connections opened before the lists were kept have no entries: they close within this. */
export const LIVE_LISTS_GRACE_MS = CONNECTION_TTL_SECONDS * 1000;

const expiry = (connectedAt: string) => Math.floor(Date.parse(connectedAt) / 1000) + CONNECTION_TTL_SECONDS;
const target = (c: ConnectionRecord): ConnectionTarget => ({ connectionId: c.connectionId, userId: c.userId, ...(c.scopeRoomId !== undefined && { scopeRoomId: c.scopeRoomId }) });

/** A new connection (its item's insert): listed in every room of its user. */
export async function listConnection(deps: Deps, c: ConnectionRecord): Promise<void> {
  await deps.connections.markLiveListsSince(deps.clock.now().toISOString());
  const roomIds = await deps.rooms.seatRoomIdsNow(c.userId);
  if (roomIds.length > 0) await deps.connections.listLive(roomIds, [target(c)], expiry(c.connectedAt));
}

/** A closed or expired connection (its item's removal): off the lists of every room of its user. */
export async function unlistConnection(deps: Deps, c: ConnectionRecord): Promise<void> {
  const roomIds = await deps.rooms.seatRoomIdsNow(c.userId);
  if (roomIds.length > 0) await deps.connections.unlistLive(roomIds, [c.connectionId]);
}

/** A new member (their item's insert): their open connections listed in the room. */
export async function listMember(deps: Deps, m: MemberRecord): Promise<void> {
  const { connections, expiresAt } = await deps.connections.openConnectionsOf(m.userId);
  if (connections.length > 0 && expiresAt !== undefined) await deps.connections.listLive([m.roomId], connections, Math.floor(Date.parse(expiresAt) / 1000));
}

/** A member gone (their item's removal): their open connections off the room's list, and returned. */
export async function unlistMember(deps: Deps, m: MemberRecord): Promise<ConnectionTarget[]> {
  const { connections } = await deps.connections.openConnectionsOf(m.userId);
  if (connections.length > 0) await deps.connections.unlistLive([m.roomId], connections.map((c) => c.connectionId));
  return connections;
}

/**
 * Whether the rooms' lists hold every open connection: only once the connections opened before
 * they were kept (the marker's time) have all closed. Until then a fan-out reads presence.
 */
export async function liveListsServe(deps: Deps): Promise<boolean> {
  const since = await deps.connections.liveListsSince();
  return since !== undefined && Date.parse(since) + LIVE_LISTS_GRACE_MS <= deps.clock.now().getTime();
}
