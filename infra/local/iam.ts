/**
 * Least privilege in `npm start`: every AWS call a handler makes is checked against its function's
 * statements from the permission table (infra/permissions.ts) before it leaves the process, and a
 * call outside them gets the very response AWS sends (DynamoDB, Secrets Manager, EventBridge: 400
 * AccessDeniedException; S3: 403 AccessDenied; `@connections`: 403), decoded by the SDK's own
 * deserializers.
 *
 * Handlers run in this process and share their module state (one SDK client serves every
 * function), so the caller is known from the invocation: the local invoker runs each handler
 * inside `runAs(fn, …)`, and a middleware this module adds to every SDK command reads it. Lambda
 * never loads this file: the same clients run there unwrapped. The functions' DynamoDB and
 * `@connections` clients are not SDK clients (dynamodb-api.ts, connections-api.ts): the one
 * exchange of each with its endpoint is wrapped the same way, and answered with the 400 DynamoDB
 * or the 403 API Gateway sends. Calls outside any invocation (the
 * runtime's own stream pollers, TTL sweeper, provisioning) are the AWS services themselves and are
 * not checked.
 *
 * Presigned URLs are checked when they are used, as in AWS: presigning records who signed, and
 * the S3 store asks `checkPresigned` before it serves a signed request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { grantLabel, grantsOf, PERMISSIONS, policyOf, type ArnResolver, type PolicyStatementJson } from '#infra/permissions.ts';
import {
  allowingStatement,
  assertEvaluable,
  connectionRequests,
  deniedMessage,
  dynamoRequests,
  functionArn,
  lambdaRequests,
  eventBusArn,
  eventRequests,
  objectArn,
  s3Requests,
  secretArn,
  secretRequests,
  sessionArn,
  tableArn,
  type IamRequest,
  type LocalAwsNames,
} from './iam-policy.ts';
import { LOCAL_EVENT_BUS } from './event-bridge.ts';
import { ConnectionsApi, type ConnectionsRequest, type ConnectionsResponse } from '#shared/adapters/apigw/connections-api.ts';
import { DynamoDbApi, type DynamoDbRequest, type DynamoDbResponse } from '#shared/adapters/dynamodb/dynamodb-api.ts';

const require = createRequire(import.meta.url);

const invocation = new AsyncLocalStorage<{ fn: string }>();

/** Runs `body` as function `fn`: the AWS calls it makes are checked against `fn`'s grants. */
export const runAs = <T>(fn: string, body: () => T): T => invocation.run({ fn }, body);

/** The function whose invocation is running, if any. */
export const runningFunction = (): string | undefined => invocation.getStore()?.fn;

/** Runs `body` as no function: its calls are AWS's own, unchecked (what the runtime's pollers make). */
export const runAsService = <T>(body: () => T): T => invocation.exit(body);

export interface IamOptions {
  names: LocalAwsNames;
  tableName: string;
  bucket: string;
  /** Told of every refusal (the runtime logs one line). */
  onDenied(fn: string, request: IamRequest): void;
  /**
   * Grant actions (by `grantLabel`) to leave out, as if deleted from the table: how tests show
   * what a missing grant breaks without editing the table.
   */
  revoked?: ReadonlySet<string>;
  /** Told of each URL a function presigns (a worker thread's check relays them to the runtime's). */
  onPresigned?(fn: string, signature: string, expires: number): void;
}

/** IamOptions without the callback: what a worker thread is given to install the same check (lambda-thread.ts). */
export type IamSetup = Omit<IamOptions, 'onDenied' | 'onPresigned'>;

export interface LocalIam {
  /** How many times each grant (by `grantLabel`) allowed a call. */
  usage(): Map<string, number>;
  /**
   * For a request to the S3 store carrying a presigned signature: the 403 AWS would answer when
   * the function that presigned it may not do what it asks; undefined when it may (or when no
   * function signed it).
   */
  checkPresigned(req: http.IncomingMessage): { status: number; body: string } | undefined;
  /** Remembers a URL function `fn` presigned in a worker thread (its signature, expiry in epoch ms). */
  notePresigned(fn: string, signature: string, expires: number): void;
}

