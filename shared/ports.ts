/**
 * What the domain needs from the outside world. Adapters (DynamoDB, API Gateway, S3) implement
 * these; the domain never imports an AWS SDK.
 */
import type { ServerFrame } from './schemas/frames.ts';

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
}

export interface MemberRecord {
  roomId: string;
  userId: string;
  displayName: string;
  role: Role;
  joinedAt: string;
  lastReadSeq: number;
  lastReadAt?: string;
  lastReadMessageId?: string;
  /** The member's recent sends: clientMessageId → ISO time it was claimed (bounded, newest kept). */
  sent?: Record<string, string>;
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
  createdAt: string;
  editedAt?: string;
  deletedAt?: string;
}

export interface ConnectionRecord {
  connectionId: string;
  userId: string;
  displayName: string;
  /** Set when the connection was opened with `?roomId=`: it receives that room's events only. */
  scopeRoomId?: string;
  connectedAt: string;
}

/** A page of a list: `cursor` is opaque to the domain (the adapter encodes its position in it). */
export interface Page<T> {
  items: T[];
  cursor?: string;
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

/** What a send writes on the sender's member item: the read mark, and the clientMessageId claim. */
export interface SendMark {
  roomId: string;
  userId: string;
  /** Moves the read mark forward to here (never back). */
  readSeq: number;
  at: string;
  claim?: { clientMessageId: string; drop: string[] };
}

export type EditOutcome = 'done' | 'missing' | 'refused';

export interface RoomStore {
  /** Writes the room and its members; fails with `conflict` if the room id exists. */
  createRoom(room: RoomRecord, members: MemberRecord[]): Promise<void>;
  getRoom(roomId: string): Promise<RoomRecord | undefined>;
  getMember(roomId: string, userId: string): Promise<MemberRecord | undefined>;
  /** The room and the caller's membership in one read. */
  getRoomAndMember(roomId: string, userId: string): Promise<{ room?: RoomRecord; member?: MemberRecord }>;
  listMemberIds(roomId: string): Promise<string[]>;
  listMembers(roomId: string): Promise<MemberRecord[]>;
  /** The members among `userIds` (others are left out). */
  getMembers(roomId: string, userIds: string[]): Promise<MemberRecord[]>;
  /** The room ids the user belongs to (from the user index: no room or message is read). */
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
}

export interface MessageStore {
  /** Atomically takes the next seq of an active room; `undefined` if the room is gone or archived. */
  nextSeq(roomId: string, at: string): Promise<number | undefined>;
  putMessage(message: MessageRecord): Promise<void>;
  getMessage(roomId: string, seq: number): Promise<MessageRecord | undefined>;
  /** Newest first below `beforeSeq`, or ascending above `afterSeq`. */
  listMessages(roomId: string, q: { limit: number; beforeSeq?: number; afterSeq?: number }): Promise<MessageRecord[]>;
  latestMessages(roomIds: string[]): Promise<Map<string, MessageRecord>>;
  getMessages(roomId: string, seqs: number[]): Promise<MessageRecord[]>;
  /** The sender's message with this clientMessageId among the room's newest `window` messages. */
  findByClientMessageId(roomId: string, senderId: string, clientMessageId: string, window: number): Promise<MessageRecord | undefined>;
  /** Sets new content if the message exists, is the editor's, is not deleted and was created after `notBefore`. */
  editMessage(roomId: string, seq: number, edit: { editorId: string; content: string; mentions: string[]; at: string; notBefore?: string }): Promise<EditOutcome>;
  /** Turns the message into a tombstone (keeps id and seq); `missing` if absent or already deleted. */
  deleteMessage(roomId: string, seq: number, at: string): Promise<EditOutcome>;

  /** False when this user already reacted with this emoji. */
  addReaction(r: ReactionRecord): Promise<boolean>;
  /** False when there was no such reaction. */
  removeReaction(roomId: string, seq: number, emoji: string, userId: string): Promise<boolean>;
  /** The distinct emoji already on a message. */
  reactionEmoji(roomId: string, seq: number): Promise<Set<string>>;
  countReactions(roomId: string, seq: number, emoji: string): Promise<number>;
  /** Every reaction of the messages `fromSeq`..`toSeq`. */
  reactionsBetween(roomId: string, fromSeq: number, toSeq: number): Promise<ReactionRecord[]>;

  recordChange(change: ChangeRecord, ttlSeconds: number): Promise<void>;
  changesSince(roomId: string, since: string, limit: number): Promise<ChangeRecord[]>;

  putTyping(t: TypingRecord): Promise<void>;
  clearTyping(roomId: string, userId: string): Promise<void>;
  listTyping(roomId: string): Promise<TypingRecord[]>;
}

export interface ConnectionStore {
  putConnection(c: ConnectionRecord, ttlSeconds: number): Promise<void>;
  deleteConnection(connectionId: string): Promise<void>;
  /** The open connections of each user: one Query per user, nothing read for anyone else. */
  connectionsOf(userIds: string[]): Promise<ConnectionRecord[]>;
}

/** Limits and windows an operator may change (environment in AWS and locally). */
export interface Settings {
  maxContentLength: number;
  /** How long after sending a message may be edited, in seconds; 0 = no limit. */
  editWindowSeconds: number;
  maxReactionsPerMessage: number;
}

/** Sends frames over API Gateway's @connections API. */
export interface Broadcaster {
  /** `gone` when the connection no longer exists (410). */
  send(connectionId: string, frame: ServerFrame): Promise<'sent' | 'gone'>;
}

export interface Clock {
  now(): Date;
}

export interface Ids {
  /** A new, time-ordered unique id. */
  newId(): string;
}

export interface Deps {
  rooms: RoomStore;
  messages: MessageStore;
  connections: ConnectionStore;
  broadcaster: Broadcaster;
  clock: Clock;
  ids: Ids;
  settings: Settings;
}
