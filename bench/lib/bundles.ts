import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { isBuiltin } from 'node:module';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { BUNDLE_EXTRA_FILES, FUNCTION_BUNDLING, FUNCTION_NODE_OPTIONS, FUNCTION_RUNTIME } from '#infra/constructs/functions.ts';
import { allFunctions, httpRoutes, wsAuthorizerFn, wsRoutes } from '#infra/routes.ts';
import type { Target } from './report.ts';
import { median } from './stats.ts';

export const BUNDLE_LIMIT_BYTES = 250 * 1024;
/** Every bundle's goal. */
export const BUNDLE_GOAL_BYTES = 120 * 1024;
/** Every message handler's cold load, over hello world's. */
export const COLD_LOAD_GOAL_RATIO = 2;
export const HELLO_WORLD = 'hello-world';
/** Hello world with the functions' DynamoDB client: what a table-backed handler cannot load in less. */
export const HELLO_DYNAMODB = 'hello-dynamodb';
const BASELINES = new Set([HELLO_WORLD, HELLO_DYNAMODB]);

/** The functions that answer a client's request (HTTP and WebSocket routes, the `$connect` authorizer); the rest are triggers. */
export const messageHandlers = (): string[] => [...new Set([...httpRoutes.map((r) => r.fn), ...wsRoutes.map((r) => r.fn), wsAuthorizerFn])];

/** What weighs in a bundle: an npm package, or a folder of this repository. */
export interface Contributor {
  name: string;
  bytes: number;
}

export interface BundleFigures {
  fn: string;
  minifiedBytes: number;
  gzippedBytes: number;
  /** Files shipped beside the bundle (`BUNDLE_EXTRA_FILES`). */
  besideBytes: number;
  /** Its source map, which Node reads and parses as it loads the bundle (`--enable-source-maps`). */
  sourceMapBytes: number;
  /** Fresh `node` process importing the bundle, spawn to exit: median of `runs`, taken round-robin with the others. */
  processMs: number;
  /** The `import()` alone, timed inside that process: median. */
  importMs: number;
  /** `processMs` over the hello-world bundle's. */
  ratio: number;
  /**
   * `processMs` less hello-dynamodb's, for a bundle that loads the table client with it: the
   * handler's own load, above the floor of a table-backed handler (absent for the others).
   */
  aboveFloorMs?: number;
  runs: number;
  /** The largest inputs of the minified bundle (esbuild's metafile), largest first. */
  contributors: Contributor[];
  /** Modules left out of the bundle (the AWS SDK) that loading it loads too. */
  externalAtLoad: string[];
  /** Modules left out of the bundle that it imports on first use only (`import()`). */
  externalOnFirstUse: string[];
}

const TOP_CONTRIBUTORS = 8;
const bundling: BundlingOptions = FUNCTION_BUNDLING;
const OUT_EXTENSION = bundling.format === OutputFormat.ESM ? '.mjs' : '.cjs';

/**
 * Bundles each function as the CDK stack does (`FUNCTION_BUNDLING`, the runtime's target) into
 * `dir`, which must sit inside the repository: the AWS SDK is left out of the bundles and has to
 * resolve from node_modules, as it does from the Lambda runtime.
 */
