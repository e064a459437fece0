import * as z from 'zod/mini';
import type { ChangeRecord } from '#shared/model.ts';
import { ENTITY, TABLE } from '#shared/adapters/dynamodb/table.ts';
import { epochSeconds, itemOf, lazySchema, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

const schema = /* @__PURE__ */ lazySchema((): z.ZodMiniType<ChangeRecord> => z.object({
  roomId: z.string(),
  seq: z.number(),
  messageId: z.string(),
  kind: z.enum(['edited', 'deleted', 'reactions']),
  at: z.string(),
}));

/** An entry of a room's catch-up log, sorted by time; it expires `ttlSeconds` after it was made. */
export const change = {
  key: (c: ChangeRecord) => keys.change(c.roomId, c.at, c.seq, c.kind),
  toItem: (c: ChangeRecord, ttlSeconds: number): Item =>
    itemOf(ENTITY.change, keys.change(c.roomId, c.at, c.seq, c.kind), c, { [TABLE.ttlAttribute]: epochSeconds(c.at) + ttlSeconds }),
  fromItem: (item: Item): ChangeRecord => parseItem(ENTITY.change, schema(), item),
};
