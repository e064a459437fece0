import * as z from 'zod/mini';
import type { ReactionRecord } from '#shared/model.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { itemOf, lazySchema, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

const schema = /* @__PURE__ */ lazySchema((): z.ZodMiniType<ReactionRecord> => z.object({
  roomId: z.string(),
  messageId: z.string(),
  seq: z.number(),
  emoji: z.string(),
  userId: z.string(),
  createdAt: z.string(),
}));

/** One user's emoji on one message, sorted under the message's seq. */
export const reaction = {
  key: (r: Pick<ReactionRecord, 'roomId' | 'seq' | 'emoji' | 'userId'>) => keys.reaction(r.roomId, r.seq, r.emoji, r.userId),
  toItem: (r: ReactionRecord): Item => itemOf(ENTITY.reaction, keys.reaction(r.roomId, r.seq, r.emoji, r.userId), r),
  fromItem: (item: Item): ReactionRecord => parseItem(ENTITY.reaction, schema(), item),
};
