/**
 * The subset of Lambda event filtering (EventBridge pattern syntax) the local stream poller needs,
 * applied to Lambda-shaped records (`eventName`, `dynamodb.NewImage.<attr>.S`, ...).
 *
 * Supported: nested objects (AND across keys), arrays of literals (OR; strings, numbers, booleans,
 * null), `{"prefix": "..."}`, `{"exists": true|false}`, `{"anything-but": [...]}` and
 * `{"numeric": [">", 0, "<=", 5]}`. Anything else throws when the filter is compiled, so nobody
 * silently relies on an operator the emulator does not implement.
 *
 * As in EventBridge, every rule but `{"exists": false}` needs a value (string, number, boolean or
 * null) at its path; an object is not a value. Images carry numbers as JSON strings
 * (`{"N": "5"}`), so `numeric` only matches JSON numbers such as `dynamodb.SizeBytes`.
 *
 * @example
 * const matches = compileFilter([{ eventName: ['INSERT'], dynamodb: { NewImage: { et: { S: [{ prefix: 'mess' }] } } } }]);
 * matches(record); // true for an INSERT of an item whose `et` starts with "mess"
 */

type Scalar = string | number | boolean | null;
type ValueTest = (values: readonly Scalar[]) => boolean;
type Matcher = (event: unknown) => boolean;

/** Validates `patterns` once and returns the predicate; no patterns means no filtering, as in Lambda. */
export function compileFilter(patterns: readonly object[]): (record: unknown) => boolean {
  const matchers = patterns.map((pattern, i) => compileObject(pattern, `pattern ${i}`));
  return (record) => matchers.length === 0 || matchers.some((match) => match(record));
}

export const matchesFilter = (pattern: object, record: unknown): boolean => compileFilter([pattern])(record);

export const matchesAny = (patterns: readonly object[], record: unknown): boolean => compileFilter(patterns)(record);

function compileObject(pattern: unknown, path: string): Matcher {
  if (!isPlainObject(pattern)) throw new Error(`Invalid filter at ${path}: expected an object`);
  const fields = Object.entries(pattern).map(([key, rule]): Matcher => {
    const at = `${path}.${key}`;
    if (Array.isArray(rule)) {
      const test = compileRules(rule, at);
      return (event) => test(scalarsAt(field(event, key)));
    }
    if (!isPlainObject(rule)) throw new Error(`Invalid filter at ${at}: expected an array of rules or an object`);
    const nested = compileObject(rule, at);
    // A pattern object also matches an array of objects when one element matches.
    return (event) => {
      const value = field(event, key);
      return Array.isArray(value) ? value.some(nested) : nested(value);
    };
  });
  return (event) => fields.every((match) => match(event));
}

function compileRules(rules: readonly unknown[], path: string): ValueTest {
  const tests = rules.map((rule) => compileRule(rule, path));
  return (values) => tests.some((test) => test(values));
}

function compileRule(rule: unknown, path: string): ValueTest {
  if (isScalar(rule)) return (values) => values.includes(rule);
  if (!isPlainObject(rule)) throw new Error(`Invalid filter rule at ${path}: ${JSON.stringify(rule)}`);
  const entries = Object.entries(rule);
  const [operator, operand] = entries[0] ?? [];
  if (entries.length !== 1) throw new Error(`Invalid filter rule at ${path}: one operator per object`);
  switch (operator) {
    case 'prefix':
      if (typeof operand !== 'string') throw new Error(`Invalid "prefix" at ${path}: expected a string`);
      return (values) => values.some((v) => typeof v === 'string' && v.startsWith(operand));
    case 'exists':
      if (typeof operand !== 'boolean') throw new Error(`Invalid "exists" at ${path}: expected true or false`);
      return (values) => (values.length > 0) === operand;
    case 'anything-but': {
      const excluded: unknown[] = Array.isArray(operand) ? operand : [operand];
      if (!excluded.every(isScalar)) throw new Error(`Unsupported "anything-but" at ${path}: only literal values are supported`);
      return (values) => values.some((v) => !excluded.includes(v));
    }
    case 'numeric':
      return compileNumeric(operand, path);
    default:
      throw new Error(`Unsupported filter operator "${operator}" at ${path}`);
  }
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '=': (a, b) => a === b,
  '>=': (a, b) => a >= b,
  '>': (a, b) => a > b,
};

function compileNumeric(operand: unknown, path: string): ValueTest {
  const terms = Array.isArray(operand) ? operand : [];
  const checks: ((n: number) => boolean)[] = [];
  for (let i = 0; i < terms.length; i += 2) {
    const compare = COMPARE[String(terms[i])];
    const bound: unknown = terms[i + 1];
    if (!compare || typeof bound !== 'number') throw new Error(`Invalid "numeric" at ${path}: ${JSON.stringify(operand)}`);
    checks.push((n) => compare(n, bound));
  }
  if (checks.length === 0) throw new Error(`Invalid "numeric" at ${path}: expected [operator, number, ...]`);
  return (values) => values.some((v) => typeof v === 'number' && checks.every((check) => check(v)));
}

function field(event: unknown, key: string): unknown {
  return isPlainObject(event) && Object.hasOwn(event, key) ? event[key] : undefined;
}

/** The values at a path: a scalar, or the scalars of an array (EventBridge matches any element). */
function scalarsAt(value: unknown): Scalar[] {
  if (isScalar(value)) return [value];
  return Array.isArray(value) ? value.flatMap(scalarsAt) : [];
}

function isScalar(value: unknown): value is Scalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
