import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { BUNDLE_EXTRA_FILES, FUNCTION_BUNDLING, FUNCTION_RUNTIME } from '#infra/constructs/functions.ts';
import { allFunctions } from '#infra/routes.ts';
import { median } from './stats.ts';

export const BUNDLE_LIMIT_BYTES = 250 * 1024;
export const HELLO_WORLD = 'hello-world';

export interface BundleFigures {
  fn: string;
  minifiedBytes: number;
  gzippedBytes: number;
  /** Files shipped beside the bundle (`BUNDLE_EXTRA_FILES`). */
  besideBytes: number;
  /** Fresh `node` process importing the bundle, spawn to exit: median of `runs`, taken round-robin with the others. */
  processMs: number;
  /** The `import()` alone, timed inside that process: median. */
  importMs: number;
  /** `processMs` over the hello-world bundle's. */
  ratio: number;
  runs: number;
}

/**
 * Bundles each function as the CDK stack does (`FUNCTION_BUNDLING`, the runtime's target) into
 * `dir`, which must sit inside the repository: the AWS SDK is left out of the bundles and has to
 * resolve from node_modules, as it does from the Lambda runtime.
 */
export async function measureBundles(opts: { dir: string; root: string; runs: number; only?: readonly string[] }): Promise<BundleFigures[]> {
  const fns = opts.only ?? allFunctions();
  rmSync(opts.dir, { recursive: true, force: true });
  mkdirSync(opts.dir, { recursive: true });
  await build({
    entryPoints: {
      ...Object.fromEntries(fns.map((fn) => [fn, path.join(opts.root, 'functions', `${fn}.ts`)])),
      [HELLO_WORLD]: path.join(opts.root, 'bench', 'fixtures', 'hello-world.ts'),
    },
    outdir: opts.dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: FUNCTION_RUNTIME.name.replace(/^nodejs(\d+).*$/, 'node$1'),
    format: FUNCTION_BUNDLING.format,
    mainFields: FUNCTION_BUNDLING.mainFields,
    minify: FUNCTION_BUNDLING.minify,
    sourcemap: FUNCTION_BUNDLING.sourceMap,
    external: FUNCTION_BUNDLING.externalModules,
    banner: { js: FUNCTION_BUNDLING.banner },
    logLevel: 'silent',
  });

  // Round-robin, one load of each bundle per round: every bundle meets the same machine noise as hello world.
  const names = [HELLO_WORLD, ...fns];
  const samples = new Map(names.map((fn) => [fn, { processMs: [] as number[], importMs: [] as number[] }]));
  for (let run = 0; run < opts.runs; run++) {
    for (const fn of names) {
      const { processMs, importMs } = await coldLoad(path.join(opts.dir, `${fn}.mjs`));
      samples.get(fn)!.processMs.push(processMs);
      samples.get(fn)!.importMs.push(importMs);
    }
  }
  const helloMs = median(samples.get(HELLO_WORLD)!.processMs);
  const figures = names.map((fn): BundleFigures => {
    const code = readFileSync(path.join(opts.dir, `${fn}.mjs`));
    const s = samples.get(fn)!;
    return {
      fn,
      minifiedBytes: code.byteLength,
      gzippedBytes: gzipSync(code).byteLength,
      besideBytes: (BUNDLE_EXTRA_FILES[fn] ?? []).reduce((sum, f) => sum + statSync(path.join(opts.root, f.from)).size, 0),
      processMs: median(s.processMs),
      importMs: median(s.importMs),
      ratio: median(s.processMs) / helloMs,
      runs: opts.runs,
    };
  });
  return figures;
}

const LOADER = `const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));`;

/** One fresh process importing `file`: spawn to exit, and the import timed inside it. */
async function coldLoad(file: string): Promise<{ processMs: number; importMs: number }> {
  const started = performance.now();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', LOADER, pathToFileURL(file).href], {
      env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`loading ${path.basename(file)} failed (${code}): ${stderr.slice(0, 500)}`))));
  });
  return { processMs: performance.now() - started, importMs: Number(out) };
}