/** The local ARNs of the permission table's resource kinds. */
export function localArns(names: LocalAwsNames, tableName: string, bucket: string): ArnResolver {
  return {
    table: () => tableArn(names, tableName),
    index: (ref) => `${tableArn(names, tableName)}/index/${ref.index}`,
    objects: (ref) => objectArn(bucket, `${ref.prefix}*`),
    secret: (ref) => secretArn(names, ref.name),
    function: (ref) => functionArn(names, ref.fn),
    'event-bus': () => eventBusArn(names, LOCAL_EVENT_BUS),
    connections: () => `arn:aws:execute-api:${names.region}:${names.account}:${names.apiId}/${names.stage}/*/@connections/*`,
  };
}

type Middleware = (next: (args: Args) => Promise<Result>, context: Context) => (args: Args) => Promise<Result>;
type Args = { input: Record<string, unknown>; request?: unknown };
type Result = { output?: { presigned?: { query?: Record<string, string | string[]> } }; response?: unknown };
type Context = { clientName?: string; commandName?: string };

interface SmithyStack {
  add(mw: Middleware, options: { step: string; priority?: string; name: string; override?: boolean }): void;
}
interface SmithyCommand {
  middlewareStack: SmithyStack;
}

/** The middlewares of the latest installIam (one local stack per process at a time; a new one replaces them). */
let current:
  | {
      enforce: Middleware;
      notePresigned: Middleware;
      connections: (req: ConnectionsRequest) => ConnectionsResponse | undefined;
      dynamo: (req: DynamoDbRequest) => DynamoDbResponse | undefined;
    }
  | undefined;

/**
 * Puts a check in front of every request the functions' own client `client` exchanges in this
 * process (`@connections`, DynamoDB): a refused one never leaves; `check` is read per request, so
 * the latest installIam decides.
 */
function guardExchange<Req, Res>(client: { prototype: { exchange(req: Req): Promise<Res> } }, check: () => ((req: Req) => Res | undefined) | undefined): void {
  const proto = client.prototype as { exchange(req: Req): Promise<Res>; parleyIam?: true };
  if (proto.parleyIam) return;
  proto.parleyIam = true;
  const original = proto.exchange;
  proto.exchange = function (this: unknown, req: Req) {
    const refused = check()?.(req);
    return refused ? Promise.resolve(refused) : original.call(this, req);
  };
}

/**
 * Adds the check to every SDK command of this process. Smithy's `Command` is the base of every
 * client's commands, so patching its resolver (once) reaches the clients the handlers build
 * themselves, the S3 presigner included, without a line in their code.
 */
function patchCommands(): void {
  // The copy of smithy the SDK clients themselves load (a transitive dependency of @aws-sdk/*).
  const sdkRequire = createRequire(require.resolve('@aws-sdk/client-dynamodb'));
  const { Command } = sdkRequire('@smithy/core/client') as { Command: { prototype: Record<string, unknown> } };
  const proto = Command.prototype as { resolveMiddlewareWithContext: (this: SmithyCommand, ...a: unknown[]) => unknown; parleyIam?: true };
  if (proto.parleyIam) return;
  proto.parleyIam = true;
  const original = proto.resolveMiddlewareWithContext;
  proto.resolveMiddlewareWithContext = function (this: SmithyCommand, ...a: unknown[]) {
    if (current) {
      this.middlewareStack.add(current.notePresigned, { step: 'initialize', priority: 'high', name: 'parleyLocalIamPresign', override: true });
      this.middlewareStack.add(current.enforce, { step: 'deserialize', priority: 'low', name: 'parleyLocalIam', override: true });
    }
    return original.apply(this, a);
  };
}

