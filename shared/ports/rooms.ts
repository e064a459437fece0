import type { LevelSource } from './notifications.ts';
import type { MemberRecord, MessageRecord, Page, PublicRoomPosition, Role, RoomRecord, SeatRecord } from '#shared/model.ts';

/**
 * The one write a send makes on the sender's seat: its read mark, its count in the send rate
 * window, and the claim of its clientMessageId.
 */
export interface SendMark {
  roomId: string;
  userId: string;
  /** The sender's own read mark: their message's seq. */
  readSeq: number;
  at: string;
  /** Counts the send in the window starting at `start`, refused once `limit` are counted; `drop`: older windows to forget. */
  window?: { start: number; limit: number; drop: number[] };
  /** Claims the clientMessageId, remembering the seq the send starts from; `drop`: older claims to forget. */
  claim?: { clientMessageId: string; fromSeq: number; drop: string[] };
}

/** A room and its newest message (none in a room never written to); no room: neither. */
export interface RoomWithLatest {
  room?: RoomRecord;
  latest?: MessageRecord;
}

export type AddMemberOutcome = 'added' | 'exists' | 'full' | 'closed';

export interface RoomPatch {
  name?: string;
  description?: string;
  visibility?: 'private' | 'public';
  maxMembers?: number;
}

/**
 * Reads and keeps in step the copies of members' notification preferences that member items
 * carry (the events consumer decides from them): given to the room store by the functions that
 * add members, which alone compose it (the others' bundles carry none of it).
 */
export interface MemberLevelCopier {
  /** The preferences of `userIds` to copy onto their member items (with `withRoom`, their preference for the room too). */
  sources(roomId: string, userIds: readonly string[], o: { withRoom: boolean }): Promise<ReadonlyMap<string, LevelSource>>;
  /**
   * Once member items (and their seats) are written with the copies in `written`: reads the
   * preferences again, consistently, and moves forward each copy whose source changed meanwhile.
   */
  settle(roomId: string, userIds: readonly string[], written: ReadonlyMap<string, Partial<LevelSource>>, o: { withRoom: boolean }): Promise<void>;
}

/** Rooms and who is in them: the room, its members, each user's memberships, settings and the public listing. */
export interface RoomStore {
  /**
   * Writes the room and its members (each with their seat, and copies of their preferences when a
   * copier is given); fails with `conflict` if the room id exists.
   */
  createRoom(room: RoomRecord, members: MemberRecord[], levels?: MemberLevelCopier): Promise<void>;
  getRoom(roomId: string): Promise<RoomRecord | undefined>;
  /** Sets the fields (and the public listing); `undefined` if the room is gone or archived, `too_small` if maxMembers < memberCount. */
  updateRoom(roomId: string, patch: RoomPatch, at: string): Promise<RoomRecord | 'too_small' | undefined>;
  /** Archives an active room (and unlists it); false when it already was archived or is gone. */
  archiveRoom(roomId: string, at: string): Promise<boolean>;

  getMember(roomId: string, userId: string): Promise<MemberRecord | undefined>;
  /** The room and the caller's membership in one read: strongly consistent unless `consistent: false`. */
  getRoomAndMember(roomId: string, userId: string, opts?: { consistent?: boolean }): Promise<{ room?: RoomRecord; member?: MemberRecord }>;
  /** The room and its newest message in one read: strongly consistent unless `consistent: false`. */
  getRoomWithLatest(roomId: string, opts?: { consistent?: boolean }): Promise<RoomWithLatest>;
  /** The room and its newest `limit` messages, newest first, in one strongly consistent read (no room: no messages). */
  getRoomWithNewest(roomId: string, limit: number): Promise<{ room?: RoomRecord; messages: MessageRecord[] }>;
  /**
   * Every member's id. With `onPage`, each page is handed over as it is read (a fan-out starts its
   * connection lookups with the first), and a large room's first page is a small one. With `asOf`
   * (a message's `membersAt`), they may be the ids read for an earlier message of the same member
   * version, with no read at all.
   */
  listMemberIds(roomId: string, onPage?: (userIds: readonly string[]) => void, asOf?: number): Promise<readonly string[]>;
  listMembers(roomId: string): Promise<MemberRecord[]>;
  /** The members among `userIds` (others are left out). */
  getMembers(roomId: string, userIds: string[]): Promise<MemberRecord[]>;
  /** Adds the member with their seat and counts it on the room, only if the room is an active group below `maxMembers`. */
  addMember(member: MemberRecord, levels?: MemberLevelCopier): Promise<AddMemberOutcome>;
  /** Removes the member and their seat, and uncounts it; false if they were not a member. */
  removeMember(roomId: string, userId: string): Promise<boolean>;
  /** On the member and their seat together. False if they are not a member. */
  setRole(roomId: string, userId: string, role: Role): Promise<boolean>;

  /**
   * The member's seat (role, read mark, send window and claims): it exists exactly while they are
   * a member. A member stored before seats were kept gets theirs here, once.
   */
  getSeat(roomId: string, userId: string, opts: { consistent: boolean }): Promise<SeatRecord | undefined>;
  /** The seats of those of `userIds` who are members (others are left out), eventually consistent. */
  getSeats(roomId: string, userIds: string[]): Promise<SeatRecord[]>;
  /** Every seat of the user, one per room they belong to: one Query (eventually consistent). */
  listSeats(userId: string): Promise<SeatRecord[]>;
  /** The ids of the rooms the user has a seat in, as they are now: one strongly consistent Query of their seats. */
  seatRoomIdsNow(userId: string): Promise<string[]>;
  /**
   * Removes the seat of a member whose member item is gone, if it is still that membership's
   * (same join time): what a removal by a function deployed before seats left behind.
   */
  removeSeatOf(member: MemberRecord): Promise<void>;

  /** The room ids the user belongs to (from the user index: no room or message is read); `cursor` is the last room id of the page before. */
  listMembershipRoomIds(userId: string, limit: number, cursor?: string): Promise<Page<string>>;
  /** Each room that exists with its newest message, one read a room (eventually consistent), by room id. */
  getRoomsWithLatest(roomIds: string[]): Promise<Map<string, RoomWithLatest & { room: RoomRecord }>>;
  /** Each room with the user's membership in it, in one batch read. */
  getRoomsWithMember(roomIds: string[], userId: string): Promise<{ room: RoomRecord; member: MemberRecord }[]>;

  /**
   * Raises the room's `reactedSeq` to `seq` (never lowers it; a room created before it was kept
   * is left alone). Written before the reaction itself: a reaction never lies above the mark.
   */
  markReacted(roomId: string, seq: number): Promise<void>;
  /** Moves the read mark on the member's seat forward only; false when it was already there or beyond. */
  markRead(roomId: string, userId: string, seq: number, messageId: string, at: string): Promise<boolean>;
  /**
   * The write a send makes on the sender's seat (SendMark). False when it was refused: the
   * clientMessageId was claimed, the window is full, or the seat is gone (read the seat to tell).
   */
  markSent(mark: SendMark): Promise<boolean>;
  /** The member as it is now (a strongly consistent read). */
  getMemberNow(roomId: string, userId: string): Promise<MemberRecord | undefined>;

  /** Lists the room among public rooms. */
  listPublic(room: RoomRecord): Promise<void>;
  /** Public rooms, newest first, after `after` (the position a page before ended at). */
  listPublicRooms(limit: number, after?: PublicRoomPosition): Promise<Page<RoomRecord, PublicRoomPosition>>;
}
