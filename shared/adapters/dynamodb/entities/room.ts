import * as z from 'zod/mini';
import type { RoomRecord } from '#shared/model.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { itemOf, lazySchema, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

const schema = /* @__PURE__ */ lazySchema((): z.ZodMiniType<RoomRecord> => z.object({
  roomId: z.string(),
  type: z.enum(['group', 'direct']),
  name: z.optional(z.string()),
  description: z.optional(z.string()),
  visibility: z.enum(['private', 'public']),
  maxMembers: z.number(),
  context: z.optional(z.object({ kind: z.string(), id: z.string() })),
  createdBy: z.string(),
  createdAt: z.string(),
  memberCount: z.number(),
  lastSeq: z.number(),
  lastActivityAt: z.string(),
  archivedAt: z.optional(z.string()),
  reactedSeq: z.optional(z.number()),
  memberVersion: z.optional(z.number()),
}));

/** A room: its settings and counters (member count, last seq); listed in GSI1 while public. */
export const room = {
  key: (roomId: string) => keys.room(roomId),
  toItem: (r: RoomRecord): Item => itemOf(ENTITY.room, keys.room(r.roomId), r),
  fromItem: (item: Item): RoomRecord => parseItem(ENTITY.room, schema(), item),
};