/** Checks every handler's AWS calls against its function's grants, from now on in this process. */
export function installIam(opts: IamOptions): LocalIam {
  patchCommands();
  guardExchange<ConnectionsRequest, ConnectionsResponse>(ConnectionsApi, () => current?.connections);
  guardExchange<DynamoDbRequest, DynamoDbResponse>(DynamoDbApi, () => current?.dynamo);
  const { HttpResponse } = createRequire(require.resolve('@aws-sdk/client-dynamodb'))('@smithy/core/protocols') as { HttpResponse: new (o: object) => unknown };
  const arns = localArns(opts.names, opts.tableName, opts.bucket);
  // A grant whose condition this check cannot evaluate stops the runtime here, not at a call.
  for (const fn of Object.keys(PERMISSIONS)) assertEvaluable(policyOf(fn, arns));
  const policies = new Map<string, PolicyStatementJson[]>();
  const policy = (fn: string) => {
    let p = policies.get(fn);
    if (!p) {
      // Revoked actions leave their statement in place (empty, matching nothing) so indexes still name grants.
      p = policyOf(fn, arns).map((statement, i) => ({
        ...statement,
        Action: statement.Action.filter((a) => !opts.revoked?.has(grantLabel(fn, grantsOf(fn)[i]!, a))),
      }));
      policies.set(fn, p);
    }
    return p;
  };
  const usage = new Map<string, number>();
  const presigned = new Map<string, { fns: Set<string>; expires: number }>();

  /** The refused request, or undefined when every authorization the call needs is allowed (and counted). */
  const authorize = (fn: string, requests: IamRequest[]): IamRequest | undefined => {
    const statements = policy(fn);
    const used: string[] = [];
    for (const request of requests) {
      const i = allowingStatement(statements, request);
      if (i < 0) {
        opts.onDenied(fn, request);
        return request;
      }
      used.push(grantLabel(fn, grantsOf(fn)[i]!, matchedAction(statements[i]!, request.action)));
    }
    for (const label of used) usage.set(label, (usage.get(label) ?? 0) + 1);
    return undefined;
  };

  const requestsOf = (context: Context, input: Record<string, unknown>): IamRequest[] | undefined => {
    const command = context.commandName ?? '';
    switch (context.clientName) {
      case 'DynamoDBClient':
        return dynamoRequests(opts.names, command, input);
      case 'S3Client':
        return s3Requests(command, input);
      case 'ApiGatewayManagementApiClient':
        return connectionRequests(opts.names, command, input);
      case 'SecretsManagerClient':
        return secretRequests(opts.names, command, input);
      case 'LambdaClient':
        return lambdaRequests(opts.names, command, input);
      case 'EventBridgeClient':
        return eventRequests(opts.names, command, input);
      default:
        // A client this check does not know yet: refuse loudly rather than let it through unchecked.
        return [{ action: `${context.clientName}:${command}`, resource: '*', context: {}, detail: 'unknown client' }];
    }
  };

  const denial = (fn: string, context: Context, request: IamRequest): unknown => {
    const principal = sessionArn(opts.names.account, fn);
    const requestId = randomUUID();
    if (context.clientName === 'S3Client') {
      const xml = s3DeniedXml(deniedMessage(principal, request, true), requestId);
      // A HEAD answer has no body; the SDK names it by its status (Forbidden).
      const isHead = context.commandName === 'HeadObjectCommand';
      return new HttpResponse({
        statusCode: 403,
        headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
        body: Readable.from(isHead ? [] : [Buffer.from(xml)]),
      });
    }
    if (context.clientName === 'ApiGatewayManagementApiClient' || context.clientName === 'LambdaClient') {
      return new HttpResponse({
        statusCode: 403,
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': 'AccessDeniedException' },
        body: Readable.from([Buffer.from(JSON.stringify({ message: deniedMessage(principal, request) }))]),
      });
    }
    return new HttpResponse({
      statusCode: 400,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId },
      body: Readable.from([Buffer.from(dynamoDenied(principal, request))]),
    });
  };

  // Innermost, next to the HTTP handler: a refused call never leaves, and the SDK's deserializer
  // turns the answer into the exception AWS's would become (no retry: AccessDenied is final).
  const enforce: Middleware = (next, context) => async (args) => {
    const caller = invocation.getStore();
    if (!caller) return next(args);
    const refused = authorize(caller.fn, requestsOf(context, args.input) ?? []);
    if (!refused) return next(args);
    return { response: denial(caller.fn, context, refused), output: undefined } as Result;
  };

  // Outermost: a presigned request stops before signing is sent anywhere, with the URL as output.
  // Locally every function signs with the same credentials, so two functions presigning the same
  // object in the same second make the same URL: its signers are all remembered.
  const notePresigned: Middleware = (next) => async (args) => {
    const result = await next(args);
    const caller = invocation.getStore();
    const query = result.output?.presigned?.query;
    const signature = query?.['X-Amz-Signature'];
    if (caller && query && typeof signature === 'string') {
      const expires = Date.now() + Number(query['X-Amz-Expires'] ?? 900) * 1000;
      remember(caller.fn, signature, expires);
      opts.onPresigned?.(caller.fn, signature, expires);
    }
    return result;
  };
  function remember(fn: string, signature: string, expires: number): void {
    const now = Date.now();
    for (const [sig, entry] of presigned) if (entry.expires < now) presigned.delete(sig);
    const entry = presigned.get(signature) ?? { fns: new Set<string>(), expires: 0 };
    entry.fns.add(fn);
    entry.expires = Math.max(entry.expires, expires);
    presigned.set(signature, entry);
  }

  // The `@connections` client's requests, checked as the SDK's are; refused with API Gateway's 403.
  const connections = (req: ConnectionsRequest): ConnectionsResponse | undefined => {
    const caller = invocation.getStore();
    if (!caller) return undefined;
    const refused = authorize(caller.fn, connectionRequests(opts.names, req.method === 'DELETE' ? 'DeleteConnection' : 'PostToConnection', { ConnectionId: req.connectionId }));
    if (!refused) return undefined;
    return { status: 403, errorType: 'AccessDeniedException', body: JSON.stringify({ message: deniedMessage(sessionArn(opts.names.account, caller.fn), refused) }) };
  };

  // The functions' DynamoDB client's requests, checked as the SDK's are (on the marshalled input it sends); refused with DynamoDB's 400.
  const dynamo = (req: DynamoDbRequest): DynamoDbResponse | undefined => {
    const caller = invocation.getStore();
    if (!caller) return undefined;
    const refused = authorize(caller.fn, dynamoRequests(opts.names, req.operation, JSON.parse(req.body) as Record<string, unknown>));
    if (!refused) return undefined;
    return { status: 400, requestId: randomUUID(), body: dynamoDenied(sessionArn(opts.names.account, caller.fn), refused) };
  };

  current = { enforce, notePresigned, connections, dynamo };

  return {
    usage: () => usage,
    notePresigned: remember,
    checkPresigned(req) {
      // A browser's CORS preflight carries the URL but no authorization of its own: S3 answers it
      // from the bucket's CORS rules, whoever signed the URL.
      if (req.method === 'OPTIONS') return undefined;
      const url = new URL(req.url ?? '/', 'http://s3.local');
      const signature = url.searchParams.get('X-Amz-Signature');
      const signers = signature ? presigned.get(signature)?.fns : undefined;
      if (!signers) return undefined;
      // Path-style: /<bucket>/<key>.
      const [, bucket = '', ...rest] = url.pathname.split('/');
      const key = decodeURIComponent(rest.join('/'));
      const method = req.method ?? 'GET';
      const action = method === 'PUT' ? 's3:PutObject' : method === 'DELETE' ? 's3:DeleteObject' : 's3:GetObject';
      const request: IamRequest = { action, resource: objectArn(bucket, key), context: {}, detail: `${bucket}/${key} (presigned)` };
      const allowed = [...signers].filter((fn) => allowingStatement(policy(fn), request) >= 0);
      if (allowed.length > 0) {
        for (const fn of allowed) authorize(fn, [request]);
        return undefined;
      }
      const fn = [...signers][0]!;
      authorize(fn, [request]);
      return { status: 403, body: s3DeniedXml(deniedMessage(sessionArn(opts.names.account, fn), request, true), randomUUID()) };
    },
  };
}

/** The statement's action pattern that matched (its own spelling, as the table lists it). */
function matchedAction(statement: PolicyStatementJson, action: string): string {
  return statement.Action.find((a) => a.toLowerCase() === action.toLowerCase()) ?? statement.Action.find((a) => a.includes('*')) ?? action;
}

/** DynamoDB's AccessDeniedException body (JSON 1.0). */
function dynamoDenied(principal: string, request: IamRequest): string {
  return JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: deniedMessage(principal, request) });
}

function s3DeniedXml(message: string, requestId: string): string {
  const escaped = message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>${escaped}</Message><RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`;
}
