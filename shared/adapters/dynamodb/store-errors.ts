import { retriesSpent } from '#shared/adapters/aws-http.ts';
import { unavailable } from '#shared/errors.ts';

/**
 * How the table client reads DynamoDB's errors, and the one retry policy it applies: to a busy
 * store (throttled, or a transaction that conflicted) and to the keys and items a batch left
 * unprocessed. Apart from client.ts so each is tested on its own.
 */

export const errorName = (err: unknown) => (err as { name?: string }).name;
export const isConditionFailure = (err: unknown) => errorName(err) === 'ConditionalCheckFailedException';

/**
 * What a DynamoDB error means to the caller:
 * - `condition`: a business outcome (a condition did not hold; a transaction cancelled by its
 *   conditions alone), for the adapter to turn into its answer;
 * - `busy`: throttling or a conflicting transaction, nothing applied: worth retrying;
 * - `fault`: anything else (a malformed request, an item too large, a missing table): a bug or
 *   a deployment error, never a business answer, and its text is not for clients.
 */
export type StoreErrorKind = 'condition' | 'busy' | 'fault';

const BUSY_ERRORS = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
]);
const CONDITION_REASONS = new Set(['ConditionalCheckFailed', 'None']);
const BUSY_REASONS = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/**
 * The codes of a TransactionCanceledException, one per item in order. The SDK parses
 * `CancellationReasons`; when a service leaves them out, its message still lists them
 * ("... reasons [ConditionalCheckFailed, None]").
 */
export function cancellationCodes(err: unknown): string[] {
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (Array.isArray(reasons) && reasons.length > 0) return reasons.map((r) => r?.Code ?? 'None');
  const listed = /\[([A-Za-z, ]+)\]/.exec(String((err as { message?: unknown }).message ?? ''));
  return listed ? listed[1]!.split(',').map((c) => c.trim()).filter(Boolean) : [];
}

/** Sorts a DynamoDB error into a business outcome, a retryable busy store, or a fault. */
export function classifyStoreError(err: unknown): StoreErrorKind {
  const name = errorName(err);
  if (name === 'ConditionalCheckFailedException') return 'condition';
  if (name !== undefined && BUSY_ERRORS.has(name)) return 'busy';
  if (name === 'TransactionCanceledException') {
    const codes = cancellationCodes(err);
    if (codes.some((c) => BUSY_REASONS.has(c))) return 'busy';
    if (codes.length > 0 && codes.every((c) => CONDITION_REASONS.has(c)) && codes.includes('ConditionalCheckFailed')) return 'condition';
  }
  return 'fault';
}

/** A store call that failed for a reason no client can act on; its cause stays in the logs. */
export class StoreFault extends Error {
  override name = 'StoreFault';
  constructor(op: string, cause: unknown) {
    super(`DynamoDB ${op} failed: ${errorName(cause) ?? 'error'}`, { cause });
  }
}

/** Attempts of a call the store refused as busy, and the backoff between them (doubling, full jitter). */
export const STORE_RETRY = { attempts: 4, baseMs: 25, retryAfterSeconds: 1 } as const;

/**
 * Runs `call`, retrying it while the store is busy (bounded, with backoff); a busy store after
 * the last attempt is `unavailable` with `retryAfter`, a fault becomes a `StoreFault` (no
 * DynamoDB text reaches a client), a business outcome is rethrown as it came for the adapter.
 * What the HTTP layer already retried to its limit (throttling, 5xx, timeouts, dropped sockets)
 * is `unavailable` at once: retrying it again here would make 4 attempts 16, and a throttled
 * call's wait (up to 7 s of backoff) four times as long.
 */
export async function withStoreRetries<T>(op: string, call: () => Promise<T>, sleep: (ms: number) => Promise<unknown> = delay): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (retriesSpent(err)) throw unavailable(STORE_RETRY.retryAfterSeconds);
      const kind = classifyStoreError(err);
      if (kind === 'condition') throw err;
      if (kind === 'fault') throw new StoreFault(op, err);
      if (attempt >= STORE_RETRY.attempts) throw unavailable(STORE_RETRY.retryAfterSeconds);
      await sleep(backoffMs(attempt));
    }
  }
}

/** The wait after attempt `attempt` (from 1): full jitter under a ceiling that doubles, 25, 50, 100 ms. */
export const backoffMs = (attempt: number) => Math.random() * STORE_RETRY.baseMs * 2 ** (attempt - 1);

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
