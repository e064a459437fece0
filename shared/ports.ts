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
  sent?: ReadonlyMap<string, string>;
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
}

export interface MessageStore {
  /** Atomically takes the next seq of an active room; `undefined` if the room is gone or archived. */
  nextSeq(roomId: string, at: string): Promise<number | undefined>;
  putMessage(message: MessageRecord): Promise<void>;
  getMessage(roomId: string, seq: number): Promise<MessageRecord | undefined>;
  /**
   * Newest first below `beforeSeq`, or ascending above `afterSeq`. Strongly consistent unless
   * `consistent: false`, or by default for older pages (`beforeSeq`).
   */
  listMessages(roomId: string, q: { limit: number; beforeSeq?: number; afterSeq?: number }, opts?: { consistent?: boolean }): Promise<MessageRecord[]>;
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
  /**
   * Forgets the connection item — with `connectedBefore`, only if it connected before then —
   * and returns what it was, if it was deleted.
   */
  deleteConnection(connectionId: string, connectedBefore?: string): Promise<ConnectionRecord | undefined>;
  /** The open connections of the users, from their presence items (one batch read per 100 users); nothing read for anyone else. */
  connectionsOf(userIds: string[]): Promise<ConnectionTarget[]>;
}

/** Limits and windows an operator may change (environment in AWS and locally). */
export interface Settings {
  maxContentLength: number;
  /** How long after sending a message may be edited, in seconds; 0 = no limit. */
  editWindowSeconds: number;
  maxReactionsPerMessage: number;
  /** Messages one search request reads at most before answering with a cursor. */
  searchScanBudget: number;
}

/** Sends frames over API Gateway's @connections API. */
export interface Broadcaster {
  /** `gone` when the connection no longer exists (410). */
  send(connectionId: string, frame: ServerFrame): Promise<'sent' | 'gone'>;
  /** Closes a connection (`DELETE @connections/{id}`); one already gone is fine. */
  disconnect(connectionId: string): Promise<void>;
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
  /** Absent where attachments are not wired (then sends with `attachmentIds` are refused). */
  attachments?: AttachmentDeps;
  /** Membership changes, presence and rate limits (issue 4). */
  people: PeopleDeps;
  /** The key page cursors are authenticated with (see domain/cursors.ts). */
  cursorKey: CursorKey;
}

/** Resolves the cursor key; the first call may fetch it, later ones reuse it. */
export type CursorKey = () => Promise<Uint8Array>;

// ---- rooms and people (issue 4) ----

export type PresenceStatus = 'online' | 'away' | 'busy' | 'offline';

export interface PresenceRecord {
  userId: string;
  /** What others see: the chosen status while a connection is open, `offline` otherwise. */
  status: PresenceStatus;
  lastSeenAt?: string;
  /** The name the user last connected with (used to name them in system messages). */
  displayName?: string;
}

export type AddMemberOutcome = 'added' | 'exists' | 'full' | 'closed';

export interface PeopleStore {
  /** Adds the member and counts it on the room, only if the room is an active group below `maxMembers`. */
  addMember(member: MemberRecord): Promise<AddMemberOutcome>;
  /** Removes the member and uncounts it; false if they were not a member. */
  removeMember(roomId: string, userId: string): Promise<boolean>;
  /** False if they are not a member. */
  setRole(roomId: string, userId: string, role: Role): Promise<boolean>;
  /** Sets the fields (and the public listing); `undefined` if the room is gone or archived, `too_small` if maxMembers < memberCount. */
  updateRoom(
    roomId: string,
    patch: { name?: string; description?: string; visibility?: 'private' | 'public'; maxMembers?: number },
    at: string,
  ): Promise<RoomRecord | 'too_small' | undefined>;
  /** Archives an active room (and unlists it); false when it already was archived or is gone. */
  archiveRoom(roomId: string, at: string): Promise<boolean>;
  /** Lists the room among public rooms. */
  listPublic(room: RoomRecord): Promise<void>;
  /** Public rooms, newest first, after `after` (the position a page before ended at). */
  listPublicRooms(limit: number, after?: PublicRoomPosition): Promise<Page<RoomRecord, PublicRoomPosition>>;
  /** Records an open connection of the user; returns the presence before and after. */
  connectionOpened(c: ConnectionRecord, expiresAt: string): Promise<void>;
  connectionClosed(c: ConnectionTarget, at: string): Promise<void>;
  setStatus(userId: string, displayName: string, status: 'online' | 'away' | 'busy', at: string): Promise<void>;
  getPresence(userIds: string[]): Promise<PresenceRecord[]>;
}

