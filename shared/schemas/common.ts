import * as z from 'zod/mini';
import { coercedNumber, schema } from './mini.ts';

/*
 * zod/mini: the same validators as zod's chaining API, as functions a bundler drops when unused
 * (about 25 KB in a function's bundle rather than 85 KB). It loads no messages of its own: zod's
 * English ones come with `parseOrThrow` (parse.ts), where clients read them.
 */

/**
 * User ids come from the identity provider's `sub`; anything printable without `#` (the key
 * separator) or whitespace, as Cognito UUIDs and `provider|id` subjects are.
 */
export const userIdSchema = /* @__PURE__ */ schema(() => z.string().check(z.regex(/^[^\s#\p{Cc}]{1,128}$/u, 'must be 1-128 printable characters without spaces or #')));
/** Ids Parley mints (ULID-based) or a client chooses (clientMessageId). */
export const idSchema = /* @__PURE__ */ schema(() => z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -')));
export const roomIdSchema = idSchema;
export const messageIdSchema = idSchema;

/** What a cursor looks like (`<payload>.<tag>`, base64url), to tell one from another kind of value in one parameter. */
export const CURSOR_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * A page cursor as a query parameter: opaque, checked by the domain against the list, its
 * parameters and the user it was issued for (shared/domain/cursors.ts).
 */
export const cursorSchema = /* @__PURE__ */ schema(() => z
  .string()
  .check(z.maxLength(1024))
  .register(z.globalRegistry, { description: 'The `nextCursor` of the previous page, unchanged' }));

/** A whole number from a query string, within `min` and `max`. */
export const queryInt = (min: number, max?: number) =>
  coercedNumber().check(z.int(), z.gte(min), ...(max === undefined ? [] : [z.lte(max)]));

/** Path parameters of `/rooms/{roomId}/...` routes. */
export const roomParams = /* @__PURE__ */ schema(() => z.object({ roomId: roomIdSchema }));
/** Path parameters of `/rooms/{roomId}/messages/{messageId}/...` routes. */
export const messageParams = /* @__PURE__ */ schema(() => z.object({ roomId: roomIdSchema, messageId: messageIdSchema }));
