import type { Deps } from '#shared/ports/runtime.ts';
import type { MemberRecord, PresenceRecord, PublicRoomPosition, Role, RoomRecord, User } from '#shared/model.ts';
import { conflict, forbidden, notFound, validationFailed } from '#shared/errors.ts';
import type { AddMemberInput, UpdateRoomInput } from '#shared/schemas/people.ts';
import { requireMembership } from './access.ts';
import { appendMessage } from './messages.ts';
import { limit } from './rate-limit.ts';
import { memberView, roomView, type RoomView } from './views.ts';
import { isText, openCursor, sealCursor } from './cursors.ts';
import { roomIdSchema } from '#shared/schemas/common.ts';

/**
 * Roles (docs/rooms-and-people.md):
 * - admin: everything below, plus change roles, update and archive the room, remove anyone.
 * - moderator: add members (as `member`), remove members (not admins or moderators), delete any message.
 * - member: post, edit and delete their own messages, leave.
 * The last admin cannot leave or step down while others remain: they hand the role over first.
 */

/** Who the system messages name: the actor, or `system` for the host platform. */
export const SYSTEM_USER: User = { userId: 'system', displayName: 'System' };

const ROLE_NAMES: Record<Role, string> = { admin: 'an admin', moderator: 'a moderator', member: 'a member' };

/** Stores a `system` message telling the story of a membership change ("Ann added Bo"). */
async function tell(deps: Deps, roomId: string, actor: User, content: string, metadata: Record<string, unknown>): Promise<void> {
  await appendMessage(deps, roomId, {
    senderId: SYSTEM_USER.userId,
    senderName: SYSTEM_USER.displayName,
    type: 'system',
    content,
    mentions: [],
    metadata: { ...metadata, actorId: actor.userId },
  });
}

/** The best name we know for a user: given, the name they last connected with, else their id. */
async function nameOf(deps: Deps, userId: string, given?: string): Promise<string> {
  if (given) return given;
  const [p] = await deps.connections.getPresence([userId]);
  return p?.displayName ?? userId;
}

/** A member's name; members added by id alone carry the id until we learn the name they connect with. */
const memberName = (deps: Deps, m: MemberRecord) => (m.displayName !== m.userId ? Promise.resolve(m.displayName) : nameOf(deps, m.userId));

function requireGroup(room: RoomRecord): void {
  if (room.type === 'direct') throw forbidden('A direct room has exactly two members; nobody is added or removed');
}

function requireActive(room: RoomRecord): void {
  if (room.archivedAt) throw conflict('The room is archived');
}

function requireAdmin(member: MemberRecord, what: string): void {
  if (member.role !== 'admin') throw forbidden(`Only an admin can ${what}`);
}

/** `PATCH /rooms/{roomId}` (admin): emits `room_updated` through the stream. */
export async function updateRoom(deps: Deps, actor: User, roomId: string, patch: UpdateRoomInput): Promise<RoomView> {
  const { room, member } = await requireMembership(deps, roomId, actor.userId);
  requireAdmin(member, 'update the room');
  requireGroup(room);
  requireActive(room);
  await limit(deps, actor.userId, 'write');
  const updated = await deps.rooms.updateRoom(roomId, patch, deps.clock.now().toISOString());
  if (updated === undefined) throw conflict('The room is archived');
  if (updated === 'too_small') throw validationFailed(`maxMembers cannot be below the ${room.memberCount} members the room has`, { issues: [{ path: 'maxMembers', message: 'below the member count' }] });
  return roomView(updated);
}

/** `DELETE /rooms/{roomId}` (admin): no new messages; history stays readable; emits `room_archived`. */
export async function archiveRoom(deps: Deps, actor: User, roomId: string): Promise<RoomView> {
  const { room, member } = await requireMembership(deps, roomId, actor.userId);
  requireAdmin(member, 'archive the room');
  if (room.archivedAt) return roomView(room);
  await limit(deps, actor.userId, 'write');
  return archive(deps, actor, room);
}

