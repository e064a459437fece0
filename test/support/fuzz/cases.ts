import fc from 'fast-check';
import type { Catalogue, FrameTarget, HttpTarget } from './catalogue.ts';
import { arbitraryOf, objectArbitrary } from './arbitrary.ts';
import { hostileString, hostileValue, nested, objectOf, protoKey, toJsonText, unicodeEdge } from './hostile.ts';

/**
 * Fuzz cases: plain data (placeholders such as `@@room` stand for what exists when the case runs),
 * so that fast-check shrinks them and a failure prints as the request it was.
 */

/** Who makes the request: a member of the fuzz room (its admin: `owner`), others, or no one valid. */
export type Who = 'owner' | 'member' | 'outsider' | 'anonymous' | 'bad-token' | 'garbage-token' | 'service';

export interface HttpCase {
  kind: 'http';
  route: string;
  method: string;
  path: string;
  auth: HttpTarget['auth'];
  /** The route pages its list with a `cursor` query parameter. */
  paged: boolean;
  /** A value to percent-encode, or `{raw}` already encoded (invalid UTF-8, encoded slashes). */
  params: Record<string, string | { raw: string }>;
  query: [string, string][];
  /** JSON (placeholders resolved, `@@lit:` numbers written verbatim) or text as is. */
  body?: { json: unknown } | { text: string };
  /** `undefined`: application/json when there is a body; `null`: no content-type header. */
  contentType?: string | null;
  who: Who;
}

export interface FrameCase {
  kind: 'frame';
  /** The frame type it was made from, or `hostile`. */
  name: string;
  /** `@@rid` in it becomes a fresh requestId. */
  body: { json: unknown } | { text: string };
}

export interface ConnectCase {
  kind: 'connect';
  query: [string, string][];
  header?: string;
}

export type Case = HttpCase | FrameCase | ConnectCase;

const rawSegment = fc.constantFrom('%FF', '%C0%AF', '%00', '%2F', '%2e%2e', '%25', '%E2%80%AE', '%F0%9F%98%80', '%ED%A0%80', '%23', '%3F', '%20');

const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', 'image/png', 'application/JSON', ''];

const INVALID_JSON = ['{', '{"a":', 'nul', '{"content":"x",}', "{'content':'x'}", '\uFEFF{"content":"x"}', '{"content":"\\ud800"}', '[', '{"a":1}{"b":2}', 'undefined', 'NaN', '{"content":"x"', '\u0000', '%7B%7D'];

const whoFor = (auth: HttpTarget['auth']): fc.Arbitrary<Who> =>
  auth === 'jwt'
    ? fc.oneof(
        { weight: 24, arbitrary: fc.constant('owner' as const) },
        { weight: 2, arbitrary: fc.constantFrom('member' as const, 'outsider' as const) },
        { weight: 1, arbitrary: fc.constantFrom('anonymous' as const, 'bad-token' as const, 'garbage-token' as const) },
      )
    : auth === 'iam'
      ? fc.oneof({ weight: 20, arbitrary: fc.constant('service' as const) }, { weight: 1, arbitrary: fc.constantFrom('owner' as const, 'anonymous' as const) })
      : fc.oneof({ weight: 6, arbitrary: fc.constant('anonymous' as const) }, { weight: 1, arbitrary: fc.constant('owner' as const) });

/** A query value as a client writes it. */
const asQueryValue = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : toJsonText(v));

const extraQuery = fc.oneof(
  { weight: 10, arbitrary: fc.constant([] as [string, string][]) },
  { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(protoKey, fc.constantFrom('limit', 'cursor', 'extra', 'roomId', 'token')), hostileString), { minLength: 1, maxLength: 2 }) },
);

