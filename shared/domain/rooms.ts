import { createHash } from 'node:crypto';
import type { Deps } from '#shared/ports/runtime.ts';
import type { MemberRecord, MessageRecord, ReadMark, RoomRecord, SeatRecord, User } from '#shared/model.ts';
import { AppError, validationFailed } from '#shared/errors.ts';
import { requireMembershipWithLatest } from './access.ts';
import { limit } from './rate-limit.ts';
import { ROOM_LIMITS, type CreateRoomInput } from '#shared/schemas/rooms.ts';
import { roomView, type MessageView, type RoomView } from './views.ts';
import { viewOf } from './messages.ts';
import { isCount, openCursor, sealCursor } from './cursors.ts';

/** Direct rooms have one id per pair of users, so creating one twice finds the first. */
export function directRoomId(a: string, b: string): string {
  const [x, y] = [a, b].sort();
  return `dm_${createHash('sha256').update(`${x}\n${y}`).digest('base64url').slice(0, 32)}`;
}

export async function createRoom(deps: Deps, actor: User, input: CreateRoomInput): Promise<{ room: RoomView; created: boolean }> {
  await limit(deps, actor.userId, 'write');
  const now = deps.clock.now().toISOString();
  const others = [...new Set(input.memberIds)].filter((id) => id !== actor.userId);
  if (input.type === 'direct' && others.length !== 1) {
    throw validationFailed('A direct room has exactly one other member', { issues: [{ path: 'memberIds', message: 'give exactly one other user id' }] });
  }
  const maxMembers = input.type === 'direct' ? 2 : (input.maxMembers ?? ROOM_LIMITS.defaultMaxMembers);
  if (others.length + 1 > maxMembers) {
    throw validationFailed(`A room of at most ${maxMembers} members cannot start with ${others.length + 1}`);
  }
  const roomId = input.type === 'direct' ? directRoomId(actor.userId, others[0]!) : deps.ids.newId();
  const room: RoomRecord = {
    roomId,
    type: input.type,
    ...(input.name !== undefined && { name: input.name }),
    ...(input.description !== undefined && { description: input.description }),
    visibility: input.visibility ?? 'private',
    maxMembers,
    ...(input.context && { context: input.context }),
    createdBy: actor.userId,
    createdAt: now,
    memberCount: others.length + 1,
    lastSeq: 0,
    lastActivityAt: now,
  };
  const member = (userId: string, displayName: string, role: MemberRecord['role']): MemberRecord => ({
    roomId,
    userId,
    displayName,
    role,
    joinedAt: now,
  });
  const members = [
    member(actor.userId, actor.displayName, input.type === 'direct' ? 'member' : 'admin'),
    ...others.map((id) => member(id, id, 'member')),
  ];
  try {
    await deps.rooms.createRoom(room, members, deps.levelCopies);
    if (room.visibility === 'public') await deps.rooms.listPublic(room);
    return { room: roomView(room), created: true };
  } catch (err) {
    if (input.type === 'direct' && err instanceof AppError && err.code === 'conflict') {
      const existing = await deps.rooms.getRoom(roomId);
      if (existing) return { room: roomView(existing), created: false };
    }
    throw err;
  }
}

export async function getRoom(deps: Deps, actor: User, roomId: string): Promise<RoomView> {
  const { room, latest } = await requireMembershipWithLatest(deps, roomId, actor.userId);
  return roomView(withActivity(room, latest));
}

/**
 * The room with its last seq and activity time taken from its newest message: sends write the
 * message and the sender's member item only, never the room item (whose own fields are what
 * the room had when it was created or last changed).
 */
export function withActivity(room: RoomRecord, latest: MessageRecord | undefined): RoomRecord {
  if (!latest || latest.seq <= room.lastSeq) return room;
  return { ...room, lastSeq: latest.seq, lastActivityAt: latest.createdAt > room.lastActivityAt ? latest.createdAt : room.lastActivityAt };
}

export interface MyRoom {
  room: RoomView;
  /** What to call the room: its name, or for a direct room the other member's name. */
  displayName: string;
  role: MemberRecord['role'];
  unreadCount: number;
  lastReadSeq: number;
  lastMessage?: MessageView;
}

