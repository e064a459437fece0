import * as z from 'zod/mini';
import type { MemberRecord } from '#shared/model.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { itemOf, lazySchema, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

const schema = lazySchema(() => z.object({
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
 * A room's member: name, role and when they joined; GSI1 lists a user's rooms. What changes with
 * each message (read marks, the send's window and claims) is on the member's seat (seat.ts).
 * Member items written before seats also hold those: seat.ts reads them once into a seat.
 */
export const member = {
  key: (roomId: string, userId: string) => keys.member(roomId, userId),
  toItem: (m: MemberRecord): Item => {
    const { roomId, userId, displayName, role, joinedAt } = m;
    return itemOf(ENTITY.member, keys.member(roomId, userId), { roomId, userId, displayName, role, joinedAt }, { ...LEGACY_MARK, ...keys.memberGsi1(roomId, userId) });
  },
  fromItem: (item: Item): MemberRecord => {
    const { roomId, userId, displayName, role, joinedAt } = parseItem(ENTITY.member, schema(), item);
    return { roomId, userId, displayName, role, joinedAt };
  },
};
