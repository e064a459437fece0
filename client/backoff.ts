/** Reconnect delays: exponential from `baseMs`, capped at `capMs`, then full jitter (0 … capped). */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

/**
 * The delay before try number `attempt` (0 = the first retry). Jitter comes after the cap, so even
 * clients that have all reached the cap spread over the whole 0 … cap window instead of returning
 * together after an outage.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30)));
}

/** The claims the SDK reads from a JWT without verifying it: who (`sub`) and until when (`exp`, seconds). */
export function tokenClaims(token: string): { sub?: string; exp?: number } {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as { sub?: unknown; exp?: unknown };
    return {
      ...(typeof claims.sub === 'string' && { sub: claims.sub }),
      ...(typeof claims.exp === 'number' && { exp: claims.exp }),
    };
  } catch {
    return {};
  }
}
