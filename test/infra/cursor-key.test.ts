import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { allFunctions } from '#infra/routes.ts';
import { ParleyStack } from '#infra/stack.ts';
import { functionsReadingSecret } from '#infra/permissions.ts';
import { ENV } from '#shared/env.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cdkContext = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')).context;
type Resource = { Type: string; Properties: Record<string, any> };
const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);

describe('the cursor key', () => {
  let stack: ParleyStack;
  let resources: Record<string, Resource>;
  let secretId: string;

  beforeAll(() => {
    // Bundles are covered by stack.test.ts: synthesize without esbuild.
    const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
    stack = new ParleyStack(app, 'Parley');
    resources = Template.fromStack(stack).toJSON().Resources;
    // The stack's other secret is the VAPID seed (test/infra/events.test.ts).
    const secrets = Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::SecretsManager::Secret' && id.startsWith('CursorKey'));
    expect(secrets).toHaveLength(1);
    secretId = secrets[0]![0];
  });

  const statementsOf = (fn: string) => {
    const role = stack.functions.get(fn)!.role!;
    return Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: logicalId(role) }]))
      .flatMap((r) => r.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
  };
  const readsSecret = (fn: string) =>
    statementsOf(fn).some((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue') && JSON.stringify(s.Resource) === JSON.stringify({ Ref: secretId }));
  const env = (fn: string) => resources[logicalId(stack.functions.get(fn)!)]!.Properties.Environment.Variables as Record<string, unknown>;

  it('is a secret the stack generates', () => {
    expect(resources[secretId]!.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
  });

  const CURSOR_FNS = functionsReadingSecret('cursor-key');

  it('is readable by the functions that make or open cursors, with its ARN in their environment', () => {
    expect(CURSOR_FNS.sort()).toEqual(['http-list-changes', 'http-list-messages', 'http-list-public-rooms', 'http-list-rooms', 'http-search']);
    for (const fn of CURSOR_FNS) {
      expect(readsSecret(fn), fn).toBe(true);
      expect(env(fn)[ENV.cursorKeySecretArn], fn).toEqual({ Ref: secretId });
    }
  });

  it('is not readable by any other function', () => {
    const others = allFunctions().filter((fn) => !CURSOR_FNS.includes(fn));
    expect(others.length).toBeGreaterThan(10);
    for (const fn of others) {
      expect(readsSecret(fn), fn).toBe(false);
      // The VAPID seed's readers read that secret, and only it.
      const secretStatements = statementsOf(fn).filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
      if (functionsReadingSecret('vapid-seed').includes(fn)) {
        expect(secretStatements.map((s) => JSON.stringify(s.Resource)), fn).toEqual([expect.stringMatching(/^\{"Ref":"OutboundEventsVapidSeed[0-9A-F]{8}"\}$/)]);
      } else {
        expect(secretStatements, fn).toEqual([]);
      }
      expect(env(fn)[ENV.cursorKeySecretArn], fn).toBeUndefined();
    }
  });
});