/** A fixed-window counter: `retryAfter` seconds when the window's budget is spent, else 0. */
export interface RateLimiter {
  take(userId: string, kind: string, rule: RateRule): Promise<number>;
}

export interface RateRule {
  /** Writes allowed per window; 0 = unlimited. */
  limit: number;
  windowSeconds: number;
}

export interface PeopleDeps {
  store: PeopleStore;
  rateLimiter: RateLimiter;
  limits: { send: RateRule; write: RateRule; search: RateRule };
}

// ---- attachments (issue 5) ----

/** What a message keeps of each attached file. */
export interface AttachmentRef {
  id: string;
  /** Object key in the attachments bucket. */
  key: string;
  name: string;
  size: number;
  contentType: string;
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

export interface AttachmentStore {
  /** Stores a pending upload that expires (TTL) at `expiresAt`. */
  putPending(a: AttachmentRecord, expiresAt: string): Promise<void>;
  getAttachments(roomId: string, ids: string[]): Promise<AttachmentRecord[]>;
  /**
   * Atomically marks the uploads attached (and no longer expiring), only if each is still pending
   * and the uploader's; false when any is not (used already, or not theirs).
   */
  claim(roomId: string, ids: string[], uploaderId: string, at: string): Promise<boolean>;
  /** Deletes the records; the attachment stream consumer then deletes their objects. */
  remove(roomId: string, ids: string[]): Promise<void>;
  /** Records that the attached file's thumbnail exists; false when the record is gone or not attached. */
  markThumbnail(roomId: string, id: string): Promise<boolean>;
  /** The ids among these attachments whose thumbnail was recorded (eventually consistent). */
  withThumbnails(refs: { roomId: string; id: string }[]): Promise<Set<string>>;
}

/** The object store, reached by the domain only through presigned URLs and a few checks. */
export interface BlobStore {
  /**
   * A presigned PUT whose signature covers content-type, content-length and a content-disposition
   * naming `fileName` (stored with the object: downloads keep the original name).
   */
  presignPut(key: string, o: { contentType: string; size: number; fileName: string; expiresInSeconds: number }): Promise<{ url: string; headers: Record<string, string> }>;
  /** A presigned GET. */
  presignGet(key: string, o: { expiresInSeconds: number }): Promise<string>;
  /** Size and content type of a stored object, or undefined if there is none. */
  head(key: string): Promise<{ size: number; contentType?: string } | undefined>;
  /** Server-side copy; false when the source does not exist. */
  copy(fromKey: string, toKey: string): Promise<boolean>;
  /** The first `bytes` bytes of an object. */
  readStart(key: string, bytes: number): Promise<Uint8Array>;
  /** A whole object, or undefined when there is none or it is larger than `maxBytes`. */
  read(key: string, maxBytes: number): Promise<Uint8Array | undefined>;
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  delete(keys: string[]): Promise<void>;
}

export interface AttachmentSettings {
  maxBytes: number;
  /** Allowed content types (each must be one the server knows the signature of). */
  allowedTypes: string[];
  uploadUrlSeconds: number;
  downloadUrlSeconds: number;
  /** How long an upload that no message claims is kept. */
  unattachedSeconds: number;
}

export interface AttachmentDeps {
  store: AttachmentStore;
  blobs: BlobStore;
  settings: AttachmentSettings;
}
