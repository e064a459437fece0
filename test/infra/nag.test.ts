import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParleyStack } from '#infra/stack.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
// The feature flags `cdk synth` runs with; bundling is skipped, it changes nothing cdk-nag checks.
const context = {
  ...JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')).context,
  'aws:cdk:bundling-stacks': [],
};

interface Finding {
  rule: string;
  severity: string;
  path: string;
}

/**
 * Synthesizes the stack with the checks registered as bin/app.ts does, and returns what the
 * AwsSolutions pack put in the validation report, errors and warnings alike.
 */
function nagFindings(env?: Environment): { findings: Finding[]; synthError?: unknown } {
  const outdir = mkdtempSync(path.join(tmpdir(), 'parley-nag-'));
  const app = new App({ outdir, context });
  new ParleyStack(app, 'Parley', { env });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let synthError: unknown;
  try {
    app.synth();
  } catch (err) {
    synthError = err; // errors stop synthesis, after the report is written
  }
  const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  const nag = report.pluginReports.find((r: { pluginName: string }) => r.pluginName === 'AwsSolutions');
  const violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[] =
    nag?.violations ?? [];
  const findings = violations.flatMap((v) =>
    v.violatingConstructs.map((c) => ({ rule: v.ruleName, severity: v.severity, path: c.constructPath })),
  );
  return { findings, synthError };
}

const under = (finding: Finding, scopePath: string) => `${finding.path}/`.startsWith(`${scopePath}/`);

describe('cdk-nag AwsSolutions', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  // Finding ids embed the rendered policy (partition, region, account): check both shapes.
  it.each([
    ['environment-agnostic', undefined],
    ['in a concrete account and region', { account: '123456789012', region: 'eu-central-1' }],
  ])('reports no unacknowledged error or warning, %s', (_, env) => {
    const { findings, synthError } = nagFindings(env);
    expect(findings).toEqual([]);
    expect(synthError).toBeUndefined();
  });

  it('reports findings without the acknowledgments, each answered by one of them', () => {
    const acknowledged: { id: string; reason: string; path: string }[] = [];
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(function (this: Validations, ...rules) {
      // `scope` is private to Validations: the construct the acknowledgment would apply to.
      const scope = (this as unknown as { scope: IConstruct }).scope;
      for (const { id, reason } of rules) acknowledged.push({ id, reason, path: scope.node.path });
    });

    const { findings, synthError } = nagFindings();

    expect(synthError).toBeDefined();
    const ours = acknowledged.filter((a) => a.id.startsWith('AwsSolutions-'));
    expect(ours.length).toBeGreaterThan(0);
    for (const ack of ours) {
      const answered = findings.filter((f) => f.rule === ack.id && under(f, ack.path));
      expect(answered.length, `${ack.id} at ${ack.path} answers no finding`).toBeGreaterThan(0);
      expect(ack.reason.length, `reason for ${ack.id}`).toBeGreaterThan(40);
    }
    expect(findings.filter((f) => !ours.some((a) => a.id === f.rule && under(f, a.path)))).toEqual([]);
  });
});
