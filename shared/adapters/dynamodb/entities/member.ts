import * as z from 'zod/mini';
import type { MemberRecord } from '#shared/model.ts';
import type { LevelSource } from '#shared/ports/notifications.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { itemOf, lazySchema, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

const schema = /* @__PURE__ */ lazySchema(() => z.object({
  roomId: z.string(),
  userId: z.string(),
  displayName: z.string(),
  role: z.enum(['admin', 'moderator', 'member']),
  joinedAt: z.string(),
}));

/**
 * Functions deployed before seats require a read mark on every member item: while a deploy rolls
 * out they still read members this code adds. Nothing here reads it.
 */
export const LEGACY_MARK = { lastReadSeq: 0 } as const;

/**
 * The copies of a member's notification preferences on their member item, so that the events
 * consumer's one Query of the room's members tells who a message may notify, whatever the room's
 * size. The preference items in the user's partition (notification.ts) stay the truth: every
 * change is written there first, then copied (notification-store.ts); each copy carries the
 * version of the item it was taken from and only ever moves forward.
 */
export const LEVEL_COPY = {
  userNotify: 'userNotify',
  userVersion: 'userPrefV',
  roomNotify: 'roomNotify',
  roomMutedUntil: 'roomMutedUntil',
  roomVersion: 'roomPrefV',
} as const;

/** The stream's receipt mark (stream-filters.ts), which a member item written before seats may hold. */
export const RECEIPT_MARK = 'readSource';

/**
 * Every attribute a copy names besides the item's key (level-copies.ts): the copies, and the
 * receipt mark it removes. IAM lets the preference routes touch these in rooms and nothing else
 * (infra/permissions.ts), so a copy that names another attribute is refused.
 */
export const COPY_ATTRIBUTES = [...Object.values(LEVEL_COPY), RECEIPT_MARK] as const;

/**
 * A room's member: name, role and when they joined; GSI1 lists a user's rooms. What changes with
 * each message (read marks, the send's window and claims) is on the member's seat (seat.ts).
 * Member items written before seats also hold those: seat.ts reads them once into a seat.
 */
export const member = {
  key: (roomId: string, userId: string) => keys.member(roomId, userId),
  /** Without `levels` (or a part of them), the item has no copy of it: the events consumer then reads the preference items. */
  toItem: (m: MemberRecord, levels?: Partial<LevelSource>): Item => {
    const { roomId, userId, displayName, role, joinedAt } = m;
    return itemOf(ENTITY.member, keys.member(roomId, userId), { roomId, userId, displayName, role, joinedAt }, { ...LEGACY_MARK, ...keys.memberGsi1(roomId, userId), ...(levels && member.levelAttributes(levels)) });
  },
  levelAttributes: ({ user, room }: Partial<LevelSource>): Item => ({
    ...(user && { [LEVEL_COPY.userVersion]: user.v, ...(user.notify && { [LEVEL_COPY.userNotify]: user.notify }) }),
    ...(room && {
      [LEVEL_COPY.roomVersion]: room.v,
      ...(room.pref.notify && { [LEVEL_COPY.roomNotify]: room.pref.notify }),
      ...(room.pref.mutedUntil && { [LEVEL_COPY.roomMutedUntil]: room.pref.mutedUntil }),
    }),
  }),
  fromItem: (item: Item): MemberRecord => {
    const { roomId, userId, displayName, role, joinedAt } = parseItem(ENTITY.member, schema(), item);
    return { roomId, userId, displayName, role, joinedAt };
  },
};
