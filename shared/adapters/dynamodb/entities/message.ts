import * as z from 'zod/mini';
import type { MessageRecord } from '#shared/model.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { itemOf, lazySchema, parseItem, type Item } from './entity.ts';
import { keys } from './keys.ts';
import { contentFromStored, storedContent } from './message-content.ts';

export const attachmentRefSchema = /* @__PURE__ */ lazySchema(() => z.looseObject({ id: z.string(), key: z.string(), name: z.string(), size: z.number(), contentType: z.string(), width: z.optional(z.number()), height: z.optional(z.number()) }));

const schema = /* @__PURE__ */ lazySchema(() => z.object({
  id: z.string(),
  roomId: z.string(),
  seq: z.number(),
  senderId: z.string(),
  senderName: z.string(),
  type: z.string(),
  content: z.string(),
  replyTo: z.optional(z.looseObject({ id: z.string(), seq: z.number(), senderId: z.string(), excerpt: z.string() })),
  mentions: z.array(z.string()),
  // JSON text, or an older item's map passed on as read: a zod record would rebuild the object and
  // lose a `__proto__` key. One check rather than a union: a bundle then carries no union parser.
  metadata: z.optional(z.custom<string | Record<string, unknown>>((v) => typeof v === 'string' || (typeof v === 'object' && v !== null && !Array.isArray(v)))),
  clientMessageId: z.optional(z.string()),
  attachments: z.optional(z.array(attachmentRefSchema())),
  createdAt: z.string(),
  editedAt: z.optional(z.string()),
  deletedAt: z.optional(z.string()),
  mv: z.optional(z.number()),
  rt: z.optional(z.enum(['group', 'direct'])),
}));

/**
 * A message, under its room and seq. `metadata` is stored as its JSON text (a string attribute),
 * not as a DynamoDB map: a map cannot hold every object the API accepts (empty keys, nesting past
 * DynamoDB's 32 levels, numbers beyond its 38 digits such as 1e308 or 5e-324), and a `__proto__`
 * key would not survive the SDK's unmarshalling into a plain object. JSON.parse keeps such keys as
 * own properties. Items written before kept a map: those still read as they are.
 *
 * Long text is stored compressed (`contentZ`, message-content.ts); every reader of a message item
 * (queries, stream images) goes through `fromItem`, which gives the text back either way.
 * `membersAt` and `roomType` are stored as `mv` and `rt`: every message carries them, and a few
 * bytes more can take an item past 1 KB, a second write unit.
 */
export const message = {
  key: (roomId: string, seq: number) => keys.message(roomId, seq),
  toItem: ({ content, membersAt, roomType, ...m }: MessageRecord): Item =>
    itemOf(ENTITY.message, keys.message(m.roomId, m.seq), {
      ...(m.metadata === undefined ? m : { ...m, metadata: JSON.stringify(m.metadata) }),
      ...storedContent(content),
      ...(membersAt !== undefined && { mv: membersAt }),
      ...(roomType !== undefined && { rt: roomType }),
    }),
  fromItem: (item: Item): MessageRecord => {
    const { metadata, mv, rt, ...parsed } = parseItem(ENTITY.message, schema(), withText(item));
    const record: MessageRecord = { ...parsed, ...(mv !== undefined && { membersAt: mv }), ...(rt !== undefined && { roomType: rt }) };
    if (metadata === undefined) return record;
    return { ...record, metadata: typeof metadata === 'string' ? (JSON.parse(metadata) as Record<string, unknown>) : metadata };
  },
};

/** The item with its text as `content`, decompressed where it was stored as `contentZ`. */
function withText(item: Item): Item {
  const { contentZ } = item;
  if (contentZ === undefined) return item;
  if (item.content !== undefined) throw new Error('Malformed message item (content: stored both plain and compressed)');
  if (typeof contentZ !== 'string' && !(contentZ instanceof Uint8Array)) throw new Error('Malformed message item (contentZ: not binary)');
  let content: string;
  try {
    content = contentFromStored(contentZ);
  } catch (err) {
    throw new Error(`Malformed message item (contentZ: ${(err as Error).message})`);
  }
  return { ...item, content };
}
