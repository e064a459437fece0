import type * as z from 'zod/mini';
import { logger } from '#shared/logger.ts';
import { AppError, retryAfterOf, toPublicError, validationFailed } from '#shared/errors.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { requestIdOf, type ServerFrame } from '#shared/schemas/frames.ts';
import type { User } from '#shared/model.ts';


/** What the `$connect` authorizer put in its context, which API Gateway passes to every route. */
export interface WsAuthorizerContext {
  principalId?: string;
  userId?: string;
  displayName?: string;
}

/** The part of a WebSocket API event the handlers read. */
export interface WsEvent {
  body?: string;
  queryStringParameters?: Record<string, string | undefined> | null;
  requestContext: {
    connectionId: string;
    routeKey: string;
    eventType?: string;
    authorizer?: WsAuthorizerContext | null;
  };
}

/** A two-way route's result: its `body` is the frame API Gateway sends back to the client. */
export interface WsResult {
  statusCode: number;
  body?: string;
}

export interface WsContext {
  connectionId: string;
  user: User;
}

/** Returned by a route to answer with a frame of its own instead of an `ack`. */
export class Reply {
  constructor(readonly frame: ServerFrame) {}
}

export function userFromAuthorizer(event: WsEvent): User {
  const auth = event.requestContext.authorizer;
  if (!auth?.userId) throw new AppError('unauthorized', 'The connection has no authorized user');
  return { userId: auth.userId, displayName: auth.displayName || auth.userId };
}

export const frameResult = (frame: ServerFrame): WsResult => ({ statusCode: 200, body: JSON.stringify(frame) });

/**
 * A two-way WebSocket route: validates the frame with `schema`, runs `fn`, and answers with an
 * `ack` carrying the result when the frame had a `requestId`, or an `error` frame (the
 * connection stays open). Unexpected errors are logged and reach the client as `internal`.
 */
export function wsHandler<T>(schema: z.ZodMiniType<T>, fn: (input: T, ctx: WsContext) => Promise<unknown>) {
  return async (event: WsEvent): Promise<WsResult> => {
    let requestId: string | undefined;
    try {
      const frame = parseFrame(event.body);
      requestId = requestIdOf(frame);
      const input = parseOrThrow(schema, frame, `${event.requestContext.routeKey} frame`);
      const result = await fn(input, { connectionId: event.requestContext.connectionId, user: userFromAuthorizer(event) });
      if (result instanceof Reply) return frameResult(result.frame);
      return requestId ? frameResult({ type: 'ack', requestId, result }) : { statusCode: 200 };
    } catch (err) {
      return errorResult(err, requestId, event.requestContext.routeKey);
    }
  };
}

export function parseFrame(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? '');
  } catch {
    throw validationFailed('The frame is not valid JSON');
  }
}

export function errorResult(err: unknown, requestId: string | undefined, routeKey: string): WsResult {
  if (!(err instanceof AppError)) logger.error('Unhandled error', { error: err as Error, routeKey });
  const retryAfter = retryAfterOf(err);
  return frameResult({ type: 'error', ...toPublicError(err), ...(requestId && { requestId }), ...(retryAfter !== undefined && { retryAfter }) });
}
