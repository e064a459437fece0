import * as z from 'zod/mini';
import type { MemberRecord, ReadMark, SeatRecord } from '#shared/model.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { itemOf, lazySchema, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

/**
 * A member's recent clientMessageIds are a map on the seat. Each name carries this prefix, so no
 * clientMessageId (`__proto__` included) is ever a special property name when the SDK
 * unmarshalls the map into a plain object. Names written before the prefix read as they are.
 */
const SENT_PREFIX = '~';
export const sentName = (clientMessageId: string) => `${SENT_PREFIX}${clientMessageId}`;

/**
 * A send rate window is counted in an attribute of its own, named after the window's start, so
 * that concurrent sends add to it without reading it first (`if_not_exists(...) + 1`); a send
 * removes the windows before its own.
 */
const WINDOW_PREFIX = 'rate';
export const sendWindowName = (windowStart: number) => `${WINDOW_PREFIX}${windowStart}`;

const schema = /* @__PURE__ */ lazySchema(() => z.object({
  roomId: z.string(),
  userId: z.string(),
  role: z.enum(['admin', 'moderator', 'member']),
  joinedAt: z.string(),
  lastReadSeq: z.number(),
  lastReadAt: z.optional(z.string()),
  lastReadMessageId: z.optional(z.string()),
  /** The read mark the member's own sends move (apart from receipts: a send is no read receipt). */
  sentSeq: z.optional(z.number()),
  sent: z.optional(z.unknown()),
}));

/** The claims of the `sent` map, by clientMessageId (read with Object.entries: no name is looked up). */
function claimsOf(sent: unknown): Map<string, number | string> {
  const claims = new Map<string, number | string>();
  if (typeof sent === 'object' && sent !== null) {
    for (const [name, claim] of Object.entries(sent)) {
      if (typeof claim === 'string' || typeof claim === 'number') claims.set(name.startsWith(SENT_PREFIX) ? name.slice(SENT_PREFIX.length) : name, claim);
    }
  }
  return claims;
}

/** The send windows of an item: its attributes named `rate<start>` holding a count. */
function windowNames(item: Item): [string, number, number][] {
  return Object.entries(item).flatMap(([name, count]) => {
    const start = name.startsWith(WINDOW_PREFIX) ? Number(name.slice(WINDOW_PREFIX.length)) : Number.NaN;
    return Number.isSafeInteger(start) && typeof count === 'number' ? [[name, start, count] as [string, number, number]] : [];
  });
}

/** The attributes a seat takes over from a member item written before seats, as they were stored. */
const CARRIED = ['lastReadSeq', 'lastReadAt', 'lastReadMessageId', 'sentSeq', 'sent'] as const;

/**
 * A member's seat (SEAT#<userId> / ROOM#<roomId>): role, read marks, send window and claims.
 * Written in the same transaction as the member item, deleted with it; never streamed but for
 * receipts (`readSource`, stream-filters.ts).
 */
export const seat = {
  key: (roomId: string, userId: string) => keys.seat(userId, roomId),
  /** A new member's seat: nothing read, an empty `sent` map, which a send's claim sets one name inside. */
  toItem: (m: Pick<MemberRecord, 'roomId' | 'userId' | 'role' | 'joinedAt'>): Item =>
    itemOf(ENTITY.seat, keys.seat(m.userId, m.roomId), { roomId: m.roomId, userId: m.userId, role: m.role, joinedAt: m.joinedAt, lastReadSeq: 0, sent: {} }),
  /**
   * The seat a member item written before seats stands for: its role and join time, and its
   * marks, claims and send windows as they were stored, so a retry of a send made before the
   * seat existed still finds its claim.
   */
  fromMemberItem: (item: Item): Item => {
    const roomId = String(item.roomId);
    const userId = String(item.userId);
    const carried: Item = { lastReadSeq: 0, sent: {} };
    for (const name of CARRIED) if (item[name] !== undefined) carried[name] = item[name];
    for (const [name, , count] of windowNames(item)) carried[name] = count;
    return itemOf(ENTITY.seat, keys.seat(userId, roomId), { roomId, userId, role: item.role, joinedAt: item.joinedAt, ...carried });
  },
  fromItem: (item: Item): SeatRecord => {
    const { sent, sentSeq, ...record } = parseItem(ENTITY.seat, schema(), item);
    const sendWindows = new Map(windowNames(item).map(([, start, count]) => [start, count]));
    return { ...record, lastReadSeq: Math.max(record.lastReadSeq, sentSeq ?? 0), sent: claimsOf(sent), ...(sendWindows.size > 0 && { sendWindows }) };
  },
  /** The read mark of a seat's (or, in records written before seats, a member's) receipt. */
  readMarkOf: (item: Item): ReadMark => {
    const lastReadSeq = Math.max(Number(item.lastReadSeq ?? 0), Number(item.sentSeq ?? 0));
    const at = typeof item.lastReadAt === 'string' ? item.lastReadAt : undefined;
    const mid = typeof item.lastReadMessageId === 'string' ? item.lastReadMessageId : undefined;
    return { roomId: String(item.roomId), userId: String(item.userId), lastReadSeq, ...(at && { lastReadAt: at }), ...(mid && { lastReadMessageId: mid }) };
  },
};
