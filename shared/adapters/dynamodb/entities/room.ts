import * as z from 'zod';
import type { RoomRecord } from '#shared/model.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { itemOf, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

const schema: z.ZodType<RoomRecord> = z.object({
  roomId: z.string(),
  type: z.enum(['group', 'direct']),
  name: z.string().optional(),
  description: z.string().optional(),
  visibility: z.enum(['private', 'public']),
  maxMembers: z.number(),
  context: z.object({ kind: z.string(), id: z.string() }).optional(),
  createdBy: z.string(),
  createdAt: z.string(),
  memberCount: z.number(),
  lastSeq: z.number(),
  lastActivityAt: z.string(),
  archivedAt: z.string().optional(),
});

/** A room: its settings and counters (member count, last seq); listed in GSI1 while public. */
export const room = {
  key: (roomId: string) => keys.room(roomId),
  toItem: (r: RoomRecord): Item => itemOf(ENTITY.room, keys.room(r.roomId), r),
  fromItem: (item: Item): RoomRecord => parseItem(ENTITY.room, schema, item),
};
