import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ParleyStack } from '#infra/stack.ts';
import { eventsStreamFn } from '#infra/routes.ts';
import { eventsFilterPatterns } from '#shared/adapters/dynamodb/event-stream.ts';
import { ENV } from '#shared/env.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cdkContext = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')).context;

function synth(context: Record<string, unknown> = {}) {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new ParleyStack(app, 'Parley');
  return { stack, template: Template.fromStack(stack) };
}

type Resource = { Type: string; Properties: Record<string, any> };
const resources = (t: Template, type: string) => Object.entries(t.findResources(type) as Record<string, Resource>);

/** The statements of the role policy attached to a function's role. */
function statementsOf(stack: Stack, template: Template, fn: string) {
  const logicalId = (id: string) => stack.getLogicalId(stack.node.findChild(id).node.findChild('ServiceRole').node.defaultChild as never);
  const roleId = logicalId(fn.replace(/(^|-)([a-z0-9])/g, (_, _d: string, c: string) => c.toUpperCase()));
  return resources(template, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown }[]);
}
const actions = (s: { Action: string | string[] }) => [s.Action].flat();

describe('outbound events infrastructure', () => {
  const { stack, template } = synth();

  it('a bus of its own, and the events consumer on the stream with its filter, DLQ and no bisecting', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    const [[, mapping]] = resources(template, 'AWS::Lambda::EventSourceMapping').filter(([, m]) =>
      JSON.stringify(m.Properties.FunctionName).includes('StreamEvents'),
    ) as [[string, Resource]];
    expect(mapping.Properties).toMatchObject({
      StartingPosition: 'LATEST',
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: false,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(JSON.stringify(mapping.Properties.DestinationConfig.OnFailure.Destination)).toContain('OutboundEventsFailures');
    expect(mapping.Properties.FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern))).toEqual(eventsFilterPatterns);
    // Alarms on the dead-letter queue and on falling behind.
    const alarms = resources(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties.AlarmDescription as string);
    expect(alarms.filter((d) => d.startsWith('The events consumer') || d.startsWith('Outbound events'))).toHaveLength(2);
  });

  it('least privilege: PutEvents on the bus, the VAPID secret, table writes only under USER#', () => {
    const statements = statementsOf(stack, template, eventsStreamFn);
    const put = statements.filter((s) => actions(s).includes('events:PutEvents'));
    expect(put).toHaveLength(1);
    expect(JSON.stringify(put[0]!.Resource)).toContain('OutboundEventsBus');
    expect(statements.some((s) => actions(s).includes('secretsmanager:GetSecretValue') && JSON.stringify(s.Resource).includes('VapidSeed'))).toBe(true);
    const writes = statements.filter((s) => actions(s).some((a) => /dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['USER#*'] } });
    expect(actions(writes[0]!).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:UpdateItem']);
    // No other function may put events.
    const putters = resources(template, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes('events:PutEvents'));
    expect(putters).toHaveLength(1);
  });

  it('the VAPID seed is a generated, retained secret read by the pushing function and the key route only', () => {
    const [[, secret]] = resources(template, 'AWS::SecretsManager::Secret').filter(([id]) => id.includes('VapidSeed')) as [[string, Resource]];
    expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
    const readers = resources(template, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Environment?.Variables?.[ENV.vapidSecretArn]);
    expect(readers.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['HttpGetVapidKey', 'StreamEvents']);
    const consumer = resources(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('StreamEvents'))!;
    expect(consumer[1].Properties.Environment.Variables[ENV.eventBusName]).toBeDefined();
  });

  it('a bus named at deploy is used instead of a new one', () => {
    const named = synth({ 'parley:eventBusName': 'platform-bus' });
    named.template.resourceCountIs('AWS::Events::EventBus', 0);
    const consumer = resources(named.template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('StreamEvents'))!;
    expect(consumer[1].Properties.Environment.Variables[ENV.eventBusName]).toBe('platform-bus');
    const put = statementsOf(named.stack, named.template, eventsStreamFn).find((s) => actions(s).includes('events:PutEvents'))!;
    expect(JSON.stringify(put.Resource)).toContain(':event-bus/platform-bus');
  });
});
