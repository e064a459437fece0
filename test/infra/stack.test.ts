import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allFunctions,
  attachmentStreamFn,
  eventsStreamFn,
  thumbnailFn,
  httpRouteKey,
  httpRoutes,
  streamFn,
  fanoutWorkerFn,
  WS_ROUTE_SELECTION,
  wsAuthorizerFn,
  wsRoutes,
} from '#infra/routes.ts';
import { ParleyStack } from '#infra/stack.ts';
import { TABLE, tableSchema } from '#shared/adapters/dynamodb/table.ts';
import { attachmentCleanupFilterPatterns, streamFilterPatterns } from '#shared/adapters/dynamodb/stream-filters.ts';
import { UPLOAD_EXPIRY_DAYS } from '#infra/constructs/attachments.ts';
import { stackArns } from '#infra/constructs/permissions.ts';
import { grantsOf, policyOf } from '#infra/permissions.ts';
import { WEBP_WASM } from '#shared/media/webp.ts';
import { ENV } from '#shared/env.ts';
import { BUNDLE_GOAL_BYTES } from '#bench/lib/bundles.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
// The feature flags `cdk synth` runs with.
const cdkContext = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')).context;
/** Synthesizes without running esbuild: for variants whose bundles the main stack already covers. */
const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const BUNDLE_LIMIT_BYTES = 250 * 1024;

/**
 * The optional ports (functions/lib/compose.ts), each with the calls its users make (method names
 * survive minification) and the adapter module composing it brings into a bundle. A bundle whose
 * code makes such a call must carry the adapter: its handler passes the port's wiring to getDeps.
 * (The fan-out's workers are left out: a delivery without them posts by itself.)
 */
