import { createHash } from 'node:crypto';
import type { Deps, MemberRecord, RoomRecord, User } from '../ports.ts';
import { AppError, forbidden, notFound, validationFailed } from '../errors.ts';
import { ROOM_LIMITS, type CreateRoomInput } from '../schemas/rooms.ts';
import { messageView, roomView, type MessageView, type RoomView } from './views.ts';

/**
 * The room and the caller's membership, or the reason they may not touch it:
 * `not_found` for no such room, `forbidden` for a non-member.
 */
export async function requireMembership(deps: Deps, roomId: string, userId: string): Promise<{ room: RoomRecord; member: MemberRecord }> {
  const { room, member } = await deps.rooms.getRoomAndMember(roomId, userId);
  if (!room) throw notFound('Room');
  if (!member) throw forbidden('You are not a member of this room');
  return { room, member };
}

/** Direct rooms have one id per pair of users, so creating one twice finds the first. */
export function directRoomId(a: string, b: string): string {
  const [x, y] = [a, b].sort();
  return `dm_${createHash('sha256').update(`${x}\n${y}`).digest('base64url').slice(0, 32)}`;
}

export async function createRoom(deps: Deps, actor: User, input: CreateRoomInput): Promise<{ room: RoomView; created: boolean }> {
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
    lastReadSeq: 0,
  });
  const members = [
    member(actor.userId, actor.displayName, input.type === 'direct' ? 'member' : 'admin'),
    ...others.map((id) => member(id, id, 'member')),
  ];
  try {
    await deps.rooms.createRoom(room, members);
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
  const { room } = await requireMembership(deps, roomId, actor.userId);
  return roomView(room);
}

export interface MyRoom {
  room: RoomView;
  role: MemberRecord['role'];
  unreadCount: number;
  lastReadSeq: number;
  lastMessage?: MessageView;
}

/**
 * My rooms, most recent activity first. Cost: one GSI query for my memberships, one batch read of
 * the rooms, one single-item query per room for its last message; none depends on message counts.
 */
export async function listMyRooms(deps: Deps, actor: User, q: { limit: number; cursor?: string }): Promise<{ items: MyRoom[]; nextCursor?: string }> {
  const memberships: MemberRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.rooms.listMemberships(actor.userId, 100, cursor);
    memberships.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  const rooms = new Map((await deps.rooms.getRooms(memberships.map((m) => m.roomId))).map((r) => [r.roomId, r]));
  const ordered = memberships
    .filter((m) => rooms.has(m.roomId))
    .map((m) => ({ m, r: rooms.get(m.roomId)! }))
    .sort((a, b) => b.r.lastActivityAt.localeCompare(a.r.lastActivityAt) || a.r.roomId.localeCompare(b.r.roomId));
  const start = q.cursor ? decodeOffset(q.cursor) : 0;
  const page = ordered.slice(start, start + q.limit);
  const latest = await deps.messages.latestMessages(page.filter((p) => p.r.lastSeq > 0).map((p) => p.r.roomId));
  const items = page.map(({ m, r }): MyRoom => {
    const last = latest.get(r.roomId);
    return {
      room: roomView(r),
      role: m.role,
      unreadCount: Math.max(0, r.lastSeq - m.lastReadSeq),
      lastReadSeq: m.lastReadSeq,
      ...(last && { lastMessage: messageView(last) }),
    };
  });
  const next = start + q.limit;
  return next < ordered.length ? { items, nextCursor: encodeOffset(next) } : { items };
}

const encodeOffset = (n: number) => Buffer.from(JSON.stringify({ o: n })).toString('base64url');
function decodeOffset(cursor: string): number {
  try {
    const o = (JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { o?: unknown }).o;
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // fall through
  }
  throw validationFailed('Invalid cursor');
}
