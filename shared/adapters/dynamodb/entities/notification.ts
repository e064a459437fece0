import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { NotificationState, NotifyLevel, PushSubscriptionRecord, RoomPreference } from '#shared/ports/notifications.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { itemOf, lazySchema, parseItem, type Item, type Key } from './entity.ts';

/**
 * The notification entities, all in the user's partition (so grants narrow to `USER#` leading keys):
 *   notify-pref   USER#<userId> / NOTIFY                     the user's default level
 *   notify-room   USER#<userId> / NOTIFY#ROOM#<roomId>       their level and mute for the room, and where its notifications stand
 *   push-sub      USER#<userId> / PUSH#<hash of endpoint>    one Web Push subscription
 * None is streamed: the consumers' filters name other entities.
 */
export const notifyKeys = {
  pref: (userId: string): Key => ({ PK: `USER#${userId}`, SK: 'NOTIFY' }),
  room: (userId: string, roomId: string): Key => ({ PK: `USER#${userId}`, SK: `NOTIFY#ROOM#${roomId}` }),
  /** The endpoint is a long URL: its hash keeps the key short and free of `#`. */
  push: (userId: string, endpoint: string): Key => ({ PK: `USER#${userId}`, SK: `PUSH#${createHash('sha256').update(endpoint).digest('base64url')}` }),
  pushPrefix: (userId: string) => ({ PK: `USER#${userId}`, SKPrefix: 'PUSH#' }),
};

const level = () => z.enum(['all', 'mentions', 'none']);

/**
 * Each preference item counts its changes (`prefV`, absent: 0, as before counting began): the
 * copies on member items (member.ts) keep the highest version they were given, so copies written
 * in any order end as the last change.
 */
export const PREF_VERSION = 'prefV';

// Built on first use (entity.ts): the room store loads these entities for the copies, and most of its functions never parse one.
const prefSchema = /* @__PURE__ */ lazySchema(() => z.object({ notify: level(), prefV: z.optional(z.number().check(z.int())) }));
export const userPrefEntity = {
  key: (userId: string): Key => notifyKeys.pref(userId),
  toItem: (userId: string, notify: NotifyLevel, at: string): Item => itemOf(ENTITY.notifyPref, notifyKeys.pref(userId), { userId, notify, updatedAt: at }),
  fromItem: (item: Item | undefined): NotifyLevel | undefined => (item ? parseItem(ENTITY.notifyPref, prefSchema(), item).notify : undefined),
  /** The level and the version it is at (0 and no level: never chosen). */
  versioned(item: Item | undefined): { notify?: NotifyLevel; v: number } {
    if (!item) return { v: 0 };
    const { notify, prefV } = parseItem(ENTITY.notifyPref, prefSchema(), item);
    return { notify, v: prefV ?? 0 };
  },
};

const roomSchema = /* @__PURE__ */ lazySchema(() => z.object({
  notify: z.optional(level()),
  mutedUntil: z.optional(z.string()),
  lastSeq: z.optional(z.number().check(z.int())),
  sentAt: z.optional(z.string()),
  pending: z.optional(z.number().check(z.int())),
  prefV: z.optional(z.number().check(z.int())),
}));
export const roomNotifyEntity = {
  key: (userId: string, roomId: string): Key => notifyKeys.room(userId, roomId),
  preference(item: Item | undefined): RoomPreference {
    if (!item) return {};
    const { notify, mutedUntil } = parseItem(ENTITY.notifyRoom, roomSchema(), item);
    return { ...(notify && { notify }), ...(mutedUntil && { mutedUntil }) };
  },
  /** The level and mute, and the version they are at (0: never set, or set before versions were counted). */
  versioned(item: Item | undefined): { pref: RoomPreference; v: number } {
    return { pref: roomNotifyEntity.preference(item), v: item ? (parseItem(ENTITY.notifyRoom, roomSchema(), item).prefV ?? 0) : 0 };
  },
  state(item: Item | undefined): NotificationState | undefined {
    const parsed = item ? parseItem(ENTITY.notifyRoom, roomSchema(), item) : undefined;
    if (parsed?.lastSeq === undefined) return undefined;
    return { lastSeq: parsed.lastSeq, pending: parsed.pending ?? 0, ...(parsed.sentAt && { sentAt: parsed.sentAt }) };
  },
};

const pushSchema = /* @__PURE__ */ lazySchema(() => z.object({
  userId: z.string(),
  endpoint: z.string(),
  p256dh: z.string(),
  auth: z.string(),
  expirationTime: z.optional(z.number()),
  createdAt: z.string(),
}));
export const pushSubscriptionEntity = {
  key: (s: Pick<PushSubscriptionRecord, 'userId' | 'endpoint'>) => notifyKeys.push(s.userId, s.endpoint),
  toItem: (s: PushSubscriptionRecord): Item =>
    itemOf(ENTITY.pushSubscription, notifyKeys.push(s.userId, s.endpoint), {
      userId: s.userId,
      endpoint: s.endpoint,
      p256dh: s.keys.p256dh,
      auth: s.keys.auth,
      ...(s.expirationTime !== undefined && { expirationTime: s.expirationTime }),
      createdAt: s.createdAt,
    }),
  fromItem(item: Item): PushSubscriptionRecord {
    const { userId, endpoint, p256dh, auth, expirationTime, createdAt } = parseItem(ENTITY.pushSubscription, pushSchema(), item);
    return { userId, endpoint, keys: { p256dh, auth }, createdAt, ...(expirationTime !== undefined && { expirationTime }) };
  },
};
