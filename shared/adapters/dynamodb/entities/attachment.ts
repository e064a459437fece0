import * as z from 'zod/mini';
import type { AttachmentRecord } from '#shared/model.ts';
import { ENTITY, TABLE } from '#shared/adapters/dynamodb/table.ts';
import { epochSeconds, itemOf, lazySchema, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';

const schema = /* @__PURE__ */ lazySchema((): z.ZodMiniType<AttachmentRecord> => z.object({
  id: z.string(),
  key: z.string(),
  name: z.string(),
  size: z.number(),
  contentType: z.string(),
  roomId: z.string(),
  uploaderId: z.string(),
  createdAt: z.string(),
  status: z.enum(['pending', 'attached']),
  messageId: z.optional(z.string()),
}));

/** What a read projected to `id, thumbnail` holds. */
const thumbnailSchema = /* @__PURE__ */ lazySchema(() => z.object({ id: z.string(), thumbnail: z.optional(z.boolean()) }));

/** An upload slot in the room's partition: a pending one carries the TTL attribute, an attached one none. */
export const attachment = {
  key: (roomId: string, id: string) => keys.attachment(roomId, id),
  /** A pending upload, expiring at `expiresAt`. */
  toItem: (a: AttachmentRecord, expiresAt: string): Item =>
    itemOf(ENTITY.attachment, keys.attachment(a.roomId, a.id), a, { [TABLE.ttlAttribute]: epochSeconds(expiresAt) }),
  fromItem: (item: Item): AttachmentRecord => parseItem(ENTITY.attachment, schema(), item),
  /** Whether a read projected to `id, thumbnail` found the thumbnail recorded. */
  thumbnailOf: (item: Item): { id: string; made: boolean } => {
    const { id, thumbnail } = parseItem(ENTITY.attachment, thumbnailSchema(), item);
    return { id, made: thumbnail === true };
  },
};
