import * as z from 'zod/mini';
import { schema } from './mini.ts';
import { ATTACHMENT_LIMITS, KNOWN_CONTENT_TYPES } from './limits.ts';

export { ATTACHMENT_LIMITS, KNOWN_CONTENT_TYPES };

/** A side of an image in pixels (docs/attachments.md §1: displayed size, after EXIF orientation). */
const imageSide = () => z.number().check(z.int(), z.gte(1), z.lte(ATTACHMENT_LIMITS.imageSideMax));

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
  /** An image's displayed size in pixels (after its EXIF orientation), so a client can lay it out before it loads. */
  width: z.optional(imageSide()),
  height: z.optional(imageSide()),
}).check(
  // One side alone is no shape, and only an image has one. (Refused rather than ignored: a client
  // sending sizes for a PDF has mixed two files up.)
  z.superRefine((b, ctx) => {
    if ((b.width === undefined) !== (b.height === undefined)) {
      ctx.addIssue({ code: 'custom', path: [b.width === undefined ? 'width' : 'height'], message: 'give width and height together, or neither', input: b });
    } else if (b.width !== undefined && !b.contentType.startsWith('image/')) {
      ctx.addIssue({ code: 'custom', path: ['width'], message: 'only an image has a width and height', input: b });
    }
  }),
));
export type CreateAttachmentInput = z.infer<typeof createAttachmentBody>;
