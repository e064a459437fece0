import * as z from 'zod/mini';
import type { MemberRecord } from '#shared/model.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { itemOf, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

/**
 * A member's recent clientMessageIds are a map on the member item. Each name carries this prefix,
 * so no clientMessageId (`__proto__` included) is ever a special property name when the SDK
 * unmarshalls the map into a plain object. Names written before the prefix read as they are.
 */
const SENT_PREFIX = '~';
export const sentName = (clientMessageId: string) => `${SENT_PREFIX}${clientMessageId}`;

const schema = z.object({
  roomId: z.string(),
  userId: z.string(),
  displayName: z.string(),
  role: z.enum(['admin', 'moderator', 'member']),
  joinedAt: z.string(),
  lastReadSeq: z.number(),
  lastReadAt: z.optional(z.string()),
  lastReadMessageId: z.optional(z.string()),
  sent: z.optional(z.unknown()),
});

/** The claims of the `sent` map, by clientMessageId (read with Object.entries: no name is looked up). */
function claimsOf(sent: unknown): Map<string, string> {
  const claims = new Map<string, string>();
  if (typeof sent === 'object' && sent !== null) {
    for (const [name, at] of Object.entries(sent)) {
      if (typeof at === 'string') claims.set(name.startsWith(SENT_PREFIX) ? name.slice(SENT_PREFIX.length) : name, at);
    }
  }
  return claims;
}

/** A room's member: role, read mark, and the clientMessageIds of their recent sends. GSI1 lists a user's rooms. */
export const member = {
  key: (roomId: string, userId: string) => keys.member(roomId, userId),
  /** A new member item: an empty `sent` map, which a send's claim sets one name inside. */
  toItem: (m: MemberRecord): Item => {
    const { sent: _claims, ...record } = m;
    return itemOf(ENTITY.member, keys.member(m.roomId, m.userId), { ...record, sent: {} }, keys.memberGsi1(m.roomId, m.userId));
  },
  fromItem: (item: Item): MemberRecord => {
    const { sent, ...record } = parseItem(ENTITY.member, schema, item);
    return { ...record, sent: claimsOf(sent) };
  },
};
