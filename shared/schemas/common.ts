import * as z from 'zod';
import { validationFailed } from '#shared/errors.ts';

/**
 * User ids come from the identity provider's `sub`; anything printable without `#` (the key
 * separator) or whitespace, as Cognito UUIDs and `provider|id` subjects are.
 */
export const userIdSchema = z.string().regex(/^[^\s#\p{Cc}]{1,128}$/u, 'must be 1-128 printable characters without spaces or #');
/** Ids Parley mints (ULID-based) or a client chooses (clientMessageId). */
export const idSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');
export const roomIdSchema = idSchema;
export const messageIdSchema = idSchema;

/**
 * A page cursor as a query parameter: opaque, checked by the domain against the list, its
 * parameters and the user it was issued for (shared/domain/cursors.ts).
 */
export const cursorSchema = z.string().max(1024).describe('The `nextCursor` of the previous page, unchanged');

/** What a cursor looks like (`<payload>.<tag>`, base64url), to tell one from another kind of value in one parameter. */
export const CURSOR_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Path parameters of `/rooms/{roomId}/...` routes. */
export const roomParams = z.object({ roomId: roomIdSchema });
/** Path parameters of `/rooms/{roomId}/messages/{messageId}/...` routes. */
export const messageParams = z.object({ roomId: roomIdSchema, messageId: messageIdSchema });

/** Parses `input` or throws `validation_failed` listing each bad field. */
export function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown, what = 'request'): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = issues[0];
  throw validationFailed(
    first ? `Invalid ${what}: ${first.path ? `${first.path}: ` : ''}${first.message}` : `Invalid ${what}`,
    { issues },
  );
}
