import * as z from 'zod/mini';
import type { TypingRecord } from '#shared/model.ts';
import { ENTITY, TABLE } from '#shared/adapters/dynamodb/table.ts';
import { epochSeconds, itemOf, lazySchema, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

const schema = /* @__PURE__ */ lazySchema((): z.ZodMiniType<TypingRecord> => z.object({ roomId: z.string(), userId: z.string(), displayName: z.string(), until: z.string() }));

/** A typing indicator; DynamoDB's TTL removes it a second after it stops counting. */
export const typing = {
  key: (roomId: string, userId: string) => keys.typing(roomId, userId),
  toItem: (t: TypingRecord): Item => itemOf(ENTITY.typing, keys.typing(t.roomId, t.userId), t, { [TABLE.ttlAttribute]: epochSeconds(t.until) + 1 }),
  fromItem: (item: Item): TypingRecord => parseItem(ENTITY.typing, schema(), item),
};
