import * as z from 'zod/mini';
import type { ConnectionTarget } from '#shared/model.ts';
import { ENTITY, TABLE } from '#shared/adapters/dynamodb/table.ts';
import { itemOf, lazySchema, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

const schema = /* @__PURE__ */ lazySchema((): z.ZodMiniType<ConnectionTarget> => z.object({
  connectionId: z.string(),
  userId: z.string(),
  scopeRoomId: z.optional(z.string()),
}));

/**
 * An open connection of a room's member, listed in the room's live list (a partition of its
 * own): a fan-out reads the room's recipients in one Query, whatever the number of members who
 * are offline. Written and removed by the stream fan-out (live.ts of the domain); it expires with
 * its connection (`expiresAt`, epoch seconds), should a removal be lost.
 */
export const live = {
  key: (roomId: string, connectionId: string) => keys.live(roomId, connectionId),
  toItem: (roomId: string, c: ConnectionTarget, expiresAt: number): Item =>
    itemOf(
      ENTITY.live,
      keys.live(roomId, c.connectionId),
      { connectionId: c.connectionId, userId: c.userId, ...(c.scopeRoomId !== undefined && { scopeRoomId: c.scopeRoomId }) },
      { [TABLE.ttlAttribute]: expiresAt },
    ),
  fromItem: (item: Item): ConnectionTarget => parseItem(ENTITY.live, schema(), item),
};
