import * as z from 'zod/mini';
import { isoDateTime, schema } from './mini.ts';
import { CURSOR_PATTERN, cursorSchema, idSchema, messageIdSchema, queryInt, roomIdSchema } from './common.ts';
import { MESSAGE_LIMITS } from './limits.ts';

export { MESSAGE_LIMITS };

const isJsonObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How deeply objects and arrays nest in `value` (the value itself is level 1), counted up to `cap` + 1. */
export function nestingDepth(value: unknown, cap: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, level] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, level);
    if (deepest > cap) return deepest;
    for (const child of Object.values(v)) stack.push([child, level + 1]);
  }
  return deepest;
}

/**
 * Any JSON object up to 32 levels deep and 8 KB serialized, kept exactly as sent: a zod object
 * or record would rebuild it and drop a `__proto__` key, so the object is checked, not rebuilt.
 */
export const metadataSchema = /* @__PURE__ */ schema(() => z
  .custom<Record<string, unknown>>(isJsonObject, { message: 'must be a JSON object' })
  .check(
    z.superRefine((m, ctx) => {
      if (!isJsonObject(m)) return;
      if (nestingDepth(m, MESSAGE_LIMITS.metadataDepth) > MESSAGE_LIMITS.metadataDepth) {
        ctx.addIssue({ code: 'custom', message: `must nest at most ${MESSAGE_LIMITS.metadataDepth} levels deep` });
      } else if (Buffer.byteLength(JSON.stringify(m)) > MESSAGE_LIMITS.metadataBytes) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${MESSAGE_LIMITS.metadataBytes} bytes as JSON` });
      }
    }),
  )
  .register(z.globalRegistry, { type: 'object', additionalProperties: true, description: 'Any JSON object: at most 8 KB as JSON and 32 levels deep; returned as sent.' }));

/** The body of `POST /rooms/{roomId}/messages`, and of a `message_send` frame without `type`/`roomId`. */
export const sendMessageFields = /* @__PURE__ */ schema(() => ({
  content: z.optional(z.string().check(z.maxLength(MESSAGE_LIMITS.contentHardLimit))),
  messageType: z._default(z.enum(['text', 'image', 'file']), 'text'),
  replyTo: z.optional(messageIdSchema),
  metadata: z.optional(metadataSchema),
  clientMessageId: z.optional(idSchema),
  attachmentIds: z.optional(z.array(idSchema).check(z.maxLength(10))),
}));

const requireContent = (m: { content?: string | undefined; attachmentIds?: string[] | undefined }) =>
  (m.content !== undefined && m.content.trim().length > 0) || (m.attachmentIds?.length ?? 0) > 0;
const contentIssue = { message: 'content is required unless attachments are given', path: ['content'] };

export const sendMessageBody = /* @__PURE__ */ schema(() => z.strictObject(sendMessageFields).check(z.refine(requireContent, contentIssue)));
export type SendMessageInput = z.infer<typeof sendMessageBody>;

export const historyQuery = /* @__PURE__ */ schema(() => z
  .strictObject({
    limit: z._default(queryInt(1, MESSAGE_LIMITS.historyPageMax), MESSAGE_LIMITS.historyPageDefault),
    beforeSeq: z.optional(queryInt(1)),
    afterSeq: z.optional(queryInt(0)),
    cursor: z.optional(cursorSchema),
  })
  // An empty cursor is no cursor, as on every list.
  .check(
    z.refine((q) => [q.beforeSeq, q.afterSeq, q.cursor || undefined].filter((v) => v !== undefined).length <= 1, {
      message: 'use one of beforeSeq, afterSeq or cursor',
    }),
  ));
export type HistoryQuery = z.infer<typeof historyQuery>;

export { requireContent, contentIssue };

/**
 * Exactly one RGI emoji (skin tones, ZWJ sequences, flags and keycaps included). Built on the first
 * emoji checked, not with the module: V8 takes 10-20 ms to build the RGI_Emoji set, which every
 * function importing these schemas would pay at its cold start, most of them never to use it.
 */
let rgiEmoji: RegExp | undefined;
const isEmoji = (e: string) => (rgiEmoji ??= new RegExp('^\\p{RGI_Emoji}$', 'v')).test(e);
export const emojiSchema = /* @__PURE__ */ schema(() => z.string().check(z.maxLength(64), z.refine(isEmoji, { message: 'must be a single emoji' })));

export const editMessageBody = /* @__PURE__ */ schema(() => z.strictObject({ content: z.string().check(z.maxLength(MESSAGE_LIMITS.contentHardLimit)) }));

export const readBody = /* @__PURE__ */ schema(() => z.strictObject({ messageId: messageIdSchema }));

/**
 * `since` is where the feed starts: a time the client picks (an ISO time), or the `cursor` the
 * previous call answered, which older clients already pass back as `since`.
 */
export const changesQuery = /* @__PURE__ */ schema(() => z.strictObject({
  since: z
    .union([
      z.pipe(
        isoDateTime({ offset: true }),
        z.transform((time) => ({ time })),
      ),
      z.pipe(
        z.string().check(z.maxLength(1024), z.regex(CURSOR_PATTERN)),
        z.transform((cursor) => ({ cursor })),
      ),
    ])
    .register(z.globalRegistry, { description: 'An ISO time, or the `cursor` the previous call returned' }),
  limit: z._default(queryInt(1, MESSAGE_LIMITS.historyPageMax), MESSAGE_LIMITS.historyPageMax),
}));
export type ChangesQuery = z.infer<typeof changesQuery>;

/** Path parameters of `/rooms/{roomId}/messages/{messageId}/reactions/{emoji}`. */
export const reactionParams = /* @__PURE__ */ schema(() => z.object({ roomId: roomIdSchema, messageId: messageIdSchema, emoji: emojiSchema }));
