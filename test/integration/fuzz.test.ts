import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpRoutes, wsRoutes } from '#infra/routes.ts';
import { loadCatalogue, type Catalogue } from '#test/support/fuzz/catalogue.ts';
import { caseArbitrary, type Case } from '#test/support/fuzz/cases.ts';
import { caseName, FuzzWorld } from '#test/support/fuzz/runner.ts';
import { fuzzSettings, describeCase } from '#test/support/fuzz/settings.ts';

/**
 * The property-based fuzz suite: arbitrary (and hostile) requests to every HTTP route and frames of
 * every type, generated from the zod schemas, against the real local stack. `npm test` runs it with
 * a fixed seed and a short budget; `npm run fuzz` for longer with a random seed it prints.
 */
const settings = fuzzSettings();
let catalogue: Catalogue;
const world = new FuzzWorld({ httpUrl: inject('httpUrl'), wsUrl: inject('wsUrl'), service: inject('service') });

beforeAll(async () => {
  catalogue = await loadCatalogue();
  await world.setup();
});
afterAll(() => world.close());

describe('fuzz', () => {
  it('has a generator for every route of the route table, /dev/token and every frame type', () => {
    expect(catalogue.gaps).toEqual([]);
    const routes = new Set(catalogue.http.map((t) => t.key));
    for (const r of httpRoutes) expect(routes.has(`${r.method} ${r.path}`), `${r.method} ${r.path}`).toBe(true);
    expect(routes.has('POST /dev/token')).toBe(true);
    const frames = new Set(catalogue.frames.map((f) => f.type));
    for (const r of wsRoutes.filter((w) => !w.routeKey.startsWith('$'))) expect(frames.has(r.routeKey), r.routeKey).toBe(true);
  });

  it(
    `survives arbitrary and hostile requests and frames (seed ${settings.seed}, ${settings.seconds} s)`,
    async () => {
      console.log(`fuzz: seed ${settings.seed}, ${settings.seconds} s, batches of ≤ ${settings.batch}${settings.only ? `, only ${settings.only}` : ''} (replay: FUZZ_SEED=${settings.seed} npm run fuzz)`);
      const property = fc.asyncProperty(fc.array(caseArbitrary(catalogue, settings.only), { minLength: 1, maxLength: settings.batch, size: 'max' }), async (batch: Case[]) => {
        await world.beginBatch();
        for (const c of batch) await world.run(c);
        await world.checkStillWorks();
        if (Date.now() - lastReport > 60_000) {
          lastReport = Date.now();
          console.log(`fuzz: ${((lastReport - started) / 1000).toFixed(0)} s, ${[...world.counts.values()].reduce((a, b) => a + b, 0)} cases so far`);
        }
      });
      let lastReport = Date.now();
      const started = Date.now();
      // Search within the budget, then shrink what failed with a budget of its own.
      let details = await fc.check(property, {
        seed: settings.seed,
        ...(settings.path && { path: settings.path }),
        numRuns: settings.path ? 1 : 1_000_000,
        interruptAfterTimeLimit: settings.seconds * 1000,
        markInterruptAsFailure: false,
        endOnFailure: true,
      });
      if (details.failed && !settings.noShrink) {
        console.log(`fuzz: failed after ${details.numRuns} batches (path ${details.counterexamplePath}); shrinking`);
        const found = details;
        details = await fc.check(property, { seed: found.seed, path: found.counterexamplePath!, numRuns: 1, interruptAfterTimeLimit: settings.shrinkSeconds * 1000, markInterruptAsFailure: false });
        // A failure that does not come back on replay (it depended on state) is reported as found.
        if (!details.failed) details = found;
      }
      const cases = [...world.counts.values()].reduce((a, b) => a + b, 0);
      console.log(`fuzz: ${details.numRuns} batches, ${cases} cases in ${((Date.now() - started) / 1000).toFixed(0)} s; per route: ${[...world.counts].sort().map(([k, v]) => `${k} ${v}`).join(', ')}; checked: ${[...world.checks].map(([k, v]) => `${k} ${v}`).join(', ')}`);
      if (details.failed) {
        const example = details.counterexample?.[0] as Case[] | undefined;
        const message = [
          `fuzz found a failure (seed ${details.seed}, path ${details.counterexamplePath}; replay: FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath} npm run fuzz)`,
          `after ${details.numRuns} batches and ${details.numShrinks} shrinks, the smallest batch:`,
          ...(example ?? []).map((c, i) => `  ${i + 1}. ${caseName(c)}: ${describeCase(c)}`),
          String(details.errorInstance instanceof Error ? details.errorInstance.message : details.errorInstance),
        ].join('\n');
        throw new Error(message);
      }
      expect(details.numRuns).toBeGreaterThan(0);
    },
    (settings.seconds + settings.shrinkSeconds) * 1000 + 60_000,
  );
});
