import * as z from 'zod/mini';
import { isoDateTime, schema } from './mini.ts';

/** Schemas of notification preferences and Web Push subscriptions. */

export const notifyLevelSchema = /* @__PURE__ */ schema(() => z.enum(['all', 'mentions', 'none']));

export const userPreferencesBody = /* @__PURE__ */ schema(() => z.strictObject({ notify: notifyLevelSchema }));

/** `null` clears a field: back to my default level, or no longer muted. */
export const roomPreferencesBody = /* @__PURE__ */ schema(() => z
  .strictObject({
    notify: z.optional(z.nullable(notifyLevelSchema)),
    mutedUntil: z.optional(z.nullable(isoDateTime({ offset: true }))),
  })
  .check(z.refine((b) => b.notify !== undefined || b.mutedUntil !== undefined, { message: 'give notify or mutedUntil' })));

const base64url = (bytes: number, what: string) =>
  z
    .string()
    .check(
      z.regex(/^[A-Za-z0-9_-]+={0,2}$/, `${what} must be base64url`),
      z.refine((s) => Buffer.from(s, 'base64url').length === bytes, `${what} must be ${bytes} bytes`),
    );

export const PUSH_LIMITS = { endpointLength: 2048, subscriptionsPerUser: 10 } as const;

/** The browser's `PushSubscription.toJSON()`. */
export const pushSubscriptionBody = /* @__PURE__ */ schema(() => z.object({
  endpoint: z.string().check(z.minLength(1), z.maxLength(PUSH_LIMITS.endpointLength)),
  expirationTime: z.optional(z.nullable(z.number().check(z.int(), z.nonnegative()))),
  keys: z.object({
    // An uncompressed P-256 point (0x04, x, y) and a 16-byte authentication secret (RFC 8291).
    p256dh: base64url(65, 'keys.p256dh').check(z.refine((s) => Buffer.from(s, 'base64url')[0] === 4, 'keys.p256dh must be an uncompressed P-256 point')),
    auth: base64url(16, 'keys.auth'),
  }),
}));
export type PushSubscriptionInput = z.infer<typeof pushSubscriptionBody>;

export const deleteSubscriptionQuery = /* @__PURE__ */ schema(() => z.strictObject({ endpoint: z.string().check(z.minLength(1), z.maxLength(PUSH_LIMITS.endpointLength)) }));