export async function archive(deps: Deps, actor: User, room: RoomRecord): Promise<RoomView> {
  await tell(deps, room.roomId, actor, `${actor.displayName} archived the room`, { event: 'room_archived' });
  const at = deps.clock.now().toISOString();
  await deps.rooms.archiveRoom(room.roomId, at);
  const current = await deps.rooms.getRoom(room.roomId);
  return roomView(current ?? { ...room, archivedAt: at });
}

export interface MemberWithPresence {
  userId: string;
  displayName: string;
  role: Role;
  joinedAt: string;
  lastReadSeq: number;
  presence: { status: PresenceRecord['status']; lastSeenAt?: string };
}

/**
 * `GET /rooms/{roomId}/members`: every member with role, read mark and presence (one query, then
 * batch reads of their seats and presence items, 100 keys each).
 */
export async function listMembers(deps: Deps, actor: User, roomId: string): Promise<{ items: MemberWithPresence[] }> {
  await requireMembership(deps, roomId, actor.userId);
  const members = await deps.rooms.listMembers(roomId);
  const ids = members.map((m) => m.userId);
  const [seats, present] = await Promise.all([deps.rooms.getSeats(roomId, ids), deps.connections.getPresence(ids)]);
  const marks = new Map(seats.map((s) => [s.userId, s.lastReadSeq]));
  const presence = new Map(present.map((p) => [p.userId, p]));
  const items = members.map((m) => {
    const p = presence.get(m.userId);
    return { ...memberView(m, marks.get(m.userId) ?? 0), presence: { status: p?.status ?? 'offline', ...(p?.lastSeenAt && { lastSeenAt: p.lastSeenAt }) } };
  });
  return { items };
}

/** Adds a member to an active group room below its `maxMembers`. Shared by users and the service API. */
export async function addMemberTo(deps: Deps, actor: User, room: RoomRecord, input: AddMemberInput): Promise<MemberRecord> {
  requireGroup(room);
  requireActive(room);
  const displayName = await nameOf(deps, input.userId, input.displayName);
  const member: MemberRecord = {
    roomId: room.roomId,
    userId: input.userId,
    displayName,
    role: input.role ?? 'member',
    joinedAt: deps.clock.now().toISOString(),
  };
  const outcome = await deps.rooms.addMember(member, deps.levelCopies);
  if (outcome === 'exists') throw conflict(`${input.userId} is already a member`);
  if (outcome === 'full') throw conflict(`The room is full: at most ${room.maxMembers} members`);
  if (outcome === 'closed') throw conflict('The room is archived');
  const self = actor.userId === member.userId;
  await tell(deps, room.roomId, actor, self ? `${displayName} joined` : `${actor.displayName} added ${displayName}`, {
    event: self ? 'member_joined' : 'member_added',
    userId: member.userId,
    role: member.role,
  });
  return member;
}

/** `POST /rooms/{roomId}/members` (admin or moderator; only an admin adds with a role above member). */
export async function addMember(deps: Deps, actor: User, roomId: string, input: AddMemberInput) {
  const { room, member } = await requireMembership(deps, roomId, actor.userId);
  if (member.role === 'member') throw forbidden('Only an admin or a moderator can add members');
  if ((input.role ?? 'member') !== 'member' && member.role !== 'admin') throw forbidden('Only an admin can add someone as admin or moderator');
  requireGroup(room);
  await limit(deps, actor.userId, 'write');
  return memberView(await addMemberTo(deps, actor, room, input), 0);
}

/** `POST /rooms/{roomId}/join`: anyone may join a public room. */
export async function joinRoom(deps: Deps, actor: User, roomId: string): Promise<{ room: RoomView; joined: boolean }> {
  const { room, member } = await deps.rooms.getRoomAndMember(roomId, actor.userId);
  if (!room) throw notFound('Room');
  if (member) return { room: roomView(room), joined: false };
  // A private room is refused the same way whether or not it exists to the caller: invite only.
  if (room.visibility !== 'public' || room.type !== 'group') throw forbidden('This room is invite only');
  await limit(deps, actor.userId, 'write');
  await addMemberTo(deps, actor, room, { userId: actor.userId, displayName: actor.displayName });
  return { room: roomView((await deps.rooms.getRoom(roomId)) ?? room), joined: true };
}

