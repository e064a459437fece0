import type { EventPublisher } from './events.ts';

/** Which messages may notify someone: every one, mentions (and direct rooms), or none. */
export type NotifyLevel = 'all' | 'mentions' | 'none';

/** A user's own setting for one room: a level overriding their default, and a mute until a time. */
export interface RoomPreference {
  notify?: NotifyLevel;
  mutedUntil?: string;
}

/** Where a user and room stand with notifications: the last message considered and the last one sent. */
export interface NotificationState {
  /** The last message seq handled for this user and room (sent or coalesced): retries at or below it are done. */
  lastSeq: number;
  /** When the last notification was sent. */
  sentAt?: string;
  /** Messages coalesced since the last notification sent. */
  pending: number;
}

/** What the notification path reads for one user in one room, in one batch. */
export interface Recipient {
  userId: string;
  notify?: NotifyLevel;
  room: RoomPreference;
  state?: NotificationState;
}

/**
 * A member's preference inputs as the room's member list carries them (copies kept on the member
 * items): `user` their own level (its `notify` absent: none chosen), `room` their level and mute
 * for the room. A part is absent when the member item has no copy of it (written before copies
 * were kept): `recipients` reads it from the preference items.
 */
export interface MemberLevels {
  userId: string;
  user?: { notify?: NotifyLevel };
  room?: RoomPreference;
}

/** What a member item is given to copy: the user's level and their room preference, each at the version of its item. */
export interface LevelSource {
  user: { notify?: NotifyLevel; v: number };
  room: { pref: RoomPreference; v: number };
}

/** A browser's PushSubscription, as stored. */
export interface PushSubscriptionRecord {
  userId: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  expirationTime?: number;
  createdAt: string;
}

/** Notification preferences, per-user-and-room notification state and push subscriptions. */
export interface NotificationStore {
  getUserPreference(userId: string): Promise<NotifyLevel | undefined>;
  /** Sets my level, then its copy on each of my member items (before it resolves). */
  setUserPreference(userId: string, notify: NotifyLevel, at: string): Promise<void>;
  getRoomPreference(userId: string, roomId: string): Promise<RoomPreference>;
  /** `null` clears a field (back to the default level, or unmuted). Copied to my member item before it resolves. */
  setRoomPreference(userId: string, roomId: string, patch: { notify?: NotifyLevel | null; mutedUntil?: string | null }, at: string): Promise<RoomPreference>;
  /**
   * The room's members with their preference inputs, from the member items (one eventually
   * consistent Query, paged by 1 MB): what decides who a message may notify.
   */
  memberLevels(roomId: string): Promise<MemberLevels[]>;
  /**
   * The preferences of each member for the room: what their member item carries, and what it has
   * no copy of read from the preference items (one eventually consistent batch; none when every
   * copy is there).
   */
  recipients(roomId: string, members: MemberLevels[]): Promise<Recipient[]>;
  /**
   * Where notifications of the room stand for each user (absent: never handled), read
   * consistently, in one batch: what a decision rests on.
   */
  states(roomId: string, userIds: string[]): Promise<Map<string, NotificationState>>;
  /**
   * Records that message `seq` was handled for the user (sent when `sent`, else coalesced), only if
   * nothing at or after `seq` was; false when a retry already did.
   */
  commit(userId: string, roomId: string, seq: number, sent: boolean, at: string): Promise<boolean>;

  putSubscription(sub: PushSubscriptionRecord, maxPerUser: number): Promise<void>;
  deleteSubscription(userId: string, endpoint: string): Promise<boolean>;
  listSubscriptions(userId: string): Promise<PushSubscriptionRecord[]>;
}

/** A notification shown by the browser, as the service worker receives it. */
export interface PushPayload {
  roomId: string;
  messageId: string;
  seq: number;
  title: string;
  body: string;
  unreadTotal: number;
  reason: 'direct' | 'mention' | 'message';
  count: number;
}

/** Web Push (RFC 8030, 8291, 8292): `gone` means the push service no longer knows the subscription. */
export interface PushSender {
  publicKey(): Promise<string>;
  send(sub: PushSubscriptionRecord, payload: PushPayload, options: { ttlSeconds: number; urgency: 'normal' | 'high'; topic: string }): Promise<'sent' | 'gone' | 'failed'>;
}

export interface NotificationSettings {
  /** At most one notification per user and room per this many seconds. */
  coalesceSeconds: number;
}

/** What the notification and outbound-event use-cases reach beyond the core ports. */
export interface NotifyPorts {
  notifications: NotificationStore;
  events: EventPublisher;
  push: PushSender;
  notifySettings: NotificationSettings;
}
