import * as z from 'zod';
import { idSchema, messageIdSchema } from './common.ts';

export const MESSAGE_LIMITS = {
  contentLength: 4000,
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
  content: z.string().max(MESSAGE_LIMITS.contentLength).optional(),
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
