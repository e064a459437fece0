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
  width: z.optional(z.number()),
  height: z.optional(z.number()),
}));

/** What a read projected to `id, thumbnail, width, height` holds. */
const thumbnailSchema = /* @__PURE__ */ lazySchema(() => z.object({ id: z.string(), thumbnail: z.optional(z.boolean()), width: z.optional(z.number()), height: z.optional(z.number()) }));

/** An upload slot in the room's partition: a pending one carries the TTL attribute, an attached one none. */
export const attachment = {
  key: (roomId: string, id: string) => keys.attachment(roomId, id),
  /** A pending upload, expiring at `expiresAt`. */
  toItem: (a: AttachmentRecord, expiresAt: string): Item =>
    itemOf(ENTITY.attachment, keys.attachment(a.roomId, a.id), a, { [TABLE.ttlAttribute]: epochSeconds(expiresAt) }),
  fromItem: (item: Item): AttachmentRecord => parseItem(ENTITY.attachment, schema(), item),
  /**
   * Whether a read projected to `id, thumbnail, width, height` found the thumbnail recorded, and
   * then the image's measured size (recorded with it; none on slots recorded before sizes were).
   */
  thumbnailOf: (item: Item): { id: string; made: boolean; width?: number; height?: number } => {
    const { id, thumbnail, width, height } = parseItem(ENTITY.attachment, thumbnailSchema(), item);
    return { id, made: thumbnail === true, ...(thumbnail === true && width && height && { width, height }) };
  },
};