/** `PATCH /rooms/{roomId}/members/{userId}` (admin). */
export async function changeRole(deps: Deps, actor: User, roomId: string, userId: string, role: Role) {
  const { room, member } = await requireMembership(deps, roomId, actor.userId);
  requireAdmin(member, 'change roles');
  requireGroup(room);
  const target = userId === actor.userId ? member : await deps.rooms.getMember(roomId, userId);
  if (!target) throw notFound('Member');
  const markOf = async () => (await deps.rooms.getSeats(roomId, [userId]))[0]?.lastReadSeq ?? 0;
  if (target.role === role) return memberView(target, await markOf());
  await limit(deps, actor.userId, 'write');
  if (target.role === 'admin') await requireAnotherAdmin(deps, roomId, userId, 'step down');
  if (!(await deps.rooms.setRole(roomId, userId, role))) throw notFound('Member');
  await tell(deps, roomId, actor, `${actor.displayName} made ${await memberName(deps, target)} ${ROLE_NAMES[role]}`, { event: 'role_changed', userId, role });
  return memberView({ ...target, role }, await markOf());
}

/** The last admin keeps the room governable: they hand the role over before leaving or stepping down. */
async function requireAnotherAdmin(deps: Deps, roomId: string, userId: string, what: string): Promise<void> {
  const members = await deps.rooms.listMembers(roomId);
  const others = members.filter((m) => m.userId !== userId);
  if (others.length > 0 && !others.some((m) => m.role === 'admin')) {
    throw conflict(`The last admin cannot ${what}: make another member admin first`);
  }
}

/** `DELETE /rooms/{roomId}/members/{userId}`: leave (self), or remove (admin: anyone; moderator: members). */
export async function removeMember(deps: Deps, actor: User, roomId: string, userId: string): Promise<void> {
  const { room, member } = await requireMembership(deps, roomId, actor.userId);
  requireGroup(room);
  const self = userId === actor.userId;
  const target = self ? member : await deps.rooms.getMember(roomId, userId);
  if (!target) throw notFound('Member');
  if (!self) {
    if (member.role === 'member') throw forbidden('Only an admin or a moderator can remove members');
    if (member.role === 'moderator' && target.role !== 'member') throw forbidden('A moderator can remove members only, not admins or moderators');
  }
  await limit(deps, actor.userId, 'write');
  await removeMemberFrom(deps, actor, room, target);
}

/** Removes a member; shared by users and the service API. */
export async function removeMemberFrom(deps: Deps, actor: User, room: RoomRecord, target: MemberRecord): Promise<void> {
  requireGroup(room);
  if (target.role === 'admin') await requireAnotherAdmin(deps, room.roomId, target.userId, 'leave');
  if (!(await deps.rooms.removeMember(room.roomId, target.userId))) throw notFound('Member');
  const self = actor.userId === target.userId;
  if (!room.archivedAt) {
    const name = await memberName(deps, target);
    await tell(deps, room.roomId, actor, self ? `${name} left` : `${actor.displayName} removed ${name}`, {
      event: self ? 'member_left' : 'member_removed',
      userId: target.userId,
    });
  }
}

/** `GET /rooms/public`: listed public rooms, newest first. */
export async function listPublicRooms(deps: Deps, actor: User, q: { limit: number; cursor?: string }): Promise<{ items: RoomView[]; nextCursor?: string }> {
  const scope = { list: 'public-rooms', userId: actor.userId } as const;
  const after = q.cursor ? await openCursor(deps.cursorKey, scope, q.cursor, readPublicPosition) : undefined;
  const page = await deps.rooms.listPublicRooms(q.limit, after);
  const next = page.cursor && (await sealCursor(deps.cursorKey, scope, [page.cursor.createdAt, page.cursor.roomId]));
  return { items: page.items.map(roomView), ...(next && { nextCursor: next }) };
}

function readPublicPosition([createdAt, roomId, ...rest]: readonly unknown[]): PublicRoomPosition | undefined {
  const valid = rest.length === 0 && isText(createdAt) && !Number.isNaN(Date.parse(createdAt)) && roomIdSchema.safeParse(roomId).success;
  return valid ? { createdAt: createdAt as string, roomId: roomId as string } : undefined;
}
