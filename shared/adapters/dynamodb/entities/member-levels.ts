import * as z from 'zod/mini';
import type { MemberLevels } from '#shared/ports/notifications.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { lazySchema, parseItem, type Item } from './entity.ts';
import { LEVEL_COPY } from './member.ts';

/**
 * The copies of preferences on member items (member.ts, `LEVEL_COPY`) as the events consumer
 * reads them. Apart from member.ts, which every function that touches a room loads: only the
 * consumer and the migration read them.
 */
const levelSchema = /* @__PURE__ */ lazySchema(() => {
  const level = z.enum(['all', 'mentions', 'none']);
  return z.object({
    userId: z.string(),
    userNotify: z.optional(level),
    userPrefV: z.optional(z.number()),
    roomNotify: z.optional(level),
    roomMutedUntil: z.optional(z.string()),
    roomPrefV: z.optional(z.number()),
  });
});

export const memberLevels = {
  /** What a member Query needs of each item for `levelsOf`. */
  projection: ['userId', ...Object.values(LEVEL_COPY)].join(', '),
  /** The copies a member item carries (a part without its version was never copied there). */
  levelsOf: (item: Item): MemberLevels => {
    const c = parseItem(ENTITY.member, levelSchema(), item);
    return {
      userId: c.userId,
      ...(c.userPrefV !== undefined && { user: c.userNotify ? { notify: c.userNotify } : {} }),
      ...(c.roomPrefV !== undefined && { room: { ...(c.roomNotify && { notify: c.roomNotify }), ...(c.roomMutedUntil && { mutedUntil: c.roomMutedUntil }) } }),
    };
  },
};