/**
 * Each of the user's rooms with its newest message and the user's seat there: one Query of the
 * user's seats (every room they are in, with role and read mark), then one Query a room for the
 * room and its newest message together; none depends on message counts. Eventually consistent
 * (half the units): the list may lag a second.
 */
async function myRoomsWithLatest(deps: Deps, userId: string): Promise<{ room: RoomRecord; seat: SeatRecord; latest?: MessageRecord }[]> {
  const seats = await deps.rooms.listSeats(userId);
  const rooms = await deps.rooms.getRoomsWithLatest(seats.map((s) => s.roomId));
  return seats.flatMap((seat) => {
    const r = rooms.get(seat.roomId);
    return r ? [{ room: withActivity(r.room, r.latest), seat, ...(r.latest && { latest: r.latest }) }] : [];
  });
}

/**
 * My rooms, most recent activity first (the newest message orders them). Cost: `myRoomsWithLatest`, then the reactions of each newest message shown that
 * may have some (at or below its room's `reactedSeq`).
 */
export async function listMyRooms(deps: Deps, actor: User, q: { limit: number; cursor?: string }): Promise<{ items: MyRoom[]; nextCursor?: string }> {
  const ordered = (await myRoomsWithLatest(deps, actor.userId)).sort((a, b) => b.room.lastActivityAt.localeCompare(a.room.lastActivityAt) || a.room.roomId.localeCompare(b.room.roomId));
  const scope = { list: 'rooms', userId: actor.userId } as const;
  const start = q.cursor ? await openCursor(deps.cursorKey, scope, q.cursor, ([o, ...rest]) => (isCount(o) && rest.length === 0 ? o : undefined)) : 0;
  const page = ordered.slice(start, start + q.limit);
  const items = await Promise.all(
    page.map(async ({ room, seat, latest: last }): Promise<MyRoom> => {
      return {
        room: roomView(room),
        displayName: room.type === 'direct' ? await directRoomName(deps, room.roomId, actor.userId) : (room.name ?? ''),
        role: seat.role,
        unreadCount: unreadCount(room, seat),
        lastReadSeq: seat.lastReadSeq,
        ...(last && { lastMessage: await viewOf(deps, last, actor.userId, { unreacted: room.reactedSeq !== undefined && last.seq > room.reactedSeq }) }),
      };
    }),
  );
  const next = start + q.limit;
  return next < ordered.length ? { items, nextCursor: await sealCursor(deps.cursorKey, scope, [next]) } : { items };
}

/** The other member's name (one two-item query); a name never learned falls back to the one they connect with. */
async function directRoomName(deps: Deps, roomId: string, userId: string): Promise<string> {
  const other = (await deps.rooms.listMembers(roomId)).find((m) => m.userId !== userId);
  if (!other) return '';
  if (other.displayName !== other.userId) return other.displayName;
  const [p] = await deps.connections.getPresence([other.userId]);
  return p?.displayName ?? other.userId;
}

/** Every room the user belongs to: their seats, one Query. */
export async function myRoomIds(deps: Deps, userId: string): Promise<string[]> {
  return (await deps.rooms.listSeats(userId)).map((s) => s.roomId);
}

/** Messages after my read mark; my own sends move the mark, so they never count. */
export const unreadCount = (room: RoomRecord, mark: Pick<ReadMark, 'lastReadSeq'>): number => Math.max(0, room.lastSeq - mark.lastReadSeq);

/** `GET /unread`: the total and each room with something unread. */
export async function listUnread(deps: Deps, actor: User): Promise<{ total: number; rooms: { roomId: string; unreadCount: number }[] }> {
  const rooms = (await myRoomsWithLatest(deps, actor.userId))
    .map(({ room, seat }) => ({ roomId: room.roomId, unreadCount: unreadCount(room, seat) }))
    .filter((r) => r.unreadCount > 0);
  return { total: rooms.reduce((sum, r) => sum + r.unreadCount, 0), rooms };
}

