import type { Deps } from '#shared/ports/runtime.ts';
import type { MemberRecord, RoomRecord } from '#shared/model.ts';
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