function httpCase(t: HttpTarget): fc.Arbitrary<HttpCase> {
  const params = fc.tuple(
    ...Object.entries(t.params).map(([name, schema]) =>
      fc.tuple(
        fc.constant(name),
        fc.oneof({ weight: 12, arbitrary: arbitraryOf(schema, name).map(asQueryValue) }, { weight: 1, arbitrary: rawSegment.map((raw) => ({ raw })) }),
      ),
    ),
  ).map((entries) => Object.fromEntries(entries) as Record<string, string | { raw: string }>);
  const query = fc
    .tuple(t.query ? objectArbitrary(t.query, true) : fc.constant({}), extraQuery)
    .map(([q, extra]) => [...Object.entries(q).map(([k, v]) => [k, asQueryValue(v)] as [string, string]), ...extra]);
  const hasBody = t.method !== 'GET';
  const body: fc.Arbitrary<HttpCase['body']> = t.body
    ? fc.oneof(
        { weight: 14, arbitrary: objectArbitrary(t.body).map((json) => ({ json })) },
        { weight: 1, arbitrary: hostileValue.map((json) => ({ json })) },
        { weight: 1, arbitrary: fc.constantFrom(...INVALID_JSON).map((text) => ({ text })) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      )
    : hasBody
      ? fc.oneof({ weight: 10, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostileValue.map((json) => ({ json })) }, { weight: 1, arbitrary: fc.constantFrom(...INVALID_JSON).map((text) => ({ text })) })
      : fc.constant(undefined);
  const contentType = fc.oneof({ weight: 14, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom<string | null>(null, ...CONTENT_TYPES) });
  return fc.record({ params, query, body, contentType, who: whoFor(t.auth) }).map(({ contentType: ct, body: b, ...rest }) => ({
    kind: 'http' as const,
    route: t.key,
    method: t.method,
    path: t.path,
    auth: t.auth,
    paged: Object.hasOwn(t.query?.properties ?? {}, 'cursor'),
    ...rest,
    ...(b !== undefined && { body: b }),
    ...(b !== undefined && ct !== undefined && { contentType: ct }),
  }));
}

/** The requestId of a frame: mostly a fresh one (answered and checked), sometimes none or a strange one. */
const requestId = fc.oneof(
  { weight: 12, arbitrary: fc.constant<unknown>('@@rid') },
  { weight: 2, arbitrary: fc.constant<unknown>(undefined) },
  { weight: 1, arbitrary: fc.oneof(protoKey, unicodeEdge, fc.constantFrom<unknown>('', 'x'.repeat(64), 'x'.repeat(65), 1, null, ['@@rid'], { id: '@@rid' })) },
);

function frameCase(t: FrameTarget): fc.Arbitrary<FrameCase> {
  const type = fc.oneof({ weight: 20, arbitrary: fc.constant<unknown>(t.type) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(t.type.toUpperCase(), ` ${t.type}`, `${t.type}\u0000`, [t.type]) });
  return fc.tuple(objectArbitrary(t.schema), type, requestId).map(([frame, ty, rid]) => {
    const { type: _, requestId: __, ...rest } = frame;
    const entries: [string, unknown][] = [['type', ty], ...(rid === undefined ? [] : [['requestId', rid] as [string, unknown]]), ...Object.entries(rest)];
    // Keep own `__proto__` keys the object arbitrary made.
    if (Object.hasOwn(frame, '__proto__')) entries.push(['__proto__', Object.getOwnPropertyDescriptor(frame, '__proto__')!.value]);
    return { kind: 'frame' as const, name: t.type, body: { json: objectOf(entries) } };
  });
}

/** Frames no route knows: `$default`'s, and what is not a frame at all. */
const hostileFrame: fc.Arbitrary<FrameCase> = fc
  .oneof(
    fc.tuple(fc.oneof(protoKey, fc.constantFrom('$connect', '$disconnect', '$default', 'ack', 'error', 'pong', 'message_new', '', 'PING', 'teleport')), requestId).map(([type, rid]) => ({
      json: objectOf([['type', type], ...(rid === undefined ? [] : [['requestId', rid] as [string, unknown]])]),
    })),
    fc.tuple(hostileValue, requestId).map(([type, rid]) => ({ json: objectOf([['type', type], ['requestId', rid ?? '@@rid']]) })),
    fc.constantFrom(...INVALID_JSON, '', ' ', '[]', 'null', '1', '"ping"', '{}', '{"requestId":"@@rid"}').map((text) => ({ text })),
    fc.constantFrom(33, 100, 1000).map((n) => ({ json: objectOf([['type', 'ping'], ['requestId', '@@rid'], ['x', nested(n)]]) })),
    fc.constant({ json: { type: 'message_send', requestId: '@@rid', roomId: '@@room', content: 'x'.repeat(33_000) } }),
  )
  .map((body) => ({ kind: 'frame' as const, name: 'hostile', body }));

/** `$connect`: tokens in the query, the header or both; `?roomId=` of every kind. */
const connectCase: fc.Arbitrary<ConnectCase> = fc
  .record({
    token: fc.oneof({ weight: 6, arbitrary: fc.constant<string | undefined>('@@token') }, { weight: 1, arbitrary: fc.constantFrom<string | undefined>(undefined, '@@other-token', '', 'x') }),
    header: fc.oneof({ weight: 4, arbitrary: fc.constant<string | undefined>(undefined) }, { weight: 1, arbitrary: fc.constantFrom<string | undefined>('Bearer @@token', 'Bearer @@other-token', 'Basic eDp5', 'Bearer', 'bearer @@token') }),
    roomId: fc.oneof({ weight: 3, arbitrary: fc.constant<string | undefined>(undefined) }, { weight: 2, arbitrary: fc.constantFrom('@@room', '@@foreign-room', '@@public-room') }, { weight: 2, arbitrary: hostileString }),
    extra: extraQuery,
  })
  .map(({ token, header, roomId, extra }) => ({
    kind: 'connect' as const,
    query: [...(token === undefined ? [] : [['token', token] as [string, string]]), ...(roomId === undefined ? [] : [['roomId', roomId] as [string, string]]), ...extra],
    ...(header !== undefined && { header }),
  }));

/**
 * One arbitrary case of any route or frame type in the catalogue, each as likely as the others;
 * `only` keeps the routes and frame types it matches.
 */
export function caseArbitrary(catalogue: Catalogue, only?: RegExp): fc.Arbitrary<Case> {
  const all: [string, fc.Arbitrary<Case>][] = [
    ...catalogue.http.map((t) => [t.key, httpCase(t)] as [string, fc.Arbitrary<Case>]),
    ...catalogue.frames.map((t) => [`frame ${t.type}`, frameCase(t)] as [string, fc.Arbitrary<Case>]),
    ['frame hostile', hostileFrame],
    ['$connect', connectCase],
  ];
  const kept = all.filter(([name]) => !only || only.test(name));
  if (kept.length === 0) throw new Error(`FUZZ_ONLY=${only} matches no route or frame type`);
  // Routes with more input to vary get more cases (a send has six fields, a GET of a room none).
  const inputs = new Map<string, number>([
    ...catalogue.http.map((t) => [t.key, fieldCount(t.body) + fieldCount(t.query) + Object.keys(t.params).length] as [string, number]),
    ...catalogue.frames.map((t) => [`frame ${t.type}`, fieldCount(t.schema)] as [string, number]),
  ]);
  return fc.oneof(...kept.map(([name, arbitrary]) => ({ weight: 1 + Math.min(inputs.get(name) ?? 3, 6), arbitrary })));
}

const fieldCount = (schema: { properties?: object } | undefined) => Object.keys(schema?.properties ?? {}).length;
