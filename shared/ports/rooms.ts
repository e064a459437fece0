import type { MemberRecord, Page, PublicRoomPosition, Role, RoomRecord } from '#shared/model.ts';

/** What a send writes on the sender's member item: the read mark, and the clientMessageId claim. */
export interface SendMark {
  roomId: string;
  userId: string;
  /** Moves the read mark forward to here (never back). */
  readSeq: number;
  at: string;
  claim?: { clientMessageId: string; drop: string[] };
}

export type AddMemberOutcome = 'added' | 'exists' | 'full' | 'closed';

export interface RoomPatch {
  name?: string;
  description?: string;
  visibility?: 'private' | 'public';
  maxMembers?: number;
}

/** Rooms and who is in them: the room, its members, each user's memberships, settings and the public listing. */
export interface RoomStore {
  /** Writes the room and its members; fails with `conflict` if the room id exists. */
  createRoom(room: RoomRecord, members: MemberRecord[]): Promise<void>;
  getRoom(roomId: string): Promise<RoomRecord | undefined>;
  /** Sets the fields (and the public listing); `undefined` if the room is gone or archived, `too_small` if maxMembers < memberCount. */
  updateRoom(roomId: string, patch: RoomPatch, at: string): Promise<RoomRecord | 'too_small' | undefined>;
  /** Archives an active room (and unlists it); false when it already was archived or is gone. */
  archiveRoom(roomId: string, at: string): Promise<boolean>;

  getMember(roomId: string, userId: string): Promise<MemberRecord | undefined>;
  /** The room and the caller's membership in one read. */
  getRoomAndMember(roomId: string, userId: string): Promise<{ room?: RoomRecord; member?: MemberRecord }>;
  listMemberIds(roomId: string): Promise<string[]>;
  listMembers(roomId: string): Promise<MemberRecord[]>;
  /** The members among `userIds` (others are left out). */
  getMembers(roomId: string, userIds: string[]): Promise<MemberRecord[]>;
  /** Adds the member and counts it on the room, only if the room is an active group below `maxMembers`. */
  addMember(member: MemberRecord): Promise<AddMemberOutcome>;
  /** Removes the member and uncounts it; false if they were not a member. */
  removeMember(roomId: string, userId: string): Promise<boolean>;
  /** False if they are not a member. */
  setRole(roomId: string, userId: string, role: Role): Promise<boolean>;

  /** The room ids the user belongs to (from the user index: no room or message is read); `cursor` is the last room id of the page before. */
  listMembershipRoomIds(userId: string, limit: number, cursor?: string): Promise<Page<string>>;
  /** Each room with the user's membership in it, in one batch read. */
  getRoomsWithMember(roomIds: string[], userId: string): Promise<{ room: RoomRecord; member: MemberRecord }[]>;

  /** Moves the member's read mark forward only; false when it was already there or beyond. */
  markRead(roomId: string, userId: string, seq: number, messageId: string, at: string): Promise<boolean>;
  /**
   * The write a send makes on the sender's member item: read mark forward, and with a
   * clientMessageId, its claim (false when that clientMessageId is already claimed).
   */
  markSent(mark: SendMark): Promise<boolean>;
  /** Takes over a claim whose send seems to have died before storing its message. */
  retakeClaim(roomId: string, userId: string, clientMessageId: string, claimedAt: string, at: string): Promise<boolean>;

  /** Lists the room among public rooms. */
  listPublic(room: RoomRecord): Promise<void>;
  /** Public rooms, newest first, after `after` (the position a page before ended at). */
  listPublicRooms(limit: number, after?: PublicRoomPosition): Promise<Page<RoomRecord, PublicRoomPosition>>;
}
