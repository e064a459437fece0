import fc from 'fast-check';
import type { JsonSchema } from './catalogue.ts';
import { edgeNumber, emoji, forgedCursor, hostileString, hostileValue, metadata, NUMERIC_STRINGS, objectOf, protoKey, unicodeEdge } from './hostile.ts';

/**
 * Arbitraries that follow a JSON schema (exported from the zod schemas), mostly valid so that
 * requests reach the domain and the table, with a hostile value in any field now and then. Ids
 * are often references to things that exist (`@@room`, `@@message`, `@@member`, ...), which the
 * world resolves when the case runs, so that valid-looking input meets real data.
 */

/** How often a field holds a hostile value instead of one its schema describes. */
const HOSTILE_WEIGHT = 1;
const VALID_WEIGHT = 16;

const userRef = fc.oneof(
  { weight: 3, arbitrary: fc.constant('@@member') },
  { weight: 2, arbitrary: fc.constant('@@outsider') },
  { weight: 2, arbitrary: fc.constant('@@me') },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9|_.@-]{1,20}$/) },
  { weight: 1, arbitrary: fc.oneof(protoKey, fc.constantFrom('ROOM#x', 'USER#y', 'system', '@@member ', 'a,b')) },
);

const roomRef = fc.oneof(
  { weight: 6, arbitrary: fc.constant('@@room') },
  { weight: 1, arbitrary: fc.constantFrom('@@foreign-room', '@@public-room') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/) },
  { weight: 1, arbitrary: fc.oneof(protoKey, fc.constantFrom('ROOM#x', '01', '-', '_')) },
);

const messageRef = fc.oneof(
  { weight: 5, arbitrary: fc.constant('@@message') },
  { weight: 2, arbitrary: fc.constantFrom('@@member-message', '@@foreign-message', '@@system-message') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/) },
  { weight: 1, arbitrary: fc.oneof(protoKey, fc.constantFrom('MSG#1', '0', '00000000000000000000000000')) },
);

const clientMessageId = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/) },
  { weight: 2, arbitrary: protoKey },
  { weight: 2, arbitrary: fc.constantFrom('retry-a', 'retry-b') },
);

const content = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }) },
  { weight: 2, arbitrary: fc.constantFrom('hello', 'hi <@@@member>', '<@__proto__> <@constructor>', '<@toString>', '<@>', '<@@@outsider> and <@@@me>') },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n', 'x'.repeat(4000), 'x'.repeat(4001), '😀'.repeat(2000)) },
  { weight: 1, arbitrary: unicodeEdge },
);

const since = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -40 * 86_400, max: 60 }).map((s) => new Date(Date.now() + s * 1000).toISOString()) },
  fc.constantFrom('1970-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2026-02-29T00:00:00Z', '2024-02-29T00:00:00+14:00', '2026-01-01T00:00:00.123456789Z', '2026-01-01T00:00:00-00:00'),
);

/** Semantic arbitraries by field name, ahead of what the schema's type alone would give. */
const BY_NAME: Record<string, fc.Arbitrary<unknown>> = {
  roomId: roomRef,
  messageId: messageRef,
  replyTo: messageRef,
  userId: userRef,
  senderId: userRef,
  memberIds: fc.array(userRef, { maxLength: 4 }),
  userIds: fc.array(userRef, { minLength: 1, maxLength: 4 }).map((ids) => ids.join(',')),
  emoji,
  // Ids of uploads that do not exist refuse the whole send: mostly none, so that sends get stored.
  attachmentIds: fc.oneof({ weight: 6, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), protoKey), { minLength: 1, maxLength: 11 }) }),
  cursor: fc.oneof({ weight: 2, arbitrary: fc.constant('@@cursor:own') }, { weight: 3, arbitrary: forgedCursor }),
  metadata,
  clientMessageId,
  content,
  since,
  q: fc.oneof(fc.constantFrom('hello', 'x', 'é', '*', '%', '"'), fc.string({ minLength: 1, maxLength: 20 })),
};

/** Any valid value of `schema` (as the schema describes it), for the field `name`. */
function validOf(schema: JsonSchema, name: string | undefined, inQuery: boolean): fc.Arbitrary<unknown> {
  if (name && Object.hasOwn(BY_NAME, name)) return BY_NAME[name]!;
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) return fc.oneof(...((schema.anyOf ?? schema.oneOf) as JsonSchema[]).map((s) => validOf(s, name, inQuery)));
  switch (schema.type) {
    case 'string': {
      if (schema.format === 'date-time') return since;
      if (typeof schema.pattern === 'string') return fc.stringMatching(new RegExp(schema.pattern, 'u'));
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 30), unit: 'grapheme' });
    }
    case 'integer':
    case 'number': {
      const min = Math.max(schema.minimum ?? -1e6, -1e6);
      const max = Math.min(schema.maximum ?? 1e6, 1e6);
      const ints = fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max, min - 1, max + 1));
      return schema.type === 'integer' ? ints : fc.oneof(ints, fc.double({ min, max, noNaN: true }));
    }
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(arbitraryOf(schema.items ?? {}, undefined, inQuery), { maxLength: Math.min(schema.maxItems ?? 4, 4) });
    case 'object':
      return objectArbitrary(schema, inQuery);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A value for a field of `schema`: valid mostly, hostile sometimes. */
export function arbitraryOf(schema: JsonSchema, name?: string, inQuery = false): fc.Arbitrary<unknown> {
  const valid = validOf(schema, name, inQuery);
  return fc.oneof({ weight: VALID_WEIGHT, arbitrary: valid }, { weight: HOSTILE_WEIGHT, arbitrary: inQuery ? queryHostile : hostileValue });
}

const queryHostile: fc.Arbitrary<unknown> = fc.oneof(hostileString, fc.constantFrom(...NUMERIC_STRINGS), edgeNumber.map(String));

/** An object of `schema`: its required fields, some optional ones, now and then a missing or extra field. */
export function objectArbitrary(schema: JsonSchema, inQuery = false): fc.Arbitrary<Record<string, unknown>> {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const names = Object.keys(props);
  if (names.length === 0 && schema.additionalProperties !== false) {
    // A free-form record (metadata-like).
    return metadata;
  }
  const fields = names.map((n) =>
    fc.tuple(fc.constant(n), arbitraryOf(props[n]!, n, inQuery), fc.oneof({ weight: required.has(n) ? 30 : 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) })),
  );
  const extra = fc.oneof(
    { weight: 12, arbitrary: fc.constant([] as [string, unknown][]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(protoKey, fc.constantFrom('extra', 'type', 'PK', 'SK', 'id', 'senderId', 'seq')), inQuery ? queryHostile : hostileValue), { minLength: 1, maxLength: 2 }) },
  );
  return fc.tuple(fc.tuple(...fields), extra).map(([fs, more]) => objectOf([...fs.filter(([, , keep]) => keep).map(([k, v]) => [k, v] as const), ...more]));
}
