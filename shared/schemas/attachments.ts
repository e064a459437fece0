import * as z from 'zod/mini';
import { schema } from './mini.ts';
import { ATTACHMENT_LIMITS, KNOWN_CONTENT_TYPES } from './limits.ts';

export { ATTACHMENT_LIMITS, KNOWN_CONTENT_TYPES };

/** The body of `POST /rooms/{roomId}/attachments`. */
export const createAttachmentBody = /* @__PURE__ */ schema(() => z.strictObject({
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
}));
export type CreateAttachmentInput = z.infer<typeof createAttachmentBody>;
