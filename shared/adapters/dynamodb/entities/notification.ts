import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { NotifyLevel, PushSubscriptionRecord, Recipient, RoomPreference } from '#shared/ports/notifications.ts';
import { TABLE, type Key } from '../table.ts';
import type { Item } from '../table-client.ts';

/**
 * The notification entities, all under the user's partition (so a grant may be narrowed to
 * `USER#` leading keys):
 *   notify-pref   USER#<userId> / NOTIFY                     the user's default level
 *   notify-room   USER#<userId> / NOTIFY#ROOM#<roomId>       their level and mute for the room, and where notifications stand
 *   push-sub      USER#<userId> / PUSH#<hash of endpoint>    one Web Push subscription
 * None of them is streamed to the fan-out or the events consumer (their filters name other entities).
 */
export const NOTIFY_ENTITY = { pref: 'notify-pref', room: 'notify-room', push: 'push-sub' } as const;

const level = z.enum(['all', 'mentions', 'none']);

export const notifyKeys = {
  pref: (userId: string): Key => ({ PK: `USER#${userId}`, SK: 'NOTIFY' }),
  room: (userId: string, roomId: string): Key => ({ PK: `USER#${userId}`, SK: `NOTIFY#ROOM#${roomId}` }),
  /** The endpoint is a long URL: its hash keeps the key short and free of `#`. */
  push: (userId: string, endpoint: string): Key => ({ PK: `USER#${userId}`, SK: `PUSH#${createHash('sha256').update(endpoint).digest('base64url')}` }),
  pushPrefix: (userId: string) => ({ PK: `USER#${userId}`, SKPrefix: 'PUSH#' }),
};

const prefItem = z.object({ notify: level });
export const userPrefEntity = {
  key: notifyKeys.pref,
  toItem: (userId: string, notify: NotifyLevel, at: string): Item => ({ ...notifyKeys.pref(userId), [TABLE.entityAttribute]: NOTIFY_ENTITY.pref, userId, notify, updatedAt: at }),
  fromItem: (item: Item | undefined): NotifyLevel | undefined => (item ? prefItem.parse(item).notify : undefined),
};

const roomItem = z.object({
  notify: level.optional(),
  mutedUntil: z.string().optional(),
  lastSeq: z.number().int().optional(),
  sentAt: z.string().optional(),
  pending: z.number().int().optional(),
});
export const roomNotifyEntity = {
  key: notifyKeys.room,
  preference(item: Item | undefined): RoomPreference {
    if (!item) return {};
    const { notify, mutedUntil } = roomItem.parse(item);
    return { ...(notify && { notify }), ...(mutedUntil && { mutedUntil }) };
  },
  fromItem(userId: string, pref: Item | undefined, room: Item | undefined): Recipient {
    const parsed = room ? roomItem.parse(room) : undefined;
    return {
      userId,
      ...(pref && { notify: userPrefEntity.fromItem(pref) }),
      room: roomNotifyEntity.preference(room),
      ...(parsed?.lastSeq !== undefined && {
        state: { lastSeq: parsed.lastSeq, pending: parsed.pending ?? 0, ...(parsed.sentAt && { sentAt: parsed.sentAt }) },
      }),
    };
  },
};

const pushItem = z.object({
  userId: z.string(),
  endpoint: z.string(),
  p256dh: z.string(),
  auth: z.string(),
  expirationTime: z.number().optional(),
  createdAt: z.string(),
});
export const pushSubscriptionEntity = {
  key: (s: Pick<PushSubscriptionRecord, 'userId' | 'endpoint'>) => notifyKeys.push(s.userId, s.endpoint),
  toItem: (s: PushSubscriptionRecord): Item => ({
    ...notifyKeys.push(s.userId, s.endpoint),
    [TABLE.entityAttribute]: NOTIFY_ENTITY.push,
    userId: s.userId,
    endpoint: s.endpoint,
    p256dh: s.keys.p256dh,
    auth: s.keys.auth,
    ...(s.expirationTime !== undefined && { expirationTime: s.expirationTime }),
    createdAt: s.createdAt,
  }),
  fromItem(item: Item): PushSubscriptionRecord {
    const { userId, endpoint, p256dh, auth, expirationTime, createdAt } = pushItem.parse(item);
    return { userId, endpoint, keys: { p256dh, auth }, createdAt, ...(expirationTime !== undefined && { expirationTime }) };
  },
};
