import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import { ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { WEBP_WASM } from '#shared/media/webp.ts';
import { allFunctions, functionTimeoutSeconds, thumbnailFn } from '#infra/routes.ts';
import { findingId } from './nag.ts';

/** The repository root, so entries resolve the same whatever directory `cdk` runs from. */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The managed policy CDK attaches to every function role. */
const BASIC_EXECUTION = ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole');

/** `ws-message-send` → `WsMessageSend`, a readable construct id. */
const constructId = (fn: string): string =>
  fn.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, c: string) => c.toUpperCase());

export const FUNCTION_RUNTIME = Runtime.NODEJS_22_X;

/** Node's options on every function: stack traces in the logs point into the sources. */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/**
 * How every function is bundled; `npm run bench` builds its bundles with these very options.
 * CommonJS, not ESM: Lambda's runtime then `require`s the handler, and the AWS SDK it requires
 * (CommonJS packages) loads without Node's ESM-to-CommonJS translation, which costs a third of the
 * SDK's load time (docs/performance.md, bundles).
 */
export const FUNCTION_BUNDLING = {
  format: OutputFormat.CJS,
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  // With --enable-source-maps Node reads and parses a bundle's map as it loads it: without the
  // sources' text the map is a fifth of the size (stack traces still name files and lines).
  sourcesContent: false,
  // The Node 22 runtime ships SDK v3 and its @smithy dependencies; bundling them only adds weight.
  externalModules: ['@aws-sdk/*', '@smithy/*'],
  // Code that finds files beside its module (the WebP decoder) reads import.meta.url, which CommonJS lacks.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;",
} satisfies BundlingOptions;

/**
 * Files a function needs beside its bundle, which esbuild cannot inline: the thumbnail function's
 * WebP decoder (WebAssembly), read from the bundle's directory. Paths from the repository root.
 */
export const BUNDLE_EXTRA_FILES: Readonly<Record<string, readonly { from: string; to: string }[]>> = {
  [thumbnailFn]: [{ from: path.relative(repoRoot, createRequire(import.meta.url).resolve(WEBP_WASM.packagePath)), to: WEBP_WASM.fileName }],
};

/** Bundling for `fn`: the shared options, plus a copy step for its extra files (with node, so it runs on any OS and in Docker). */
function bundlingFor(fn: string): BundlingOptions {
  const extra = BUNDLE_EXTRA_FILES[fn];
  if (!extra) return FUNCTION_BUNDLING;
  const copy = (inputDir: string, outputDir: string) =>
    extra.map(({ from, to }) => {
      const args = [path.posix.join(inputDir, ...from.split(path.sep)), path.posix.join(outputDir, to)];
      return `node -e "require('node:fs').copyFileSync(process.argv[1], process.argv[2])" ${args.map((a) => JSON.stringify(a)).join(' ')}`;
    });
  return { ...FUNCTION_BUNDLING, commandHooks: { beforeBundling: () => [], beforeInstall: () => [], afterBundling: copy } };
}

/**
 * One function per file in functions/ named by the route table, all bundled the same way: CommonJS for
 * Node 22 on arm64, minified with source maps, AWS SDK v3 left to the runtime.
 */
export function createFunctions(scope: Construct, environment: Record<string, string>): Map<string, NodejsFunction> {
  const functions = new Map<string, NodejsFunction>();
  for (const fn of allFunctions()) {
    const id = constructId(fn);
    const handler = new NodejsFunction(scope, id, {
      entry: path.join(repoRoot, 'functions', `${fn}.ts`),
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      // Decoding a 40-megapixel image in JS holds 160 MB of pixels and takes seconds; memory buys CPU.
      memorySize: fn === thumbnailFn ? 1536 : 512,
      timeout: Duration.seconds(functionTimeoutSeconds(fn)),
      environment: { ...environment, NODE_OPTIONS: FUNCTION_NODE_OPTIONS },
      logGroup: new LogGroup(scope, `${id}Logs`, { retention: RetentionDays.ONE_MONTH }),
      bundling: bundlingFor(fn),
    });
    Validations.of(handler).acknowledge(
      {
        id: findingId(handler, 'AwsSolutions-IAM4', 'Policy', BASIC_EXECUTION.managedPolicyArn),
        reason: 'AWSLambdaBasicExecutionRole only allows creating and writing CloudWatch Logs streams.',
      },
      {
        id: 'AwsSolutions-L1',
        reason: 'Node.js 22 is the runtime the project targets and tests against; moving to a newer runtime is a deliberate upgrade.',
      },
    );
    functions.set(fn, handler);
  }
  return functions;
}
