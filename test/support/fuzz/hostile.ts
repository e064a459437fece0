import fc from 'fast-check';

/**
 * Values a hostile client sends: strings spelled like Object properties or table keys, numbers at
 * and past the edges of what JSON, JavaScript and DynamoDB represent, unicode that breaks naive
 * code, deep nesting and long strings. Every arbitrary here shrinks towards its first, simplest
 * constant.
 */

/** Own-property spellings that a plain-object lookup finds on every object. */
export const PROTO_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__', 'isPrototypeOf'] as const;

/** Ids shaped like the table's keys (a `#` separator, a known prefix). */
export const TABLE_KEYS = ['ROOM#x', 'USER#y', 'MSG#00000000000000000001', 'CONN#z', 'PUBLIC#ROOMS', 'PRESENCE', 'ROOM#', '#', 'ATT#a', 'MEMBER#ann', 'RATE#send#0'] as const;

export const UNICODE_EDGES = [
  '\uD800', // lone high surrogate
  'a\uDC00b', // lone low surrogate
  '\u202Eevil\u202C', // RTL override
  'שלום', // RTL script
  '👩‍👩‍👧‍👦', // ZWJ sequence
  '\u0000', // NUL
  'a\u0000b',
  '\uFEFF', // BOM
  'e\u0301', // combining accent
  '𝕏', // astral plane
  '🇺🇳', // flag
  '1️⃣', // keycap
  '\u200B', // zero width space
  '\u2028\u2029', // line and paragraph separators
  '\u0085', // next line (a C1 control)
  '\u001B[31m', // terminal escape
  '\uFFFF',
  '\u{10FFFF}',
] as const;

/** Strings that look like JSON numbers or other specials, for query strings and string fields. */
export const NUMERIC_STRINGS = ['NaN', 'Infinity', '-Infinity', '-0', '1e308', '1e400', '5e-324', '0x10', '010', ' 1', '1 ', '', '1.5', '9007199254740993', '-1', 'null', 'true', '[]', '{}'] as const;

/** Numbers at the edges: DynamoDB keeps 38 digits within 1e-130..1e126; JSON and JS keep more. */
export const EDGE_NUMBERS = [0, -0, 1e308, -1e308, 5e-324, -5e-324, 2 ** 53 + 1, -(2 ** 53 + 1), Number.MAX_SAFE_INTEGER, 1e126, 1e127, 1e-130, 1e-131, 0.1, 1.5, -1, 123456789012345678901234567890, 1 + 2 ** -52] as const;

/**
 * Number literals that JSON.stringify cannot write (it would round or refuse them): placed in a value
 * as the string `@@lit:<literal>` and written verbatim by `toJsonText`.
 */
export const NUMBER_LITERALS = ['-0', '1e400', '-1e400', '1e-400', '9007199254740993', '123456789012345678901234567890.5', '1.0', '1E2', '0.000001e-300'] as const;
export const LITERAL_PREFIX = '@@lit:';

/** JSON text with `@@lit:` strings replaced by the literal they name. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value).replace(/"@@lit:([^"]*)"/g, (_, lit: string) => lit);
}

/** Sets `key` as an own enumerable property, even `__proto__` (which plain assignment would not). */
export function put(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

/** An object built from entries with `put`, so every key (prototype spellings too) is its own. */
export function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) put(out, k, v);
  return out;
}

/** `n` levels of nesting, objects or arrays. */
export function nested(n: number, shape: 'object' | 'array' | 'mixed' = 'object', leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < n; i++) value = shape === 'array' || (shape === 'mixed' && i % 2) ? [value] : { a: value };
  return value;
}

export const protoKey = fc.constantFrom(...PROTO_KEYS);
export const tableKey = fc.constantFrom(...TABLE_KEYS);
export const unicodeEdge = fc.constantFrom(...UNICODE_EDGES);
export const edgeNumber = fc.constantFrom(...EDGE_NUMBERS);
export const numberLiteral = fc.constantFrom(...NUMBER_LITERALS).map((l) => `${LITERAL_PREFIX}${l}`);

