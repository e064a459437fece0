/**
 * The records the domain works with, as the ports hand them over. Adapters turn stored items into
 * these and back; nothing here knows how they are stored.
 */

export type Role = 'admin' | 'moderator' | 'member';
export type RoomType = 'group' | 'direct';

export interface User {
  userId: string;
  displayName: string;
}

export interface RoomRecord {
  roomId: string;
  type: RoomType;
  name?: string;
  description?: string;
  visibility: 'private' | 'public';
  maxMembers: number;
  context?: { kind: string; id: string };
  createdBy: string;
  createdAt: string;
  memberCount: number;
  lastSeq: number;
  lastActivityAt: string;
  archivedAt?: string;
  /**
   * The highest seq a reaction was ever added to (0: none yet), so that the room list reads the
   * reactions of a newest message only when it may have some. Rooms created before it was kept
   * have none: theirs are always read.
   */
  reactedSeq?: number;
  /**
   * Counts changes of who is in the room: 1 when it is made, one more for each join or removal (and
   * once a large room's members are written after it). Absent on rooms made before it was kept,
   * until their first change. A message carries the value its send read (`membersAt`), so that the
   * fan-out can use the member ids it read for an earlier message of that value instead of reading
   * them again.
   */
  memberVersion?: number;
}

/** Who is in a room, as the room sees them (the room's partition): the same for every reader. */
export interface MemberRecord {
  roomId: string;
  userId: string;
  displayName: string;
  role: Role;
  joinedAt: string;
}

/** How far a member has read a room. */
export interface ReadMark {
  roomId: string;
  userId: string;
  /** Everything up to here is read: the further of the last read receipt and the member's own last send. */
  lastReadSeq: number;
  lastReadAt?: string;
  lastReadMessageId?: string;
}

/**
 * A member's own half of a membership, kept in the user's seats (one Query lists them all): the
 * role, the read mark, and what a send checks and counts. It exists exactly while the member does.
 */
export interface SeatRecord extends ReadMark {
  role: Role;
  joinedAt: string;
  /**
   * The member's recent sends: clientMessageId → the seq its first attempt started from (the
   * message is there or later), or for claims stored before seqs were kept, the ISO time of the claim.
   */
  sent?: ReadonlyMap<string, number | string>;
  /** Messages sent in the current rate window, by window start (epoch seconds): usually one entry. */
  sendWindows?: ReadonlyMap<number, number>;
}

export interface MessageRecord {
  id: string;
  roomId: string;
  seq: number;
  senderId: string;
  senderName: string;
  type: string;
  content: string;
  replyTo?: { id: string; seq: number; senderId: string; excerpt: string };
  mentions: string[];
  metadata?: Record<string, unknown>;
  clientMessageId?: string;
  /** Files attached at send time (verified uploads of the sender); removed with the message. */
  attachments?: AttachmentRef[];
  createdAt: string;
  editedAt?: string;
  deletedAt?: string;
  /**
   * The room's `memberVersion` as its send read it (strongly consistent, before the message was
   * stored); absent on messages stored before it was kept, or by a path that did not read it.
   */
  membersAt?: number;
  /** The room's type as its send read it: the events consumer needs no room read to tell a direct room's messages. */
  roomType?: RoomType;
}

export interface ReactionRecord {
  roomId: string;
  messageId: string;
  seq: number;
  emoji: string;
  userId: string;
  createdAt: string;
}

/** One entry of a room's catch-up log: message `seq` was edited, deleted or reacted to `at`. */
export interface ChangeRecord {
  roomId: string;
  seq: number;
  messageId: string;
  kind: 'edited' | 'deleted' | 'reactions';
  at: string;
}

export interface TypingRecord {
  roomId: string;
  userId: string;
  displayName: string;
  /** ISO time after which the indicator no longer counts. */
  until: string;
}

/** Where to send a user's events: one open connection, maybe scoped to one room. */
export interface ConnectionTarget {
  connectionId: string;
  userId: string;
  scopeRoomId?: string;
}

export interface ConnectionRecord {
  connectionId: string;
  userId: string;
  displayName: string;
  /** Set when the connection was opened with `?roomId=`: it receives that room's events only. */
  scopeRoomId?: string;
  connectedAt: string;
}

export type PresenceStatus = 'online' | 'away' | 'busy' | 'offline';

export interface PresenceRecord {
  userId: string;
  /** What others see: the chosen status while a connection is open, `offline` otherwise. */
  status: PresenceStatus;
  lastSeenAt?: string;
  /** The name the user last connected with (used to name them in system messages). */
  displayName?: string;
}

/** What a message keeps of each attached file. */
export interface AttachmentRef {
  id: string;
  /** Object key in the attachments bucket. */
  key: string;
  name: string;
  size: number;
  contentType: string;
  /**
   * An image's displayed size in pixels (after EXIF orientation), as its sender declared it. On the
   * upload slot the thumbnail maker replaces them with the measured ones (see `thumbnail`).
   */
  width?: number;
  height?: number;
}

/** One upload slot handed out by `POST /rooms/{roomId}/attachments`. */
export interface AttachmentRecord extends AttachmentRef {
  roomId: string;
  uploaderId: string;
  createdAt: string;
  /** `pending` until a message claims it; a pending one expires (and its object is deleted). */
  status: 'pending' | 'attached';
  messageId?: string;
}

/**
 * A page of a list: `cursor` is where the next page starts, as the store's own position (never a
 * raw table key); the domain seals positions into the cursors clients see.
 */
export interface Page<T, P = string> {
  items: T[];
  cursor?: P;
}

/** Where the public room listing stopped: the last room listed. */
export interface PublicRoomPosition {
  createdAt: string;
  roomId: string;
}

/** A stored change that produces events, decoded from a stream record by the table's adapter. */
export type Change =
  | { kind: 'message_created' | 'message_edited'; message: MessageRecord }
  | { kind: 'message_deleted'; message: MessageRecord }
  | { kind: 'reaction_added' | 'reaction_removed'; reaction: ReactionRecord }
  | { kind: 'messages_read'; read: ReadMark }
  | { kind: 'connection_opened' | 'connection_closed' | 'connection_expired'; connection: ConnectionRecord }
  | { kind: 'member_joined' | 'member_left'; member: MemberRecord }
  | { kind: 'room_updated' | 'room_archived'; room: RoomRecord }
  | { kind: 'presence_changed'; presence: PresenceRecord };
