import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { logger } from '#shared/logger.ts';
import { AppError, retryAfterOf, toPublicError, validationFailed } from '#shared/errors.ts';
import { userFromClaims } from '#shared/domain/identity.ts';
import type { User } from '#shared/model.ts';

const MAX_BODY_BYTES = 64 * 1024;

export interface HttpRequest {
  /** The caller, from the claims API Gateway's JWT authorizer verified. */
  user: () => User;
  params: Record<string, string>;
  query: Record<string, string>;
  /** The JSON body; `validation_failed` if it is not JSON. */
  body: () => unknown;
}

export interface HttpResult {
  status: number;
  body?: unknown;
}

/**
 * Turns an HTTP API (payload 2.0) event into a call and its result or error into a response.
 * Errors keep the `{error: {code, message, details?}}` shape; unexpected ones are logged, never shown.
 */
export function httpHandler(fn: (req: HttpRequest) => Promise<HttpResult>) {
  return async (event: APIGatewayProxyEventV2WithJWTAuthorizer): Promise<APIGatewayProxyResultV2> => {
    try {
      const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : undefined;
      if (raw !== undefined && Buffer.byteLength(raw) > MAX_BODY_BYTES) {
        throw new AppError('payload_too_large', `The body exceeds ${MAX_BODY_BYTES} bytes`);
      }
      const result = await fn({
        user: () => userFromClaims(event.requestContext.authorizer?.jwt?.claims),
        params: decodeAll(event.pathParameters),
        query: decodeAll(event.queryStringParameters),
        body: () => parseJson(raw),
      });
      return json(result.status, result.body);
    } catch (err) {
      const error = toPublicError(err);
      if (!(err instanceof AppError)) logger.error('Unhandled error', { error: err as Error, routeKey: event.routeKey });
      const retryAfter = retryAfterOf(err);
      return json(err instanceof AppError ? err.status : 500, { error }, retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) });
    }
  };
}

function parseJson(raw: string | undefined): unknown {
  if (raw === undefined || raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw validationFailed('The body is not valid JSON');
  }
}

/** Names are the client's: kept in an object without a prototype, so `constructor` is just a name. */
function decodeAll(values: Record<string, string | undefined> | undefined): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(values ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  };
}
