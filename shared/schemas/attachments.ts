import * as z from 'zod/mini';

/** Defaults an operator may change (ENV.attachmentMaxBytes, ENV.attachmentTypes, ...). */
export const ATTACHMENT_LIMITS = {
  maxBytes: 10 * 1024 * 1024,
  perMessage: 10,
  uploadUrlSeconds: 5 * 60,
  downloadUrlSeconds: 15 * 60,
  /** An upload no message claims is deleted after this long. */
  unattachedSeconds: 24 * 60 * 60,
  fileNameLength: 255,
} as const;

/** Content types the server can verify by their first bytes; the default allow-list is all of them. */
export const KNOWN_CONTENT_TYPES = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'application/pdf',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'text/plain',
] as const;

/** The body of `POST /rooms/{roomId}/attachments`. */
export const createAttachmentBody = z.strictObject({
  fileName: z.string().check(
    z.minLength(1),
    z.maxLength(ATTACHMENT_LIMITS.fileNameLength),
    // Shown to others and used as the download name (percent-encoded into Content-Disposition,
    // which a lone surrogate cannot be): well-formed text, no control characters, no paths.
    z.refine((n) => !/[\u0000-\u001f\u007f/\\]|\p{Cs}/u.test(n) && n.trim() !== '' && n !== '.' && n !== '..', { message: 'must be a plain file name' }),
  ),
  contentType: z.pipe(
    z.string().check(z.minLength(3), z.maxLength(127)),
    z.transform((t) => t.trim().toLowerCase()),
  ),
  size: z.number().check(z.int(), z.gte(1)),
});
export type CreateAttachmentInput = z.infer<typeof createAttachmentBody>;