const COMPOSED_PORTS = [
  { port: 'connections', calls: /\.(?:putConnection|deleteConnection|isStored|connectionsOf|connectionOpened|connectionClosed|setStatus|getPresence|liveIn|listLive|unlistLive|openConnectionsOf|liveListsSince|markLiveListsSince)\(/, adapter: 'shared/adapters/dynamodb/connection-store.ts' },
  { port: 'typing', calls: /\.(?:putTyping|clearTyping|listTyping)\(/, adapter: 'shared/adapters/dynamodb/typing-store.ts' },
  { port: 'broadcaster', calls: /\.broadcaster\b/, adapter: 'shared/adapters/apigw/broadcaster.ts' },
  { port: 'cursorKey', calls: /\.cursorKey\b/, adapter: 'shared/adapters/secrets/cursor-key.ts' },
  { port: 'rateLimiter', calls: /\.rateLimiter\b/, adapter: 'shared/adapters/dynamodb/rate-limiter.ts' },
  {
    port: 'attachments',
    calls: /\.blobs\b|\.store\.(?:putPending|getAttachments|claim|remove|markThumbnail|withThumbnails)\(/,
    adapter: 'shared/adapters/s3/blob-store.ts',
  },
] as const;

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };

function synth(context: Record<string, unknown> = {}) {
  const app = new App({ context: { ...cdkContext, ...context } });
  const stack = new ParleyStack(app, 'Parley');
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * The stack synthesized with every function bundled, in a process of its own (synth-bundled.ts):
 * the cloud assembly's folder, where each function's bundle is `asset.<hash>/`, and its template,
 * whose logical ids are those of the stack synthesized here.
 */
async function synthBundled(): Promise<{ dir: string; template: Template }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-synth-'));
  await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/infra/synth-bundled.ts', dir], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  return { dir, template: Template.fromJSON(JSON.parse(readFileSync(path.join(dir, 'Parley.template.json'), 'utf8')) as Record<string, unknown>) };
}

const logicalId = (construct: IConstruct): string =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);

function resource(template: Template, id: string): Resource {
  const found = template.toJSON().Resources[id] as Resource | undefined;
  if (!found) throw new Error(`No resource ${id}`);
  return found;
}

describe('ParleyStack', () => {
  let stack: ParleyStack;
  let template: Template;
  let resources: Record<string, Resource>;
  const fnId = (fn: string) => logicalId(stack.functions.get(fn)!);

  /** The IAM statements of a function's role, as synthesized. */
  function statementsOf(fn: string): { Action: string | string[]; Resource: unknown; Condition?: unknown }[] {
    const role = stack.functions.get(fn)!.role!;
    return Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) => JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: logicalId(role) }]))
      .flatMap((r) => r.Properties.PolicyDocument.Statement);
  }
  /** What Cognito puts in `iss`: https://cognito-idp.{region}.amazonaws.com/{userPoolId}. */
  const cognitoIssuer = () => ({
    'Fn::Join': [
      '',
      [
        'https://cognito-idp.',
        { Ref: 'AWS::Region' },
        '.',
        { Ref: 'AWS::URLSuffix' },
        '/',
        { Ref: logicalId(stack.identity.userPool!) },
      ],
    ],
  });

  /** The function a route of the given API invokes, following route → integration → function. */
  function routeFunction(apiId: string, routeKey: string): { route: Resource; fn: string } {
    const routes = Object.values(resources).filter(
      (r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === routeKey && r.Properties.ApiId.Ref === apiId,
    );
    expect(routes, `route ${routeKey}`).toHaveLength(1);
    const route = routes[0]!;
    const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref as string;
    const uri = JSON.stringify(resource(template, integrationId).Properties.IntegrationUri);
    const fn = allFunctions().find((f) => uri.includes(`"${fnId(f)}"`));
    if (!fn) throw new Error(`Route ${routeKey} integrates no known function`);
    return { route, fn };
  }

  /** The bundled synthesis (synthBundled), for the tests that read bundles. */
  let bundled: { dir: string; template: Template };
  /** The cloud assembly's folder of a function's bundle. */
  const bundleDir = (fn: string) => path.join(bundled.dir, `asset.${(resource(bundled.template, fnId(fn)).Properties.Code.S3Key as string).replace(/\.zip$/, '')}`);

  beforeAll(async () => {
    const bundling = synthBundled();
    // Bundles are read from the other process's assembly; this one's template is the same but for them.
    ({ stack, template } = synth(SKIP_BUNDLING));
    resources = template.toJSON().Resources;
    bundled = await bundling;
  });

  afterAll(() => {
    if (bundled) rmSync(bundled.dir, { recursive: true, force: true });
  });

  it('builds the table from the shared schema: keys, GSI1, TTL, stream, PITR, on demand, retained', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: tableSchema.keySchema,
        AttributeDefinitions: Match.arrayWith([...tableSchema.attributeDefinitions]),
        GlobalSecondaryIndexes: tableSchema.globalSecondaryIndexes,
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it('deploys one Node.js 22 arm64 function per function of the route table', () => {
    // One more: the handler CDK provides to configure the bucket's event notification.
    template.resourceCountIs('AWS::Lambda::Function', allFunctions().length + 1);
    for (const fn of allFunctions()) {
      const props = resource(template, fnId(fn)).Properties;
      expect(props, fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler', MemorySize: fn === thumbnailFn ? 1536 : 512 });
    }
  });

  it('bundles each function as minified CommonJS under the size budget, AWS SDK left external', () => {
    let requiresSdk = false;
    for (const fn of allFunctions()) {
      const bundle = path.join(bundleDir(fn), 'index.js');
      expect(statSync(bundle).size, `${fn} bundle bytes`).toBeLessThan(BUNDLE_LIMIT_BYTES);
      const code = readFileSync(bundle, 'utf8');
      expect(code.startsWith('const importMetaUrl'), `${fn} banner`).toBe(true);
      expect(code.includes('import.meta'), `${fn} import.meta left in CommonJS`).toBe(false);
      // What loads with the bundle is required; what loads on first use is import()ed.
      requiresSdk ||= /require\("@aws-sdk\//.test(code);
      // Cold starts: the S3 SDK is imported on first use only, and the authorizer loads no SDK at all.
      expect(/require\("@aws-sdk\/(client-s3|s3-request-presigner)"\)/.test(code), `${fn} requires the S3 SDK at load`).toBe(false);
      if (fn === wsAuthorizerFn) expect(code.includes('@aws-sdk/'), `${fn} bundles an SDK client`).toBe(false);
      // The table is reached through the functions' own DynamoDB client: the SDK's never loads.
      expect(/"@aws-sdk\/(client-dynamodb|lib-dynamodb)"/.test(code), `${fn} loads the SDK's DynamoDB client`).toBe(false);
      expect(existsSync(`${bundle}.map`), `${fn} source map`).toBe(true);
      // The WebP decoder's WebAssembly sits beside the thumbnail function's bundle, and only there.
      const wasm = path.join(path.dirname(bundle), WEBP_WASM.fileName);
      expect(existsSync(wasm), `${fn} ${WEBP_WASM.fileName}`).toBe(fn === thumbnailFn);
      if (fn === thumbnailFn) expect(readFileSync(wasm).equals(readFileSync(createRequire(import.meta.url).resolve(WEBP_WASM.packagePath)))).toBe(true);
    }
    expect(requiresSdk).toBe(true);
  });

  it('keeps every bundle within the goal of 120 KB minified', () => {
    for (const fn of allFunctions()) {
      expect(statSync(path.join(bundleDir(fn), 'index.js')).size, `${fn} bundle bytes`).toBeLessThanOrEqual(BUNDLE_GOAL_BYTES);
    }
  });

  it('bundles the schemas a function parses with and the zod parsers they use, no others', () => {
    for (const fn of allFunctions()) {
      const code = readFileSync(path.join(bundleDir(fn), 'index.js'), 'utf8');
      // Schemas are built through a pure-annotated schema() (shared/schemas/mini.ts): one no code of
      // the function uses is left out, as the history query's refinement is from every other function.
      expect(code.includes('use one of beforeSeq, afterSeq or cursor'), `${fn} bundles the history query`).toBe(fn === 'http-list-messages');
      // zod/mini's namespaces (z.coerce, z.iso) are kept whole by esbuild, their unused members with them.
      expect(/\$Zod(BigInt|Date|ISODate|ISOTime|ISODuration|Set)"/.exec(code)?.[0], `${fn} bundles a zod parser no schema uses`).toBeUndefined();
    }
  });

  it('composes in each function every optional port its code uses, and bundles no other', () => {
    for (const fn of allFunctions()) {
      const bundle = path.join(bundleDir(fn), 'index.js');
      const code = readFileSync(bundle, 'utf8');
      // The modules the bundle carries code of, from its source map.
      const sources = (JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] }).sources.map((s) => path.relative(repoRoot, path.resolve(path.dirname(bundle), s)).split(path.sep).join('/'));
      expect(sources, `${fn} source map names its modules`).toContain(`functions/${fn}.ts`);
      for (const { port, calls, adapter } of COMPOSED_PORTS) {
        const used = calls.test(code);
        const composed = sources.includes(adapter);
        expect(composed, `${fn} ${used ? 'uses the' : 'composes an unused'} ${port} port${used ? ' without composing it' : ''}`).toBe(used);
      }
    }
  });

  it('gives every function its configuration through the shared environment names', () => {
    for (const fn of allFunctions()) {
      const variables = resource(template, fnId(fn)).Properties.Environment.Variables;
      expect(variables, fn).toMatchObject({
        [ENV.tableName]: { Ref: logicalId(stack.table) },
        [ENV.bucketName]: { Ref: logicalId(stack.bucket) },
        [ENV.jwtAudience]: { Ref: logicalId(stack.identity.userPoolClient!) },
        [ENV.serviceName]: 'parley',
        NODE_OPTIONS: '--enable-source-maps',
      });
      expect(variables[ENV.jwtIssuer]).toEqual(cognitoIssuer());
      const callback = JSON.stringify(variables[ENV.wsCallbackUrl]);
      expect(callback).toContain('"https://"');
      expect(callback).toContain(`{"Ref":"${logicalId(stack.webSocketStage.api)}"}`);
      expect(callback).toContain('/prod');
    }
  });

  describe('least privilege', () => {
    /** One line per (action, resource, condition) a function's role allows, event source mappings' own statements left out. */
    function allowedOf(fn: string): string[] {
      const streamArn = JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.table), 'StreamArn'] });
      return statementsOf(fn).flatMap((s) => {
        const actions = [s.Action].flat();
        const resources = [s.Resource].flat().map((r) => JSON.stringify(r));
        // What DynamoEventSource and SqsDlq add for Lambda's poller: the stream and the failure queue.
        if (actions.every((a) => /^dynamodb:(ListStreams|DescribeStream|GetRecords|GetShardIterator)$/.test(a))) {
          expect(resources.every((r) => r === streamArn || r === '"*"'), fn).toBe(true);
          expect([streamFn, attachmentStreamFn, eventsStreamFn], fn).toContain(fn);
          return [];
        }
        if (actions.every((a) => a.startsWith('sqs:'))) {
          expect([streamFn, attachmentStreamFn, eventsStreamFn], fn).toContain(fn);
          return [];
        }
        return actions.flatMap((a) => resources.map((r) => `${a} ${r}${s.Condition ? ` ${JSON.stringify(s.Condition)}` : ''}`));
      });
    }
    /** The same lines, from the permission table with this stack's ARNs. */
    function tableLinesOf(fn: string): string[] {
      return policyOf(fn, stackArns(stack, stack.functions)).flatMap((s) =>
        s.Action.flatMap((a) => s.Resource.map((r) => `${a} ${JSON.stringify(stack.resolve(r))}${s.Condition ? ` ${JSON.stringify(s.Condition)}` : ''}`)),
      );
    }
    const dynamoActions = (fn: string) => grantsOf(fn).filter((g) => g.on.kind === 'table').flatMap((g) => g.actions.map((a) => ({ a, keys: g.leadingKeys })));

    it('builds every statement of every function role from the permission table, and nothing more', () => {
      for (const fn of allFunctions()) expect(allowedOf(fn).sort(), fn).toEqual([...new Set(tableLinesOf(fn))].sort());
    });

    it('lets GET routes read the table; the only writes of a rate-limited one are its user\'s counters', () => {
      const rateLimited = httpRoutes.filter((r) => r.rateLimited).map((r) => r.fn);
      expect(rateLimited).toEqual(['http-search']);
      for (const fn of httpRoutes.filter((r) => r.method === 'GET').map((r) => r.fn)) {
        const writes = dynamoActions(fn).filter(({ a }) => /Put|Update|Delete|Write/.test(a));
        if (rateLimited.includes(fn)) expect(writes, fn).toEqual([{ a: 'dynamodb:UpdateItem', keys: ['USER#*'] }]);
        else expect(writes, fn).toEqual([]);
      }
    });

    it('lets the fan-out read, keep the rooms\' live lists and their marker, delete connection items and update presence items (a 410 or an expired connection), delete a seat a removal left, and write nothing else', () => {
      const writes = dynamoActions(streamFn).filter(({ a }) => /Put|Update|Delete|Write/.test(a));
      expect(writes).toEqual([
        { a: 'dynamodb:BatchWriteItem', keys: ['LIVE#*'] },
        { a: 'dynamodb:PutItem', keys: ['META#*'] },
        { a: 'dynamodb:DeleteItem', keys: ['CONN#*'] },
        { a: 'dynamodb:UpdateItem', keys: ['USER#*'] },
        { a: 'dynamodb:DeleteItem', keys: ['SEAT#*'] },
      ]);
      expect(allowedOf(streamFn).filter((l) => l.startsWith('dynamodb:UpdateItem'))).toEqual([
        `dynamodb:UpdateItem ${JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] })} {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["USER#*"]}}`,
      ]);
    });

    it('narrows exactly the preference routes\' updates in rooms by dynamodb:Attributes: the level copies and the key, ReturnValues held, nothing else of a room item', () => {
      const tableArn = { 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] };
      const narrowed = allFunctions().flatMap((fn) => statementsOf(fn).filter((st) => JSON.stringify(st.Condition ?? {}).includes('dynamodb:Attributes')).map((st) => ({ fn, st })));
      const preferenceRoutes = ['http-set-preferences', 'http-set-room-preferences'];
      expect(narrowed.map(({ fn }) => fn).sort()).toEqual(preferenceRoutes);
      const copies = {
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: tableArn,
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ROOM#*'] },
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['PK', 'SK', 'userNotify', 'userPrefV', 'roomNotify', 'roomMutedUntil', 'roomPrefV', 'readSource'] },
          StringEquals: { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_OLD', 'UPDATED_NEW'] },
        },
      };
      for (const { st } of narrowed) expect(st).toEqual(copies);
      for (const fn of preferenceRoutes) {
        // Their one other write is their own preference item, in the user's partition.
        const writes = statementsOf(fn).filter((st) => [st.Action].flat().some((a: string) => /^dynamodb:(Put|Update|Delete|BatchWrite|ConditionCheck)/.test(a)));
        expect(writes, fn).toEqual([{ Effect: 'Allow', Action: 'dynamodb:UpdateItem', Resource: tableArn, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['USER#*'] } } }, copies]);
      }
    });

    it('lets only the fan-out, its worker and the typing relay post to connections', () => {
      const posters = allFunctions().filter((fn) => grantsOf(fn).some((g) => g.on.kind === 'connections'));
      expect(posters.sort()).toEqual([streamFn, fanoutWorkerFn, 'ws-typing'].sort());
    });

    it('lets only the fan-out invoke a function, its worker alone, and hands it the worker\'s name', () => {
      const invokers = allFunctions().filter((fn) => grantsOf(fn).some((g) => g.on.kind === 'function'));
      expect(invokers).toEqual([streamFn]);
      const invoke = statementsOf(streamFn).filter((st) => [st.Action].flat().some((a: string) => a.startsWith('lambda:')));
      expect(invoke).toHaveLength(1);
      expect(invoke[0]).toMatchObject({ Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [fnId(fanoutWorkerFn), 'Arn'] } });
      const fanOut = template.findResources('AWS::Lambda::Function')[fnId(streamFn)] as Resource;
      expect(fanOut.Properties.Environment.Variables[ENV.fanoutWorkerFunction]).toEqual({ Ref: fnId(fanoutWorkerFn) });
    });

    it('gives the $connect authorizer no data access at all', () => {
      expect(statementsOf(wsAuthorizerFn)).toEqual([]);
    });

    it('grants the attachments bucket by key prefix: presign puts uploads, sends copy them to files, readers read files, clean-up deletes', () => {
      const s3Grants = (fn: string) =>
        grantsOf(fn).flatMap((g) => (g.on.kind === 'objects' ? g.actions.map((a) => `${a} ${(g.on as { prefix: string }).prefix.replace(/\/$/, '')}`) : []));
      for (const fn of allFunctions()) {
        const s3 = s3Grants(fn);
        // Nobody lists, reads the whole bucket, or changes its configuration.
        expect(allowedOf(fn).filter((l) => l.startsWith('s3:') && !/^s3:(GetObject|PutObject|DeleteObject) /.test(l)), fn).toEqual([]);
        // Only the thumbnailer writes thumbnails; it and the clean-up consumer delete them.
        if (fn !== thumbnailFn) expect(s3, fn).not.toContain('s3:PutObject thumbs');
        if (fn !== thumbnailFn && fn !== attachmentStreamFn) expect(s3, fn).not.toContain('s3:DeleteObject thumbs');
        if (fn !== 'http-create-attachment') expect(s3, fn).not.toContain('s3:PutObject uploads');
      }
      expect(s3Grants('http-create-attachment')).toEqual(['s3:PutObject uploads']);
      for (const fn of ['http-send-message', 'ws-message-send']) {
        expect(s3Grants(fn).sort(), fn).toEqual(['s3:DeleteObject uploads', 's3:GetObject files', 's3:GetObject thumbs', 's3:GetObject uploads', 's3:PutObject files']);
      }
      expect(s3Grants(attachmentStreamFn).sort()).toEqual(['s3:DeleteObject files', 's3:DeleteObject thumbs', 's3:DeleteObject uploads']);
      // The thumbnailer reads attached files and writes (or takes back) thumbnails: not uploads, not files.
      expect(s3Grants(thumbnailFn).sort()).toEqual(['s3:DeleteObject thumbs', 's3:GetObject files', 's3:PutObject thumbs']);
      // Deleting a message deletes records only; the clean-up consumer deletes the objects.
      expect(s3Grants('http-delete-message')).not.toContain('s3:DeleteObject files');
      // The resources are the bucket's objects under each prefix.
      const prefix = (p: string) => JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack.bucket), 'Arn'] }, `/${p}*`]] });
      expect(allowedOf('http-create-attachment').filter((l) => l.startsWith('s3:'))).toEqual([`s3:PutObject ${prefix('uploads/')}`]);
    });
  });

  describe('attachments', () => {
    it('feeds objects created under files/ (only) to the thumbnail function, which may read and mark attachment records only', () => {
      const notifications = Object.values(template.findResources('Custom::S3BucketNotifications')) as Resource[];
      expect(notifications).toHaveLength(1);
      const configs = notifications[0]!.Properties.NotificationConfiguration.LambdaFunctionConfigurations;
      expect(configs).toEqual([
        {
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'files/' }] } },
          LambdaFunctionArn: { 'Fn::GetAtt': [fnId(thumbnailFn), 'Arn'] },
        },
      ]);
      const dynamo = grantsOf(thumbnailFn).flatMap((g) => (g.on.kind === 'table' ? g.actions : []));
      expect(dynamo.sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem']);
      const fnProps = resource(template, fnId(thumbnailFn)).Properties;
      expect(fnProps.MemorySize).toBeGreaterThanOrEqual(1024);
      expect(fnProps.Timeout).toBeGreaterThanOrEqual(20);
    });

    it('feeds removed attachment records to the clean-up function, with partial failures and a DLQ', () => {
      const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as Resource[];
      const cleanup = mappings.filter((m) => m.Properties.FunctionName.Ref === fnId(attachmentStreamFn));
      expect(cleanup).toHaveLength(1);
      const props = cleanup[0]!.Properties;
      expect(props).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.table), 'StreamArn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } },
      });
      expect(props.FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern))).toEqual(attachmentCleanupFilterPatterns);
    });

    it('expires unclaimed uploads by lifecycle as a backstop to their TTL, and allows browser PUTs from the configured origins', () => {
      const bucket = resource(template, logicalId(stack.bucket)).Properties;
      expect(bucket.LifecycleConfiguration.Rules).toEqual(
        expect.arrayContaining([expect.objectContaining({ Id: 'ExpireUnclaimedUploads', Prefix: 'uploads/', ExpirationInDays: UPLOAD_EXPIRY_DAYS, Status: 'Enabled' })]),
      );
      // Nothing under files/ expires by lifecycle: attached files live as long as their message.
      expect(bucket.LifecycleConfiguration.Rules.filter((r: { Prefix?: string; ExpirationInDays?: number }) => r.ExpirationInDays && r.Prefix !== 'uploads/')).toEqual([]);
      expect(bucket.CorsConfiguration.CorsRules[0]).toMatchObject({ AllowedMethods: expect.arrayContaining(['PUT', 'GET']), AllowedHeaders: ['*'] });
    });
  });

  describe('HTTP API', () => {
    const apiId = () => logicalId(stack.httpStage.api);

    it('routes every entry of the route table to its function with its authorizer', () => {
      const authorizerId = Object.entries(resources).find(
        ([, r]) => r.Type === 'AWS::ApiGatewayV2::Authorizer' && r.Properties.AuthorizerType === 'JWT',
      )![0];
      for (const entry of httpRoutes) {
        const { route, fn } = routeFunction(apiId(), httpRouteKey(entry));
        expect(fn).toBe(entry.fn);
        if (entry.auth === 'jwt') {
          expect(route.Properties).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
        } else if (entry.auth === 'iam') {
          // Service routes: SigV4 only; no end-user token authorizer.
          expect(entry.path.startsWith('/service/'), entry.path).toBe(true);
          expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
          expect(route.Properties.AuthorizerId).toBeUndefined();
        } else {
          expect(route.Properties.AuthorizationType).toBe('NONE');
          expect(route.Properties.AuthorizerId).toBeUndefined();
        }
      }
      const httpRouteCount = Object.values(resources).filter(
        (r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.ApiId.Ref === apiId(),
      ).length;
      expect(httpRouteCount).toBe(httpRoutes.length);
    });

    it('checks JWTs from the user pool, for the app client', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        ApiId: { Ref: apiId() },
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: {
          Issuer: cognitoIssuer(),
          Audience: [{ Ref: logicalId(stack.identity.userPoolClient!) }],
        },
      });
    });

    it('answers CORS preflights and throttles and logs its default stage', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'HTTP',
        CorsConfiguration: {
          AllowOrigins: ['*'],
          AllowHeaders: ['Authorization', 'Content-Type'],
          AllowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        },
      });
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        ApiId: { Ref: apiId() },
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 },
        AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] }, Format: Match.stringLikeRegexp('requestId') },
      });
    });
  });

  describe('WebSocket API', () => {
    const apiId = () => logicalId(stack.webSocketStage.api);
    const lifecycle = (routeKey: string) => routeKey === '$connect' || routeKey === '$disconnect';

    it('selects routes on the frame type', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'WEBSOCKET',
        RouteSelectionExpression: WS_ROUTE_SELECTION,
      });
    });

    it('routes every entry of the route table to its function, two-way except $connect/$disconnect', () => {
      for (const entry of wsRoutes) {
        const { route, fn } = routeFunction(apiId(), entry.routeKey);
        expect(fn).toBe(entry.fn);
        expect(route.Properties.RouteResponseSelectionExpression, entry.routeKey).toBe(
          lifecycle(entry.routeKey) ? undefined : '$default',
        );
      }
      const responses = template.findResources('AWS::ApiGatewayV2::RouteResponse', {
        Properties: { ApiId: { Ref: apiId() }, RouteResponseKey: '$default' },
      });
      expect(Object.keys(responses)).toHaveLength(wsRoutes.filter((r) => !lifecycle(r.routeKey)).length);
    });

    it('authorizes $connect with the authorizer function, requiring no identity source', () => {
      const authorizers = template.findResources('AWS::ApiGatewayV2::Authorizer', {
        Properties: { ApiId: { Ref: apiId() } },
      });
      expect(Object.keys(authorizers)).toHaveLength(1);
      const [authorizerId, authorizer] = Object.entries(authorizers)[0] as [string, Resource];
      expect(authorizer.Properties.AuthorizerType).toBe('REQUEST');
      // Absent or empty: API Gateway must call the function whether the token is in the query or a header.
      expect(authorizer.Properties.IdentitySource ?? []).toEqual([]);
      expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(`"${fnId(wsAuthorizerFn)}"`);

      for (const entry of wsRoutes) {
        const { route } = routeFunction(apiId(), entry.routeKey);
        if (entry.routeKey === '$connect') {
          expect(route.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
        } else {
          expect(route.Properties.AuthorizationType ?? 'NONE', entry.routeKey).toBe('NONE');
        }
      }
    });

    it('deploys a throttled stage, logged through the API Gateway account logging role', () => {
      const [accountId] = Object.keys(template.findResources('AWS::ApiGateway::Account'));
      template.hasResource('AWS::ApiGatewayV2::Stage', {
        DependsOn: Match.arrayWith([accountId]),
        Properties: {
          ApiId: { Ref: apiId() },
          StageName: 'prod',
          AutoDeploy: true,
          DefaultRouteSettings: { ThrottlingBurstLimit: 500, ThrottlingRateLimit: 250 },
          AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } },
        },
      });
      const roleId = resource(template, accountId!).Properties.CloudWatchRoleArn['Fn::GetAtt'][0];
      expect(resource(template, roleId)).toMatchObject({
        DeletionPolicy: 'Retain',
        Properties: { AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'apigateway.amazonaws.com' } }] } },
      });
    });
  });

  describe('stream fan-out', () => {
    it('maps the table stream to the fan-out function with partial failures, bisection, bounded retries, a DLQ and ten batches per shard', () => {
      // The other mapping on the same stream is the attachment clean-up (tested below).
      const mappings = (Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as Resource[]).filter(
        (m) => m.Properties.FunctionName.Ref === fnId(streamFn),
      );
      expect(mappings).toHaveLength(1);
      const props = mappings[0]!.Properties;
      expect(props).toMatchObject({
        FunctionName: { Ref: fnId(streamFn) },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.table), 'StreamArn'] },
        StartingPosition: 'LATEST',
        BatchSize: 100,
        ParallelizationFactor: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 5,
        MaximumRecordAgeInSeconds: expect.any(Number),
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } },
      });
      expect(props.MaximumBatchingWindowInSeconds).toBeUndefined();
      const patterns = props.FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern));
      expect(patterns).toEqual(streamFilterPatterns);

      const queueId = props.DestinationConfig.OnFailure.Destination['Fn::GetAtt'][0];
      expect(resource(template, queueId)).toMatchObject({ Type: 'AWS::SQS::Queue', Properties: { SqsManagedSseEnabled: true } });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('alarms on given-up records, iterator age, fan-out and worker errors, worker throttles and thumbnail errors', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
      const watched = alarms
        .map((a) => `${a.Properties.Namespace}/${a.Properties.MetricName}${a.Properties.Namespace === 'AWS/Lambda' ? ` ${a.Properties.Dimensions[0].Value.Ref}` : ''}`)
        .sort();
      // The second SQS alarm watches the attachment clean-up's DLQ, the third the events consumer's.
      expect(watched).toEqual(
        [
          `AWS/Lambda/Errors ${fnId(streamFn)}`,
          `AWS/Lambda/Errors ${fnId(thumbnailFn)}`,
          `AWS/Lambda/Errors ${fnId(fanoutWorkerFn)}`,
          `AWS/Lambda/Throttles ${fnId(fanoutWorkerFn)}`,
          `AWS/Lambda/IteratorAge ${fnId(streamFn)}`,
          `AWS/Lambda/IteratorAge ${fnId(eventsStreamFn)}`,
          'AWS/SQS/ApproximateNumberOfMessagesVisible',
          'AWS/SQS/ApproximateNumberOfMessagesVisible',
          'AWS/SQS/ApproximateNumberOfMessagesVisible',
        ].sort(),
      );
    });
  });

  it('keeps attachments private, encrypted, TLS-only, browser-uploadable and retained', () => {
    expect(resource(template, logicalId(stack.bucket))).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        CorsConfiguration: {
          CorsRules: [expect.objectContaining({ AllowedMethods: ['PUT', 'GET'], AllowedOrigins: ['*'] })],
        },
        LifecycleConfiguration: {
          Rules: expect.arrayContaining([expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })]),
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: expect.any(String) } },
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(stack.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('creates a user pool signing in by email and a secretless SRP app client', () => {
    template.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      Properties: {
        UsernameAttributes: ['email'],
        Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true, RequireUppercase: true }) },
      },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    });
  });

  it('outputs the endpoints and names clients and operators need', () => {
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(
      ['BucketName', 'EventBusName', 'HttpUrl', 'TableName', 'UserPoolClientId', 'UserPoolId', 'WebSocketUrl'],
    );
    template.hasOutput('WebSocketUrl', { Value: { 'Fn::Join': ['', Match.arrayWith(['wss://'])] } });
  });
});

