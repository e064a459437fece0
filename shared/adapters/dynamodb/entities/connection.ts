import * as z from 'zod/mini';
import type { ConnectionRecord } from '#shared/model.ts';
import { ENTITY, TABLE } from '#shared/adapters/dynamodb/table.ts';
import { epochSeconds, itemOf, lazySchema, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

const schema = /* @__PURE__ */ lazySchema((): z.ZodMiniType<ConnectionRecord> => z.object({
  connectionId: z.string(),
  userId: z.string(),
  displayName: z.string(),
  scopeRoomId: z.optional(z.string()),
  connectedAt: z.string(),
}));

/** An open WebSocket connection; it expires `ttlSeconds` after it connected, should `$disconnect` be lost. */
export const connection = {
  key: (connectionId: string) => keys.connection(connectionId),
  toItem: (c: ConnectionRecord, ttlSeconds: number): Item =>
    itemOf(ENTITY.connection, keys.connection(c.connectionId), c, { [TABLE.ttlAttribute]: epochSeconds(c.connectedAt) + ttlSeconds }),
  fromItem: (item: Item): ConnectionRecord => parseItem(ENTITY.connection, schema(), item),
};
