/**
 * The one error family. Use-cases throw `AppError`; each transport has one mapper
 * (HTTP status + `{error}` body, or a WebSocket `error` frame). Anything else is `internal`
 * and reaches the client without its message or stack.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  /** The store is throttling or a write kept conflicting with others: retry after `retryAfter`. */
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const forbidden = (message: string) => new AppError('forbidden', message);
export const validationFailed = (message: string, details?: unknown) => new AppError('validation_failed', message, details);
export const conflict = (message: string) => new AppError('conflict', message);

export const unavailable = (retryAfter: number) =>
  new AppError('unavailable', `The service is busy; retry in ${retryAfter} s`, { retryAfter });

/** Seconds to wait before retrying, on `rate_limited` and `unavailable` (HTTP `Retry-After`, WebSocket `retryAfter`). */
export function retryAfterOf(err: unknown): number | undefined {
  if (!(err instanceof AppError) || (err.code !== 'rate_limited' && err.code !== 'unavailable')) return undefined;
  const value = (err.details as { retryAfter?: unknown } | undefined)?.retryAfter;
  return typeof value === 'number' ? value : undefined;
}

/** What a client may see of any thrown value. */
export function toPublicError(err: unknown): { code: ErrorCode; message: string; details?: unknown } {
  if (err instanceof AppError) {
    return err.details === undefined
      ? { code: err.code, message: err.message }
      : { code: err.code, message: err.message, details: err.details };
  }
  return { code: 'internal', message: 'Internal error' };
}