/** Long strings around the limits the schemas draw (64, 128, 255, 1 000, 4 000, 8 KB, 32 000). */
export const longString = fc
  .constantFrom(65, 129, 256, 1001, 4001, 8193, 32_001, 70_000)
  .chain((n) => fc.constantFrom('a', 'é', '😀', '#', ' ').map((c) => c.repeat(n)));

/** A string a hostile client would try in any string field. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  protoKey,
  tableKey,
  unicodeEdge,
  fc.constantFrom(...NUMERIC_STRINGS),
  longString,
  fc.constantFrom(' ', '   ', '\t', '\n', '../../etc/passwd', '%00', '%2F', 'a/b', 'a?b=c', 'a b', '<script>alert(1)</script>', "' OR 1=1 --", '${jndi:x}', 'null'),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.tuple(unicodeEdge, protoKey).map(([a, b]) => a + b),
);

/** A value of the wrong shape for any field. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  edgeNumber,
  numberLiteral,
  fc.constantFrom(null, true, false, [], {}, [null], { __proto__: null }),
  fc.constantFrom(31, 32, 33, 40, 200).chain((n) => fc.constantFrom('object', 'array', 'mixed').map((s) => nested(n, s as 'object'))),
  protoKey.map((k) => objectOf([[k, { polluted: true }]])),
);

/** Emoji: valid ones of every kind, and what only looks like one. */
export const emoji = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('👍', '❤️', '😀', '👩‍👩‍👧‍👦', '👍🏽', '🇺🇳', '1️⃣', '🏳️‍🌈', '©️') },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom('👍👍', '👍 ', ':+1:', 'a', '\u200D', '\uFE0F', '🏽') },
);

/**
 * A `metadata` object: any JSON the schema admits, with hostile keys and numbers, nesting around 32
 * levels, sizes around 8 KB.
 */
const metadataKey = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 12 }) }, protoKey, tableKey, unicodeEdge, fc.constant(''), fc.constantFrom('a.b', '$x', '#n', ':v', 'PK', 'SK', 'GSI1PK'));
const metadataLeaf: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 2, arbitrary: edgeNumber },
  numberLiteral,
  unicodeEdge,
  fc.constantFrom('', [], {}, null, [[]], [{}], { '': '' }),
);
const metadataValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    metadataLeaf,
    fc.array(fc.tuple(metadataKey, tie('v')), { maxLength: 4 }).map(objectOf),
    fc.array(tie('v'), { maxLength: 4 }),
  ),
})).v;
export const metadata: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 5, arbitrary: fc.array(fc.tuple(metadataKey, metadataValue), { maxLength: 6 }).map(objectOf) },
  fc.tuple(metadataKey, fc.constantFrom(30, 31, 32, 33, 40), fc.constantFrom('object', 'array', 'mixed')).map(([k, n, s]) => objectOf([[k, nested(n, s as 'object')]])),
  fc.tuple(metadataKey, fc.constantFrom(8000, 8170, 8180, 8192, 8200, 20_000)).map(([k, n]) => objectOf([[k, 'x'.repeat(n)]])),
  protoKey.map((k) => objectOf([[k, 1]])),
);

/** Base64url of a string, as cursors usually are. */
const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64url');

/**
 * Cursors the server never issued, or issued for someone or something else (`@@cursor:*`, resolved
 * by the world): each must be refused with 400 `validation_failed`.
 */
export const forgedCursor: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('null', '[]', '{}', '""', '1', 'true', '{"PK":"ROOM#x","SK":"MSG#1"}', '{"PK":"USER#y","SK":"PRESENCE","GSI1PK":"PUBLIC#ROOMS","GSI1SK":"0"}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}').map(b64),
  fc.constantFrom('null', '{}', '{"PK":"ROOM#x"}').map((s) => Buffer.from(s).toString('base64')),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map(b64),
  fc.constantFrom('', '!!!', '====', 'a', '.', '%', 'eyJ9', 'x'.repeat(1024), 'x'.repeat(1025)),
  hostileString,
  fc.constantFrom('@@cursor:other-user', '@@cursor:other-list', '@@cursor:tampered'),
);
