import { randomBytes } from 'node:crypto';
import type { Invoke } from './lambda.ts';

/**
 * How API Gateway WebSocket APIs talk to Lambda, as pure rules: ids and timestamps in events, the
 * REQUEST authorizer's verdict, and what it makes of a Lambda proxy integration's result.
 */

/** Connection, request and message ids look like AWS's: base64 of 11 random bytes, 16 characters ending in `=`. */
export const newAwsId = (): string => randomBytes(11).toString('base64');

/** `requestTime` of API Gateway events: `10/Oct/2024:22:56:18 +0000`. */
export function requestTime(epochMs: number): string {
  const [, day, month, year, time] = new Date(epochMs).toUTCString().split(' ');
  return `${day}/${month}/${year}:${time} +0000`;
}

/**
 * Events and results cross Lambda's boundary as JSON: each invocation gets its own copy of the
 * event, and a result loses its undefined fields (`undefined` itself becomes `null`).
 */
export async function invokeLambda(invoke: Invoke, fn: string, event: unknown): Promise<unknown> {
  const json = JSON.stringify(await invoke(fn, JSON.parse(JSON.stringify(event))));
  return json === undefined ? null : JSON.parse(json);
}

const PROXY_RESULT_KEYS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);

/**
 * A Lambda proxy result as a WebSocket API reads it (payload format 1.0): an object with only
 * these keys, an integer status and a string body. Anything else, `null` and bare strings
 * included, is "Malformed Lambda proxy response": `undefined` here.
 */
export function parseProxyResult(result: unknown): { statusCode: number; body?: string } | undefined {
  if (!isPlainObject(result) || Object.keys(result).some((k) => !PROXY_RESULT_KEYS.has(k))) return undefined;
  const { statusCode, body } = result;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return undefined;
  if (body !== undefined && body !== null && typeof body !== 'string') return undefined;
  return { statusCode, body: body ?? undefined };
}

export type AuthorizerVerdict =
  | { allowed: true; authorizer: Record<string, unknown> }
  | { allowed: false; status: 401 | 403 | 500; message: string };

/**
 * Runs the `$connect` REQUEST authorizer and judges its answer like API Gateway: a throw of exactly
 * `Unauthorized` is 401; a policy that does not allow `execute-api:Invoke` on `methodArn` (explicit
 * Deny or no matching Allow) is 403; any other throw, a malformed result or a context value that
 * is not a string, number or boolean is 500. Allowed: the `requestContext.authorizer` every later
 * event carries, with context values stringified as AWS does.
 */
export async function runAuthorizer(invoke: Invoke, fn: string, event: { methodArn: string }): Promise<AuthorizerVerdict> {
  const started = Date.now();
  let result: unknown;
  try {
    result = await invokeLambda(invoke, fn, event);
  } catch (err) {
    return err instanceof Error && err.message === 'Unauthorized'
      ? { allowed: false, status: 401, message: 'Unauthorized' }
      : { allowed: false, status: 500, message: 'Internal server error' };
  }
  const malformed = { allowed: false, status: 500, message: 'Internal server error' } as const;
  if (!isPlainObject(result) || typeof result.principalId !== 'string') return malformed;
  const context = result.context ?? {};
  if (!isPlainObject(context)) return malformed;
  const stringified = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(context)) {
    if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) return malformed;
    stringified[key] = value === null ? null : String(value);
  }
  const effect = policyEffect(result.policyDocument, event.methodArn);
  if (effect === undefined) return malformed;
  if (effect === 'Deny') return { allowed: false, status: 403, message: 'Forbidden' };
  return {
    allowed: true,
    authorizer: { ...stringified, principalId: result.principalId, integrationLatency: Date.now() - started },
  };
}

/** IAM evaluation for one action: an explicit Deny wins, then an Allow; nothing matching denies. `undefined`: malformed. */
function policyEffect(doc: unknown, methodArn: string): 'Allow' | 'Deny' | undefined {
  if (!isPlainObject(doc) || doc.Statement === undefined) return undefined;
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  let allowed = false;
  for (const s of statements) {
    if (!isPlainObject(s) || (s.Effect !== 'Allow' && s.Effect !== 'Deny')) return undefined;
    const actions = asList(s.Action);
    const resources = asList(s.Resource);
    if (!actions || !resources) return undefined;
    const applies =
      actions.some((a) => globMatch(a, 'execute-api:Invoke', 'i')) && resources.some((r) => globMatch(r, methodArn, ''));
    if (applies && s.Effect === 'Deny') return 'Deny';
    allowed ||= applies;
  }
  return allowed ? 'Allow' : 'Deny';
}

function asList(value: unknown): string[] | undefined {
  const list = Array.isArray(value) ? value : [value];
  return list.every((v): v is string => typeof v === 'string') ? list : undefined;
}

/** IAM wildcards: `*` any run of characters, `?` one character. */
function globMatch(pattern: string, value: string, flags: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, flags).test(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
