import * as z from 'zod';
import { idSchema, messageIdSchema, roomIdSchema } from './common.ts';

export const MESSAGE_LIMITS = {
  /** Default; the deployment may set another (ENV.maxMessageLength), checked by the domain. */
  contentLength: 4000,
  /** What a frame can carry at all (API Gateway refuses frames over 32 KB). */
  contentHardLimit: 32_000,
  editWindowSeconds: 15 * 60,
  reactionsPerMessage: 50,
  metadataBytes: 8 * 1024,
  historyPageDefault: 50,
  historyPageMax: 100,
} as const;

const metadataSchema = z
  .record(z.string(), z.unknown())
  .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= MESSAGE_LIMITS.metadataBytes, {
    message: `must be at most ${MESSAGE_LIMITS.metadataBytes} bytes as JSON`,
  });

/** The body of `POST /rooms/{roomId}/messages`, and of a `message_send` frame without `type`/`roomId`. */
export const sendMessageFields = {
  content: z.string().max(MESSAGE_LIMITS.contentHardLimit).optional(),
  messageType: z.enum(['text', 'image', 'file']).default('text'),
  replyTo: messageIdSchema.optional(),
  metadata: metadataSchema.optional(),
  clientMessageId: idSchema.optional(),
  attachmentIds: z.array(idSchema).max(10).optional(),
};

const requireContent = (m: { content?: string | undefined; attachmentIds?: string[] | undefined }) =>
  (m.content !== undefined && m.content.trim().length > 0) || (m.attachmentIds?.length ?? 0) > 0;
const contentIssue = { message: 'content is required unless attachments are given', path: ['content'] };

export const sendMessageBody = z.strictObject(sendMessageFields).refine(requireContent, contentIssue);
export type SendMessageInput = z.infer<typeof sendMessageBody>;

export const historyQuery = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(MESSAGE_LIMITS.historyPageMax).default(MESSAGE_LIMITS.historyPageDefault),
    beforeSeq: z.coerce.number().int().min(1).optional(),
    afterSeq: z.coerce.number().int().min(0).optional(),
  })
  .refine((q) => !(q.beforeSeq !== undefined && q.afterSeq !== undefined), {
    message: 'use either beforeSeq or afterSeq, not both',
  });
export type HistoryQuery = z.infer<typeof historyQuery>;

export { requireContent, contentIssue };

/** Exactly one RGI emoji (skin tones, ZWJ sequences, flags and keycaps included). */
const RGI_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');
export const emojiSchema = z.string().max(64).refine((e) => RGI_EMOJI.test(e), { message: 'must be a single emoji' });

export const editMessageBody = z.strictObject({ content: z.string().max(MESSAGE_LIMITS.contentHardLimit) });

export const readBody = z.strictObject({ messageId: messageIdSchema });

export const changesQuery = z.strictObject({
  since: z.iso.datetime({ offset: true }),
  limit: z.coerce.number().int().min(1).max(MESSAGE_LIMITS.historyPageMax).default(MESSAGE_LIMITS.historyPageMax),
});
export type ChangesQuery = z.infer<typeof changesQuery>;

/** Path parameters of `/rooms/{roomId}/messages/{messageId}/reactions/{emoji}`. */
export const reactionParams = z.object({ roomId: roomIdSchema, messageId: messageIdSchema, emoji: emojiSchema });
