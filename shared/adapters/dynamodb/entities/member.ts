import * as z from 'zod/mini';
import type { MemberRecord } from '#shared/model.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { itemOf, lazySchema, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

/**
 * A member's recent clientMessageIds are a map on the member item. Each name carries this prefix,
 * so no clientMessageId (`__proto__` included) is ever a special property name when the SDK
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

const schema = lazySchema(() => z.object({
  roomId: z.string(),
  userId: z.string(),
  displayName: z.string(),
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

function windowsOf(item: Item): Map<number, number> {
  const windows = new Map<number, number>();
  for (const [name, count] of Object.entries(item)) {
    const start = name.startsWith(WINDOW_PREFIX) ? Number(name.slice(WINDOW_PREFIX.length)) : Number.NaN;
    if (Number.isSafeInteger(start) && typeof count === 'number') windows.set(start, count);
  }
  return windows;
}

/** A room's member: role, read mark, and the clientMessageIds of their recent sends. GSI1 lists a user's rooms. */
export const member = {
  key: (roomId: string, userId: string) => keys.member(roomId, userId),
  /** A new member item: an empty `sent` map, which a send's claim sets one name inside. */
  toItem: (m: MemberRecord): Item => {
    const { sent: _claims, sendWindows: _windows, ...record } = m;
    return itemOf(ENTITY.member, keys.member(m.roomId, m.userId), { ...record, sent: {} }, keys.memberGsi1(m.roomId, m.userId));
  },
  fromItem: (item: Item): MemberRecord => {
    const { sent, sentSeq, ...record } = parseItem(ENTITY.member, schema(), item);
    const sendWindows = windowsOf(item);
    return { ...record, lastReadSeq: Math.max(record.lastReadSeq, sentSeq ?? 0), sent: claimsOf(sent), ...(sendWindows.size > 0 && { sendWindows }) };
  },
};
