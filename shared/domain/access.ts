import type { Deps } from '#shared/ports/runtime.ts';
import type { MemberRecord, MessageRecord, RoomRecord, SeatRecord } from '#shared/model.ts';
import { forbidden, notFound } from '#shared/errors.ts';

/**
 * The room and the caller's membership, or the reason they may not touch it:
 * `not_found` for no such room, `forbidden` for a non-member.
 */
export async function requireMembership(deps: Pick<Deps, 'rooms'>, roomId: string, userId: string, opts?: { consistent?: boolean }): Promise<{ room: RoomRecord; member: MemberRecord }> {
  const { room, member } = await deps.rooms.getRoomAndMember(roomId, userId, opts);
  if (!room) throw notFound('Room');
  if (!member) throw forbidden('You are not a member of this room');
  return { room, member };
}

/**
 * `requireMembership` with the room's newest message, read with the room (one Query) beside the
 * member item. Both strongly consistent unless `consistent: false`; `roomConsistent` sets the
 * room's read apart (the send reads its member item eventually consistent, the room strongly).
 */
export async function requireMembershipWithLatest(
  deps: Pick<Deps, 'rooms'>,
  roomId: string,
  userId: string,
  opts: { consistent?: boolean; roomConsistent?: boolean } = {},
): Promise<{ room: RoomRecord; member: MemberRecord; latest?: MessageRecord }> {
  const consistent = opts.consistent ?? true;
  const [{ room, latest }, member] = await Promise.all([
    deps.rooms.getRoomWithLatest(roomId, { consistent: opts.roomConsistent ?? consistent }),
    consistent ? deps.rooms.getMemberNow(roomId, userId) : deps.rooms.getMember(roomId, userId),
  ]);
  if (!room) throw notFound('Room');
  if (!member) throw forbidden('You are not a member of this room');
  return { room, member, ...(latest && { latest }) };
}

/**
 * The room with its newest message, and the caller's seat (read marks, send window and claims)
 * rather than their member item: what a send and a receipt read and write. The seat is read
 * strongly unless `consistent: false`; the room always is.
 */
export async function requireSeatWithLatest(
  deps: Pick<Deps, 'rooms'>,
  roomId: string,
  userId: string,
  opts: { consistent?: boolean } = {},
): Promise<{ room: RoomRecord; seat: SeatRecord; latest?: MessageRecord }> {
  const [{ room, latest }, seat] = await Promise.all([
    deps.rooms.getRoomWithLatest(roomId, { consistent: true }),
    deps.rooms.getSeat(roomId, userId, { consistent: opts.consistent ?? true }),
  ]);
  if (!room) throw notFound('Room');
  if (!seat) throw forbidden('You are not a member of this room');
  return { room, seat, ...(latest && { latest }) };
}