describe('ParleyStack with an existing OpenID Connect issuer and deployment context', () => {
  const issuer = 'https://issuer.example.com/';
  const audience = 'parley-web';
  let stack: ParleyStack;
  let template: Template;

  beforeAll(() => {
    ({ stack, template } = synth({
      ...SKIP_BUNDLING,
      'parley:jwtIssuer': issuer,
      'parley:jwtAudience': audience,
      'parley:corsOrigins': 'https://app.example.com, https://admin.example.com',
      'parley:httpThrottleBurst': '20',
      'parley:httpThrottleRate': '10',
      'parley:wsThrottleBurst': 30,
      'parley:wsThrottleRate': 15,
      'parley:sendRateLimit': '20',
      'parley:editWindowSeconds': 0,
      'parley:attachmentTypes': 'image/png,application/pdf',
    }));
  });

  it('hands tuned limits to every function, and only those given', () => {
    for (const fn of stack.functions.values()) {
      const variables = template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables;
      expect(variables).toMatchObject({ [ENV.sendRateLimit]: '20', [ENV.editWindowSeconds]: '0', [ENV.attachmentTypes]: 'image/png,application/pdf' });
      expect(variables).not.toHaveProperty(ENV.writeRateLimit);
    }
  });

  it('creates no user pool and checks tokens against the given issuer and audience', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: issuer, Audience: [audience] },
    });
    const authorizerFn = logicalId(stack.functions.get(wsAuthorizerFn)!);
    expect(template.toJSON().Resources[authorizerFn].Properties.Environment.Variables).toMatchObject({
      [ENV.jwtIssuer]: issuer,
      [ENV.jwtAudience]: audience,
    });
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('UserPoolId');
  });

  it('takes CORS origins and throttling from context', () => {
    const origins = ['https://app.example.com', 'https://admin.example.com'];
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.objectLike({ AllowOrigins: origins }) });
    template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedOrigins: origins })] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingBurstLimit: 20, ThrottlingRateLimit: 10 },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'prod',
      DefaultRouteSettings: { ThrottlingBurstLimit: 30, ThrottlingRateLimit: 15 },
    });
  });

  it('refuses a tuned limit that is not a number', () => {
    const app = new App({ context: { ...cdkContext, ...SKIP_BUNDLING, 'parley:sendRateLimit': 'lots' } });
    expect(() => new ParleyStack(app, 'Parley')).toThrow(/parley:sendRateLimit must be a non-negative number/);
  });

  it('refuses an issuer without an audience', () => {
    const app = new App({ context: { ...cdkContext, ...SKIP_BUNDLING, 'parley:jwtIssuer': issuer } });
    expect(() => new ParleyStack(app, 'Parley')).toThrow(/jwtIssuer and parley:jwtAudience/);
  });
});
