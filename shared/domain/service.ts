import { createHash } from 'node:crypto';
import type { Deps } from '#shared/ports/runtime.ts';
import type { MemberRecord, RoomRecord, User } from '#shared/model.ts';
import { AppError, conflict, notFound, validationFailed } from '#shared/errors.ts';
import { ROOM_LIMITS } from '#shared/schemas/rooms.ts';
import type { ServiceCreateRoomInput, ServiceMember, ServicePostMessageInput } from '#shared/schemas/people.ts';
import { addMemberTo, archive, removeMemberFrom, SYSTEM_USER } from './members.ts';
import { appendMessage } from './messages.ts';
import { memberView, messageView, roomView, type MessageView, type RoomView } from './views.ts';

/**
 * The host platform's API (`/service/...`, IAM-signed): no end user acts, so no role applies; the
 * room rules (group only, maxMembers, archived rooms closed) still do.
 */
const SERVICE: User = SYSTEM_USER;

/** One room per host-platform context: the id is derived from it, so a retried create finds the first. */
export function contextRoomId(kind: string, id: string): string {
  return `ctx_${createHash('sha256').update(`${kind}\n${id}`).digest('base64url').slice(0, 32)}`;
}

async function requireRoom(deps: Deps, roomId: string): Promise<RoomRecord> {
  const room = await deps.rooms.getRoom(roomId);
  if (!room) throw notFound('Room');
  return room;
}

/** `POST /service/rooms`: 201 with the new room, 200 with the one this context already has. */
export async function serviceCreateRoom(deps: Deps, input: ServiceCreateRoomInput): Promise<{ room: RoomView; created: boolean }> {
  const now = deps.clock.now().toISOString();
  const roomId = contextRoomId(input.context.kind, input.context.id);
  const existing = await deps.rooms.getRoom(roomId);
  if (existing) return { room: roomView(existing), created: false };
  const byUser = new Map<string, ServiceMember>();
  for (const m of input.members) byUser.set(m.userId, m);
  const maxMembers = input.maxMembers ?? ROOM_LIMITS.defaultMaxMembers;
  if (byUser.size > maxMembers) throw validationFailed(`A room of at most ${maxMembers} members cannot start with ${byUser.size}`);
  const room: RoomRecord = {
    roomId,
    type: 'group',
    ...(input.name !== undefined && { name: input.name }),
    ...(input.description !== undefined && { description: input.description }),
    visibility: input.visibility ?? 'private',
    maxMembers,
    context: input.context,
    createdBy: SERVICE.userId,
    createdAt: now,
    memberCount: byUser.size,
    lastSeq: 0,
    lastActivityAt: now,
  };
  const members: MemberRecord[] = [...byUser.values()].map((m) => ({
    roomId,
    userId: m.userId,
    displayName: m.displayName ?? m.userId,
    role: m.role ?? 'member',
    joinedAt: now,
  }));
  try {
    await deps.rooms.createRoom(room, members, deps.levelCopies);
  } catch (err) {
    if (err instanceof AppError && err.code === 'conflict') {
      const raced = await deps.rooms.getRoom(roomId);
      if (raced) return { room: roomView(raced), created: false };
    }
    throw err;
  }
  if (room.visibility === 'public') await deps.rooms.listPublic(room);
  return { room: roomView(room), created: true };
}

export async function serviceAddMember(deps: Deps, roomId: string, m: ServiceMember) {
  const room = await requireRoom(deps, roomId);
  return memberView(await addMemberTo(deps, SERVICE, room, m), 0);
}

export async function serviceRemoveMember(deps: Deps, roomId: string, userId: string): Promise<void> {
  const room = await requireRoom(deps, roomId);
  const target = await deps.rooms.getMember(roomId, userId);
  if (!target) throw notFound('Member');
  await removeMemberFrom(deps, SERVICE, room, target);
}

/** `POST /service/rooms/{roomId}/messages`: a `system` or custom-typed message with metadata. */
export async function servicePostMessage(deps: Deps, roomId: string, input: ServicePostMessageInput): Promise<MessageView> {
  const room = await requireRoom(deps, roomId);
  if (room.archivedAt) throw conflict('The room is archived');
  const stored = await appendMessage(deps, roomId, {
    senderId: input.senderId ?? SERVICE.userId,
    senderName: input.senderName ?? (input.senderId ? input.senderId : SERVICE.displayName),
    type: input.type,
    content: input.content,
    mentions: [],
    ...(input.metadata && { metadata: input.metadata }),
  });
  if (!stored) throw conflict('The room is archived');
  return messageView(stored);
}

export async function serviceArchiveRoom(deps: Deps, roomId: string): Promise<RoomView> {
  const room = await requireRoom(deps, roomId);
  if (room.archivedAt) return roomView(room);
  return archive(deps, SERVICE, room);
}
