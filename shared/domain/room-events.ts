import type { Deps } from '#shared/ports/runtime.ts';
import type { MemberRecord, RoomRecord } from '#shared/model.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';
import { deliver, deliverToRoom, type Delivery } from './deliver.ts';
import { roomView } from './views.ts';
import { listMember, unlistMember } from './live.ts';

const none: Delivery = { sent: 0, gone: 0 };

/**
 * The new member's open connections listed in the room (live.ts), then `user_joined` to the room,
 * the new member included; the members a room starts with get none.
 */
export async function announceJoin(deps: Deps, m: MemberRecord): Promise<Delivery> {
  const [room] = await Promise.all([deps.rooms.getRoom(m.roomId), listMember(deps, m)]);
  if (!room || room.createdAt === m.joinedAt) return none;
  return deliverToRoom(deps, m.roomId, { type: 'user_joined', roomId: m.roomId, userId: m.userId, displayName: m.displayName, role: m.role });
}

/**
 * `user_left` to the remaining members and to every connection of the one who left; their
 * connections scoped to this room are then closed. Everything later is fanned out from the
 * membership as it is then, so nothing more of the room reaches them. A seat the removal left
 * (a function deployed before seats removed the member item alone) goes first: with it, the
 * removed member could still send; and so do their entries in the room's live list (live.ts),
 * whose read of their open connections (strongly consistent) is also the one `user_left` goes to.
 */
export async function announceLeave(deps: Deps, m: MemberRecord): Promise<Delivery> {
  const [, theirs] = await Promise.all([deps.rooms.removeSeatOf(m), unlistMember(deps, m)]);
  const frame: ServerFrame = { type: 'user_left', roomId: m.roomId, userId: m.userId, displayName: m.displayName };
  const toRoom = await deliverToRoom(deps, m.roomId, frame);
  const own = theirs.filter((c) => c.scopeRoomId === undefined || c.scopeRoomId === m.roomId);
  const toThem = await deliver(deps, own, frame, async (c, outcome) => {
    if (c.scopeRoomId === m.roomId && outcome === 'sent') await deps.broadcaster.disconnect(c.connectionId);
  });
  return { sent: toRoom.sent + toThem.sent, gone: toRoom.gone + toThem.gone };
}

export function announceRoom(deps: Deps, room: RoomRecord, kind: 'room_updated' | 'room_archived'): Promise<Delivery> {
  const frame: ServerFrame = kind === 'room_updated' ? { type: 'room_updated', room: roomView(room) } : { type: 'room_archived', roomId: room.roomId };
  return deliverToRoom(deps, room.roomId, frame);
}
