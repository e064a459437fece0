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

/** A claim that makes a `clientMessageId` send happen once. */
export type SendClaim = { state: 'claimed' } | { state: 'exists'; seq?: number; claimedAt: string };

export interface RoomStore {
  /** Writes the room and its members; fails with `conflict` if the room id exists. */
  createRoom(room: RoomRecord, members: MemberRecord[]): Promise<void>;
  getRoom(roomId: string): Promise<RoomRecord | undefined>;
  getMember(roomId: string, userId: string): Promise<MemberRecord | undefined>;
  /** The room and the caller's membership in one read. */
  getRoomAndMember(roomId: string, userId: string): Promise<{ room?: RoomRecord; member?: MemberRecord }>;
  listMemberIds(roomId: string): Promise<string[]>;
  listMemberships(userId: string, limit: number, cursor?: string): Promise<Page<MemberRecord>>;
  getRooms(roomIds: string[]): Promise<RoomRecord[]>;
  /** Moves the member's read mark forward only. */
  markRead(roomId: string, userId: string, seq: number): Promise<void>;
}

export interface MessageStore {
  /** Atomically takes the next seq of an active room; `undefined` if the room is gone or archived. */
  nextSeq(roomId: string, at: string): Promise<number | undefined>;
  putMessage(message: MessageRecord): Promise<void>;
  getMessage(roomId: string, seq: number): Promise<MessageRecord | undefined>;
  /** Newest first below `beforeSeq`, or ascending above `afterSeq`. */
  listMessages(roomId: string, q: { limit: number; beforeSeq?: number; afterSeq?: number }): Promise<MessageRecord[]>;
  latestMessages(roomIds: string[]): Promise<Map<string, MessageRecord>>;
  claimSend(roomId: string, userId: string, clientMessageId: string, at: string, ttlSeconds: number): Promise<SendClaim>;
  /** Takes over a claim whose sender seems to have died before storing the message. */
  retakeStaleClaim(roomId: string, userId: string, clientMessageId: string, claimedAt: string, at: string): Promise<boolean>;
  completeClaim(roomId: string, userId: string, clientMessageId: string, seq: number): Promise<void>;
}

export interface ConnectionStore {
  putConnection(c: ConnectionRecord, ttlSeconds: number): Promise<void>;
  deleteConnection(connectionId: string): Promise<void>;
  /** The open connections of each user: one Query per user, nothing read for anyone else. */
  connectionsOf(userIds: string[]): Promise<ConnectionRecord[]>;
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
}
