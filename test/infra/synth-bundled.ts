/**
 * `tsx test/infra/synth-bundled.ts <outdir>`: synthesizes the stack as `cdk synth` does, esbuild
 * bundling every function, into `outdir`. stack.test.ts runs it in a process of its own: bundling
 * blocks its process for tens of seconds, which the test runner's worker must not be (its calls to
 * the runner time out after 60 s on a slow machine).
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { ParleyStack } from '#infra/stack.ts';

const outdir = process.argv[2];
if (!outdir) throw new Error('usage: synth-bundled.ts <outdir>');
const context = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;
const app = new App({ outdir, context });
new ParleyStack(app, 'Parley');
app.synth();
