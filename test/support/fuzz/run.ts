/**
 * `npm run fuzz`: the fuzz suite of test/integration/fuzz.test.ts for longer than `npm test` gives
 * it, against its own local runtime, with a random seed it prints first (or the one given).
 *
 *   npm run fuzz                         10 minutes, a random seed
 *   npm run fuzz -- --minutes 30         longer
 *   FUZZ_SEED=123 npm run fuzz           replay a run (add FUZZ_PATH=… to replay one failure)
 *   npm run fuzz -- --only 'messages|frame message_send'   only routes and frames matching
 *
 * Options may also be given as FUZZ_SECONDS, FUZZ_SEED, FUZZ_PATH, FUZZ_ONLY, FUZZ_BATCH,
 * FUZZ_NO_SHRINK=1 (see settings.ts).
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    only: { type: 'string' },
  },
});

const seed = values.seed ?? process.env.FUZZ_SEED ?? String(randomInt(1, 2 ** 31 - 1));
const seconds = values.seconds ?? (values.minutes !== undefined ? String(Number(values.minutes) * 60) : (process.env.FUZZ_SECONDS ?? '600'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  FUZZ_SEED: seed,
  FUZZ_SECONDS: seconds,
  ...(values.only !== undefined && { FUZZ_ONLY: values.only }),
  // The runtime's search limit would answer 429 to nearly every search of a long run.
  PARLEY_SEARCH_RATE_LIMIT: process.env.PARLEY_SEARCH_RATE_LIMIT ?? '0',
};
console.log(`npm run fuzz: seed ${seed}, ${seconds} s (replay: FUZZ_SEED=${seed} npm run fuzz)`);
const child = spawn(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'integration', 'test/integration/fuzz.test.ts'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => {
  console.log(`npm run fuzz: seed ${seed} ${code === 0 ? 'found nothing' : 'FAILED'}`);
  process.exit(code ?? (signal ? 1 : 0));
});