export async function measureBundles(opts: { dir: string; root: string; runs: number; only?: readonly string[] }): Promise<BundleFigures[]> {
  const fns = opts.only ?? allFunctions();
  rmSync(opts.dir, { recursive: true, force: true });
  mkdirSync(opts.dir, { recursive: true });
  const { metafile } = await build({
    entryPoints: {
      ...Object.fromEntries(fns.map((fn) => [fn, path.join(opts.root, 'functions', `${fn}.ts`)])),
      [HELLO_WORLD]: path.join(opts.root, 'bench', 'fixtures', 'hello-world.ts'),
      [HELLO_DYNAMODB]: path.join(opts.root, 'bench', 'fixtures', 'hello-dynamodb.ts'),
    },
    outdir: opts.dir,
    outExtension: { '.js': OUT_EXTENSION },
    bundle: true,
    platform: 'node',
    target: FUNCTION_RUNTIME.name.replace(/^nodejs(\d+).*$/, 'node$1'),
    format: FUNCTION_BUNDLING.format,
    mainFields: FUNCTION_BUNDLING.mainFields,
    minify: FUNCTION_BUNDLING.minify,
    sourcemap: FUNCTION_BUNDLING.sourceMap,
    sourcesContent: FUNCTION_BUNDLING.sourcesContent,
    external: FUNCTION_BUNDLING.externalModules,
    ...(bundling.banner && { banner: { js: bundling.banner } }),
    ...(bundling.define && { define: bundling.define }),
    metafile: true,
    // The metafile's paths are relative to this.
    absWorkingDir: opts.root,
    logLevel: 'silent',
  });
  const file = (fn: string) => path.join(opts.dir, `${fn}${OUT_EXTENSION}`);

  // Round-robin, one load of each bundle per round: every bundle meets the same machine noise as hello world.
  const names = [HELLO_WORLD, HELLO_DYNAMODB, ...fns];
  const samples = new Map(names.map((fn) => [fn, { processMs: [] as number[], importMs: [] as number[] }]));
  for (let run = 0; run < opts.runs; run++) {
    for (const fn of names) {
      const { processMs, importMs } = await coldLoad(file(fn));
      samples.get(fn)!.processMs.push(processMs);
      samples.get(fn)!.importMs.push(importMs);
    }
  }
  const helloMs = median(samples.get(HELLO_WORLD)!.processMs);
  const floorMs = median(samples.get(HELLO_DYNAMODB)!.processMs);
  const figures = names.map((fn): BundleFigures => {
    const code = readFileSync(file(fn));
    const s = samples.get(fn)!;
    const { loadsTable, ...weight } = weighed(metafile!, path.relative(opts.root, file(fn)).split(path.sep).join('/'), opts.root);
    return {
      fn,
      minifiedBytes: code.byteLength,
      gzippedBytes: gzipSync(code).byteLength,
      besideBytes: (BUNDLE_EXTRA_FILES[fn] ?? []).reduce((sum, f) => sum + statSync(path.join(opts.root, f.from)).size, 0),
      sourceMapBytes: existsSync(`${file(fn)}.map`) ? statSync(`${file(fn)}.map`).size : 0,
      processMs: median(s.processMs),
      importMs: median(s.importMs),
      ratio: median(s.processMs) / helloMs,
      runs: opts.runs,
      ...(fn !== HELLO_DYNAMODB && loadsTable && { aboveFloorMs: median(s.processMs) - floorMs }),
      ...weight,
    };
  });
  return figures;
}

/** The table client's module: a bundle that runs it at load is table-backed. */
const TABLE_CLIENT = 'shared/adapters/dynamodb/client.ts';

/**
 * The bundle's inputs by weight, grouped by npm package (`zod`) or by folder of this repository
 * (`shared/adapters/dynamodb`), the modules it leaves out, by whether they load with it, and
 * whether the table client loads with it.
 */
function weighed(metafile: Metafile, output: string, root: string): Pick<BundleFigures, 'contributors' | 'externalAtLoad' | 'externalOnFirstUse'> & { loadsTable: boolean } {
  const out = metafile.outputs[output];
  if (!out) throw new Error(`esbuild wrote no ${output}`);
  const bytes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
    const pkg = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
    const name = pkg ?? path.posix.dirname(path.relative(root, path.resolve(root, input)).split(path.sep).join('/'));
    bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
  }
  const contributors = [...bytes].map(([name, b]) => ({ name, bytes: b })).filter((c) => c.bytes > 0);
  contributors.sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
  // What runs with the bundle: the entry and every module it reaches without an import(); a module
  // reached only through one is evaluated on first use, and so are the externals it imports.
  const eager = new Set<string>();
  const pending = out.entryPoint ? [out.entryPoint] : [];
  while (pending.length > 0) {
    const input = pending.pop()!;
    if (eager.has(input)) continue;
    eager.add(input);
    for (const i of metafile.inputs[input]?.imports ?? []) if (!i.external && i.kind !== 'dynamic-import') pending.push(i.path);
  }
  const atLoad = new Set<string>();
  const onFirstUse = new Set<string>();
  for (const input of Object.keys(out.inputs)) {
    for (const i of metafile.inputs[input]?.imports ?? []) {
      // Node's own modules cost nothing to find; what counts is what the runtime loads from disk.
      if (!i.external || isBuiltin(i.path)) continue;
      (eager.has(input) && i.kind !== 'dynamic-import' ? atLoad : onFirstUse).add(i.path);
    }
  }
  const sorted = (set: Set<string>, without: Set<string> = new Set()) => [...set].filter((m) => !without.has(m)).sort();
  return {
    contributors: contributors.slice(0, TOP_CONTRIBUTORS),
    externalAtLoad: sorted(atLoad),
    externalOnFirstUse: sorted(onFirstUse, atLoad),
    loadsTable: eager.has(TABLE_CLIENT),
  };
}

