import type { Case } from './cases.ts';

/** The seed of `npm test`: a fixed one, so that a failure there is the same failure every run. */
export const FIXED_SEED = 20_261_129;

export interface FuzzSettings {
  seed: number;
  /** fast-check's path to one counterexample (replays it without searching). */
  path?: string;
  /** How long to look for a failure. */
  seconds: number;
  /** What shrinking a failure may take on top (the test's timeout). */
  shrinkSeconds: number;
  /** The most cases per batch (each batch ends with a check that a valid request still works). */
  batch: number;
  /** Only routes and frame types matching it (`FUZZ_ONLY='messages|frame message_send'`). */
  only?: RegExp;
  /** Report the first failure as found, without shrinking it. */
  noShrink: boolean;
}

/** Settings from FUZZ_* variables; the defaults are those of `npm test`. */
export function fuzzSettings(env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const num = (name: string, fallback: number) => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`${name} must be a number, not ${v}`);
    return n;
  };
  return {
    seed: num('FUZZ_SEED', FIXED_SEED),
    ...(env.FUZZ_PATH && { path: env.FUZZ_PATH }),
    seconds: num('FUZZ_SECONDS', 40),
    shrinkSeconds: num('FUZZ_SHRINK_SECONDS', 120),
    batch: num('FUZZ_BATCH', 20),
    ...(env.FUZZ_ONLY && { only: new RegExp(env.FUZZ_ONLY) }),
    noShrink: env.FUZZ_NO_SHRINK === '1',
  };
}

/** A case as one line: what it sends (placeholders such as `@@room` stand for the fuzz room and its kin). */
export function describeCase(c: Case): string {
  const show = (v: unknown) => {
    const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' && x.length > 200 ? `${x.slice(0, 40)}…(${x.length} chars)` : x));
    return s === undefined ? 'undefined' : s;
  };
  if (c.kind === 'http') {
    const path = c.path.replace(/\{(\w+)\}/g, (_, n: string) => {
      const v = c.params[n]!;
      return typeof v === 'string' ? show(v) : v.raw;
    });
    const query = c.query.length ? `?${c.query.map(([k, v]) => `${show(k)}=${show(v)}`).join('&')}` : '';
    const body = c.body === undefined ? '' : 'json' in c.body ? ` body ${show(c.body.json)}` : ` raw body ${show(c.body.text)}`;
    return `${c.method} ${path}${query}${body} as ${c.who}${c.contentType !== undefined ? `, content-type ${show(c.contentType)}` : ''}`;
  }
  if (c.kind === 'connect') return `query ${show(c.query)}${c.header === undefined ? '' : `, Authorization ${show(c.header)}`}`;
  return 'json' in c.body ? show(c.body.json) : `raw ${show(c.body.text)}`;
}
