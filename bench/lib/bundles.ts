import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { FUNCTION_BUNDLING, FUNCTION_RUNTIME } from '../../infra/constructs/functions.ts';
import { allFunctions } from '../../infra/routes.ts';
import { median } from './stats.ts';

export const BUNDLE_LIMIT_BYTES = 250 * 1024;
export const HELLO_WORLD = 'hello-world';

export interface BundleFigures {
  fn: string;
  minifiedBytes: number;
  gzippedBytes: number;
  /** Fresh `node` process importing the bundle, spawn to exit: median of `runs`. */
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

  const load = (name: string) => coldLoads(path.join(opts.dir, `${name}.mjs`), opts.runs);
  const hello = await load(HELLO_WORLD);
  const figures: BundleFigures[] = [];
  for (const fn of [HELLO_WORLD, ...fns]) {
    const code = readFileSync(path.join(opts.dir, `${fn}.mjs`));
    const loads = fn === HELLO_WORLD ? hello : await load(fn);
    figures.push({
      fn,
      minifiedBytes: code.byteLength,
      gzippedBytes: gzipSync(code).byteLength,
      processMs: loads.processMs,
      importMs: loads.importMs,
      ratio: loads.processMs / hello.processMs,
      runs: opts.runs,
    });
  }
  return figures;
}

const LOADER = `const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));`;

/** Medians over `runs` fresh processes, one after another (never two at once on two cores). */
async function coldLoads(file: string, runs: number): Promise<{ processMs: number; importMs: number }> {
  const processMs: number[] = [];
  const importMs: number[] = [];
  for (let i = 0; i < runs; i++) {
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
    processMs.push(performance.now() - started);
    importMs.push(Number(out));
  }
  return { processMs: median(processMs), importMs: median(importMs) };
}
