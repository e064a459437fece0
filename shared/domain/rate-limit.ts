import type { Deps } from '../ports.ts';
import { AppError } from '../errors.ts';

/**
 * Per-user fixed-window limits: `send` for messages, `write` for every other write. One
 * conditional counter write per call; over the budget nothing else happens and the caller gets
 * `rate_limited` with `retryAfter` (seconds), which HTTP turns into 429 + `Retry-After`.
 */
export async function limit(deps: Deps, userId: string, kind: 'send' | 'write'): Promise<void> {
  const { rateLimiter, limits } = deps.people;
  const retryAfter = await rateLimiter.take(userId, kind, limits[kind]);
  if (retryAfter > 0) {
    const rule = limits[kind];
    throw new AppError('rate_limited', `Too many ${kind === 'send' ? 'messages' : 'writes'}: at most ${rule.limit} per ${rule.windowSeconds} s; retry in ${retryAfter} s`, { retryAfter });
  }
}

/** The defaults an operator may change (shared/env.ts). */
export const RATE_DEFAULTS = {
  send: { limit: 10, windowSeconds: 10 },
  write: { limit: 30, windowSeconds: 10 },
} as const;
