import type { User } from '#shared/model.ts';
import { userIdSchema } from '#shared/schemas/common.ts';
import { AppError } from '#shared/errors.ts';

const NAME_CLAIMS = ['name', 'preferred_username', 'cognito:username', 'email'] as const;

/**
 * The user behind a verified token: `sub` is the id; the display name is the first of
 * `name`, `preferred_username`, `cognito:username`, `email` that is set, else `sub`.
 */
export function userFromClaims(claims: Record<string, unknown> | undefined): User {
  const sub = claims?.sub;
  if (typeof sub !== 'string' || !userIdSchema.safeParse(sub).success) {
    throw new AppError('unauthorized', 'The token has no usable subject');
  }
  for (const claim of NAME_CLAIMS) {
    const value = claims && Object.hasOwn(claims, claim) ? claims[claim] : undefined;
    if (typeof value === 'string' && value.trim() !== '') return { userId: sub, displayName: value.trim().slice(0, 100) };
  }
  return { userId: sub, displayName: sub };
}
