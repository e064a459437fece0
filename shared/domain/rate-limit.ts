import type { Deps } from '#shared/ports/runtime.ts';
import { AppError } from '#shared/errors.ts';

/**
 * Per-user fixed-window limits: `send` for messages, `write` for every other write, `search` for
 * searches (the one read that may cost a hundred units). One
 * conditional counter write per call; over the budget nothing else happens and the caller gets
 * `rate_limited` with `retryAfter` (seconds), which HTTP turns into 429 + `Retry-After`.
 */
const WHAT = { send: 'messages', write: 'writes', search: 'searches' } as const;

export async function limit(deps: Deps, userId: string, kind: keyof typeof WHAT): Promise<void> {
  const rule = deps.settings.rateLimits[kind];
  const retryAfter = await deps.rateLimiter.take(userId, kind, rule);
  if (retryAfter > 0) {
    throw new AppError('rate_limited', `Too many ${WHAT[kind]}: at most ${rule.limit} per ${rule.windowSeconds} s; retry in ${retryAfter} s`, { retryAfter });
  }
}

/** The defaults an operator may change (shared/env.ts). */
export const RATE_DEFAULTS = {
  send: { limit: 10, windowSeconds: 10 },
  write: { limit: 30, windowSeconds: 10 },
  search: { limit: 20, windowSeconds: 60 },
} as const;