/**
 * The bundles' targets: the size budget, every bundle's goal, and every message handler's cold
 * load against hello world's (triggers are shown beside it, not counted).
 */
export function bundleTargets(bundles: readonly BundleFigures[]): Target[] {
  const measured = bundles.filter((b) => !BASELINES.has(b.fn));
  const largest = measured.reduce((a, b) => (b.minifiedBytes > a.minifiedBytes ? b : a));
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  const over = measured.filter((b) => b.minifiedBytes > BUNDLE_GOAL_BYTES);
  const handlers = new Set(messageHandlers());
  const ratios = (list: readonly BundleFigures[]) => list.map((b) => b.ratio);
  const range = (list: readonly BundleFigures[]) => `${Math.min(...ratios(list)).toFixed(2)}–${Math.max(...ratios(list)).toFixed(2)}×`;
  const api = measured.filter((b) => handlers.has(b.fn));
  const triggers = measured.filter((b) => !handlers.has(b.fn));
  const slowest = api.length > 0 ? api.reduce((a, b) => (b.ratio > a.ratio ? b : a)) : undefined;
  const hello = bundles.find((b) => b.fn === HELLO_WORLD);
  const floor = bundles.find((b) => b.fn === HELLO_DYNAMODB);
  return [
    { name: 'Each bundle minified', target: '< 250 KB', value: `largest ${largest.fn}: ${kb(largest.minifiedBytes)}`, met: largest.minifiedBytes < BUNDLE_LIMIT_BYTES },
    {
      name: 'Every bundle minified',
      target: `≤ ${BUNDLE_GOAL_BYTES / 1024} KB`,
      value: `largest ${largest.fn}: ${kb(largest.minifiedBytes)}${over.length > 1 ? `; ${over.length} over: ${over.map((b) => b.fn).join(', ')}` : ''}`,
      met: over.length === 0,
    },
    {
      name: 'Every message handler cold load, over a hello world',
      target: `≤ ${COLD_LOAD_GOAL_RATIO}×`,
      value: slowest
        ? `${range(api)} (slowest ${slowest.fn}: ${slowest.processMs.toFixed(1)} ms, hello world ${hello?.processMs.toFixed(1)} ms)` +
          (triggers.length > 0 ? `; triggers ${range(triggers)}` : '') +
          (floor ? `; hello world + DynamoDB client ${floor.ratio.toFixed(2)}×` : '') +
          floorReason(api, floor, hello)
        : 'no message handler measured',
      met: slowest !== undefined && slowest.ratio <= COLD_LOAD_GOAL_RATIO,
    },
  ];
}

/**
 * Why the cold-load goal is out of reach, when it is: the DynamoDB client alone loads in more than
 * the goal allows, so no handler that loads it with its bundle can meet it; what the handlers add
 * above that floor is theirs.
 */
function floorReason(api: readonly BundleFigures[], floor: BundleFigures | undefined, hello: BundleFigures | undefined): string {
  if (!floor || !hello || floor.ratio <= COLD_LOAD_GOAL_RATIO) return '';
  const above = api.flatMap((b) => (b.aboveFloorMs === undefined ? [] : [b.aboveFloorMs]));
  const own = above.length > 0 ? `; the table-backed handlers load ${Math.min(...above).toFixed(1)}–${Math.max(...above).toFixed(1)} ms above that floor` : '';
  return (
    `. Out of reach while a handler loads the DynamoDB client at init: that alone takes ${(floor.processMs - hello.processMs).toFixed(1)} ms over hello world,` +
    ` the goal allows ${((COLD_LOAD_GOAL_RATIO - 1) * hello.processMs).toFixed(1)} ms; loading it on the first call would only move that time into the first request${own}`
  );
}

/**
 * Loads the bundle the way Lambda's Node.js runtime loads a handler: `require` for CommonJS,
 * `import()` for an ES module, with the functions' NODE_OPTIONS. The import alone is timed inside.
 */
const LOADER = `import { createRequire } from 'node:module'; import { pathToFileURL } from 'node:url';
const f = process.argv[1]; const t = performance.now();
if (f.endsWith('.cjs')) createRequire(f)(f); else await import(pathToFileURL(f).href);
process.stdout.write(String(performance.now() - t));`;

/** One fresh process loading `file`: spawn to exit, and the load timed inside it. */
async function coldLoad(file: string): Promise<{ processMs: number; importMs: number }> {
  const started = performance.now();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', LOADER, file], {
      env: { PATH: process.env.PATH, NODE_OPTIONS: FUNCTION_NODE_OPTIONS, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
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
