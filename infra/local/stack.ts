import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { ENV, LOCAL_ENV } from '#shared/env.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { streamFilterPatterns } from '#shared/adapters/dynamodb/stream-filters.ts';
import { BUCKET } from '#shared/adapters/s3/bucket.ts';
import { createJwtVerifier } from '#shared/adapters/jwt.ts';
import { allFunctions, fanoutWorkerFn, functionTimeoutSeconds, httpRoutes, streamFn, wsAuthorizerFn, wsRoutes } from '#infra/routes.ts';
import { startLambdaApi } from './lambda-api.ts';
import { createInvoker, type Invoke } from './lambda.ts';
import { startLambdaThreads } from './lambda-threads.ts';
import { createDevIssuer } from './dev-issuer.ts';
import { startHttpGateway } from './http-gateway.ts';
import { startWsGateway } from './ws-gateway.ts';
import { startStreamConsumer } from './stream-poller.ts';
import { startAttachmentCleanup } from './attachment-cleanup.ts';
import { localVapidSeed, startEventsConsumer } from './events-consumer.ts';
import { contractEnvelope, LOCAL_EVENT_BUS, startEventBridge } from './event-bridge.ts';
import { s3Notifications } from './s3-notifications.ts';
import { startTtlSweeper, type TtlSweeper } from './ttl-sweeper.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal, startS3, type RunningService } from './services.ts';
import { ensureBucket, ensureTable } from './provision.ts';
import { devRoutes } from './dev-routes.ts';
import { staticFiles } from './static-files.ts';
import { loadServiceCredential, verifyServiceSignature, type ServiceCredential } from './service-auth.ts';
import { freePort, holdPort } from './ports.ts';
import { PortTakenError } from './errors.ts';
import { loadCursorKey } from './cursor-key.ts';
import { writeFileSync } from 'node:fs';
import { allGrantLabels } from '#infra/permissions.ts';
import { FANOUT_EVENT_SOURCE } from '#infra/stream-sources.ts';
import { installIam, type IamSetup, type LocalIam } from './iam.ts';
import { LOCAL_ACCOUNT, secretArn } from './iam-policy.ts';
import { startSecretsManager } from './secrets-manager.ts';

/** CORS for browser uploads and downloads with presigned URLs, as the CDK stack sets on the bucket. */
const CORS_XML = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule></CORSConfiguration>`;

const STOP_STEP_MS = 5_000;

/** The WebSocket API's id and stage as the local ARNs name them. */
const WS_API_ID = 'local';
const WS_STAGE = 'local';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface LocalConfig {
  httpPort: number;
  wsPort: number;
  /** Undefined: in memory. */
  dataDir?: string;
  tableName: string;
  idleTimeoutMs: number;
  maxConnectionMs: number;
  streamPollMs: number;
  ttlSweepMs: number;
  /** An existing DynamoDB (LocalStack, DynamoDB Local) instead of the embedded one. */
  dynamoEndpoint?: string;
  /** An existing S3-compatible store instead of the embedded one. */
  s3Endpoint?: string;
  /**
   * `false`: no outbound-events consumer (the benchmark calls it itself, so its reads are not
   * counted into other operations' windows). On by default.
   */
  eventsConsumer?: boolean;
  /** Check each handler's AWS calls against its function's grants (default: on). */
  iam: boolean;
  /** Where to write how often each grant was used, when the stack stops. */
  iamUsageFile?: string;
  /** Grant actions (labels of infra/permissions.ts, one a line) to run without, for tests. */
  iamRevoked: string[];
  /**
   * Worker threads the fan-out's worker may run in at once, as Lambda runs concurrent invocations
   * in sandboxes of their own; 0: in the runtime's thread.
   */
  lambdaThreads: number;
  /** Where the runtime's EventBridge POSTs outbound events (`PARLEY_EVENTS_URL`); undefined: nowhere. */
  eventsUrl?: string;
  /** An existing EventBridge (its bus `parley-local` routes the events) instead of the embedded one. */
  eventBridgeEndpoint?: string;
}

/** The configuration `npm start` reads from its environment (the README's "Configuration of `npm start`"). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const num = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got '${raw}'`);
    return n;
  };
  const inMemory = env[LOCAL_ENV.inMemory] === '1' || env[LOCAL_ENV.inMemory] === 'true';
  const dynamoEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL;
  const s3Endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  return {
    httpPort: num(LOCAL_ENV.httpPort, 3000),
    wsPort: num(LOCAL_ENV.wsPort, 3001),
    ...(!inMemory && { dataDir: path.resolve(env[LOCAL_ENV.dataDir] || '.parley') }),
    tableName: env[ENV.tableName] || TABLE.defaultName,
    idleTimeoutMs: num(LOCAL_ENV.wsIdleTimeoutSeconds, 600) * 1000,
    maxConnectionMs: num(LOCAL_ENV.wsMaxConnectionSeconds, 7200) * 1000,
    streamPollMs: num(LOCAL_ENV.streamPollMs, 50),
    ttlSweepMs: num(LOCAL_ENV.ttlSweepSeconds, 5) * 1000,
    ...(dynamoEndpoint && { dynamoEndpoint }),
    ...(s3Endpoint && { s3Endpoint }),
    iam: env[LOCAL_ENV.iam] !== 'off',
    iamRevoked: (env[LOCAL_ENV.iamRevoke] ?? '').split('\n').map((l) => l.trim()).filter(Boolean),
    lambdaThreads: num(LOCAL_ENV.lambdaThreads, Math.max(2, os.availableParallelism())),
    ...(env[LOCAL_ENV.iamUsageFile] && { iamUsageFile: path.resolve(env[LOCAL_ENV.iamUsageFile]!) }),
    ...(env[ENV.eventsUrl] && { eventsUrl: env[ENV.eventsUrl] }),
    ...(env.AWS_ENDPOINT_URL_EVENTBRIDGE && { eventBridgeEndpoint: env.AWS_ENDPOINT_URL_EVENTBRIDGE }),
  };
}

export interface LocalStack {
  httpUrl: string;
  wsUrl: string;
  callbackUrl: string;
  dynamoEndpoint: string;
  s3Endpoint: string;
  bucket: string;
  /** What `/service/...` requests are signed with (SigV4, service `execute-api`). */
  serviceCredential: ServiceCredential;
  /** Resolves when every stream record written so far has been handed to the fan-out handler. */
  streamDrained(): Promise<void>;
  /** WebSocket connections open now. */
  openConnections(): number;
  /** Resolves once every `$disconnect` under way has run (WsGateway.disconnectsDone). */
  disconnectsDone(): Promise<void>;
  /** The runtime's EventBridge, which the functions put outbound events on. */
  eventBridgeEndpoint: string;
  /** Where that EventBridge POSTs each event (`PARLEY_EVENTS_URL`), if anywhere. */
  eventsUrl?: string;
  stop(): Promise<void>;
}

/**
 * Starts the whole system on this machine: DynamoDB Local and the S3 store (unless endpoints are
 * given), the dev issuer, both API Gateway emulators, the stream poller and the TTL sweeper, all
 * in front of the handlers of functions/ — the files Lambda runs.
 */
export async function startLocalStack(config: LocalConfig): Promise<LocalStack> {
  // Stopped in this order: the gateways first (each open socket is closed and its `$disconnect`
  // runs, so a kept data dir holds no stale connections), then the stream consumers (draining the
  // records those writes made), then the services they all talk to. Parts are added as they start.
  const STOP_ORDER = [
    'HTTP gateway',
    'WebSocket connections',
    'TTL sweeper',
    'stream poller',
    'attachment clean-up poller',
    'S3 notifications',
    'WebSocket gateway',
    'Lambda API',
    'Lambda threads',
    'events poller',
    'EventBridge',
    'Secrets Manager',
    'IAM usage',
    'DynamoDB client',
    'DynamoDB',
    'S3',
  ];
  const stops: [string, () => Promise<void>][] = [];
  // Each part gets a few seconds to stop; one that hangs must not keep Ctrl-C from ending the rest.
  const stop = async () => {
    const ordered = stops.splice(0).sort(([a], [b]) => STOP_ORDER.indexOf(a) - STOP_ORDER.indexOf(b));
    for (const [name, stopPart] of ordered) {
      const done = stopPart().then(
        () => true,
        (err: unknown) => (console.error(`[local] stopping ${name} failed`, err), true),
      );
      const inTime = await Promise.race([done, new Promise<false>((resolve) => setTimeout(() => resolve(false), STOP_STEP_MS).unref())]);
      if (!inTime) console.error(`[local] ${name} did not stop within ${STOP_STEP_MS / 1000} s; going on`);
    }
  };
  try {
    // Ports first: a taken one should fail before anything slow starts.
    // Held until their gateways listen: the issuer's and callback URLs name them long before.
    const httpHold = await holdPort(config.httpPort);
    stops.push(['HTTP port', httpHold.release]);
    const wsHold = await holdPort(config.wsPort);
    stops.push(['WebSocket port', wsHold.release]);
    const httpPort = httpHold.port;
    const wsPort = wsHold.port;
    // Building the client SDK (when stale) overlaps the services' start-up.
    const filesReady = staticFiles();
    filesReady.catch(() => undefined);
    process.env.AWS_REGION ||= LOCAL_REGION;
    if (!process.env.AWS_ACCESS_KEY_ID) {
      process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
    }
    const region = process.env.AWS_REGION;
    const credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '' };

    // The S3 store starts before the invoker exists; its events wait for it.
    let onS3Event: (event: unknown) => void = () => undefined;
    let iam: LocalIam | undefined;
    const [dynamo, s3] = await Promise.all([
      config.dynamoEndpoint
        ? external(config.dynamoEndpoint)
        : dynamoDbLocalOnFreePort(config.dataDir && path.join(config.dataDir, 'dynamodb')),
      config.s3Endpoint
        ? external(config.s3Endpoint)
        : startS3({
            port: await freePort(),
            buckets: [BUCKET.localName],
            corsXml: CORS_XML,
            onEvent: (event) => onS3Event(event),
            refuse: (req) => iam?.checkPresigned(req),
            ...(config.dataDir && { dir: path.join(config.dataDir, 's3') }),
          }),
    ]);
    stops.push(['DynamoDB', dynamo.stop], ['S3', s3.stop]);

    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint });
    stops.push(['DynamoDB client', async () => dynamoClient.destroy()]);
    await Promise.all([
      ensureTable(dynamoClient, config.tableName),
      // The embedded store was given its bucket at start: s3rver mis-verifies the SDK's signature
      // on bucket-level requests (it drops the trailing slash the SDK signs), not on object ones.
      config.s3Endpoint && ensureBucket(new S3Client({ endpoint: s3.endpoint, forcePathStyle: true }), BUCKET.localName),
    ]);

    const issuer = await createDevIssuer({
      issuer: `http://127.0.0.1:${httpPort}/dev`,
      ...(config.dataDir && { keyFile: path.join(config.dataDir, 'dev-issuer-key.json') }),
    });
    const callbackUrl = `http://127.0.0.1:${wsPort}`;
    // What the CDK stack sets on every function, pointed at the local services.
    Object.assign(process.env, {
      [ENV.tableName]: config.tableName,
      [ENV.bucketName]: BUCKET.localName,
      [ENV.wsCallbackUrl]: callbackUrl,
      [ENV.jwtIssuer]: issuer.issuer,
      [ENV.jwtAudience]: issuer.audience,
      [ENV.devJwks]: JSON.stringify(issuer.jwks),
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      // Local mode: a test's push service on http://127.0.0.1 may be subscribed.
      [ENV.pushAllowLoopback]: '1',
    });
    // The cursor key lives in a secret, read by the list functions through the Secrets Manager API
    // under their grants, as in AWS (an operator's PARLEY_CURSOR_KEY still wins, as it does there).
    const localNames = { region, account: LOCAL_ACCOUNT, apiId: WS_API_ID, stage: WS_STAGE };
    // So is the seed of the VAPID key pair (kept in the data dir: browser subscriptions outlive a restart).
    const cursorKeyArn = secretArn(localNames, 'cursor-key');
    const vapidSeedArn = secretArn(localNames, 'vapid-seed');
    const secrets = await startSecretsManager({
      secrets: [
        { arn: cursorKeyArn, name: 'parley-cursor-key', value: loadCursorKey(config.dataDir) },
        { arn: vapidSeedArn, name: 'parley-vapid-seed', value: localVapidSeed(config.dataDir) },
      ],
      credentials: [credentials],
    });
    stops.push(['Secrets Manager', secrets.stop]);
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.endpoint;
    process.env[ENV.cursorKeySecretArn] = cursorKeyArn;
    process.env[ENV.vapidSecretArn] = vapidSeedArn;
    // Outbound events: the consumer puts them on a bus through the SDK, as in AWS; the runtime's
    // EventBridge delivers them to PARLEY_EVENTS_URL (a rule with an API destination, in AWS terms).
    // An external one (LocalStack's, or a test's) holds the bus and its rules itself.
    const eventsUrl = config.eventBridgeEndpoint ? undefined : config.eventsUrl;
    const bus = config.eventBridgeEndpoint
      ? await external(config.eventBridgeEndpoint)
      : await startEventBridge({
          region,
          account: LOCAL_ACCOUNT,
          busName: LOCAL_EVENT_BUS,
          credentials: [credentials],
          ...(eventsUrl && { target: eventsUrl, transform: contractEnvelope }),
        });
    stops.push(['EventBridge', bus.stop]);
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.endpoint;
    process.env[ENV.eventBusName] = LOCAL_EVENT_BUS;
    process.env[ENV.logLevel] ??= 'WARN';

    const onDenied = (fn: string, request: { action: string; resource: string; detail: string }) =>
      console.error(`[iam] AccessDenied: parley-${fn} may not ${request.action} on ${request.resource} (${request.detail})`);
    const iamSetup: IamSetup | undefined = config.iam
      ? { names: localNames, tableName: config.tableName, bucket: BUCKET.localName, revoked: new Set(config.iamRevoked) }
      : undefined;
    if (iamSetup) {
      iam = installIam({ ...iamSetup, onDenied });
      const usageFile = config.iamUsageFile;
      const used = iam.usage();
      if (usageFile) {
        stops.push(['IAM usage', async () => writeFileSync(usageFile, JSON.stringify({ grants: allGrantLabels(), used: Object.fromEntries(used) }, null, 2))]);
      }
    }
    const functionsDir = path.join(root, 'functions');
    const inThisThread = createInvoker(functionsDir);
    let invoke: Invoke = inThisThread;
    if (config.lambdaThreads > 0) {
      // The fan-out's workers run in threads, so a large room's posting is spread over the cores
      // while this thread serves the gateways and @connections; the bench's observers (set on this
      // thread's composition root) hear what they did.
      const { depsOptions } = await import('#functions/lib/deps.ts');
      const threads = startLambdaThreads({
        functionsDir,
        functions: new Set([fanoutWorkerFn]),
        maxThreads: config.lambdaThreads,
        timeoutMs: (fn) => functionTimeoutSeconds(fn) * 1000,
        ...(iam && iamSetup && { iam: iamSetup, onDenied, usage: iam.usage(), onPresigned: iam.notePresigned }),
        observers: depsOptions,
      });
      stops.push(['Lambda threads', threads.stop]);
      invoke = (fn, event) => (threads.runs(fn) ? threads.invoke(fn, event) : inThisThread(fn, event));
    }
    // The stream fan-out splits a large room across invocations of its worker, through Lambda's API.
    const lambdaApi = await startLambdaApi({ functions: allFunctions(), invoke, credentials: [credentials], region, account: LOCAL_ACCOUNT });
    stops.push(['Lambda API', lambdaApi.stop]);
    process.env.AWS_ENDPOINT_URL_LAMBDA = lambdaApi.endpoint;
    process.env[ENV.fanoutWorkerFunction] ||= `parley-${fanoutWorkerFn}`;
    const notifications = s3Notifications(invoke);
    onS3Event = notifications.onEvent;
    stops.push(['S3 notifications', notifications.stop]);
    const verify = createJwtVerifier({ issuer: issuer.issuer, audience: issuer.audience, jwks: issuer.jwks });

    await wsHold.release();
    const ws = await startWsGateway({
      port: wsPort,
      apiId: WS_API_ID,
      stage: WS_STAGE,
      // The functions sign `@connections` calls with the runtime's credentials (their Lambda role's, in AWS).
      managementCredentials: [credentials],
      routes: wsRoutes,
      authorizerFn: wsAuthorizerFn,
      invoke,
      idleTimeoutMs: config.idleTimeoutMs,
      maxConnectionMs: config.maxConnectionMs,
    });
    stops.push(['WebSocket connections', ws.closeConnections], ['WebSocket gateway', ws.stop]);
    const serviceCredential = loadServiceCredential(config.dataDir);
    const files = await filesReady;
    await httpHold.release();
    const httpGateway = await startHttpGateway({
      port: httpPort,
      routes: httpRoutes,
      invoke,
      verify,
      verifyIam: (req, _url, body) => verifyServiceSignature(req, body, serviceCredential),
      local: devRoutes(issuer),
      files,
    });
    stops.push(['HTTP gateway', httpGateway.stop]);

    // The TTL sweeper learns of items from the stream this poller reads. The poller is anchored
    // before the sweeper's start-up scan begins, so every item is in the scan or in the stream;
    // records read before the sweeper exists are of items the scan sees.
    let sweeper: TtlSweeper | undefined;
    const wiring = { endpoint: dynamo.endpoint, region, credentials, tableName: config.tableName, pollIntervalMs: config.streamPollMs, invoke };
    const poller = await startStreamConsumer(wiring, streamFn, {
      filterPatterns: streamFilterPatterns,
      batchSize: FANOUT_EVENT_SOURCE.batchSize,
      parallelizationFactor: FANOUT_EVENT_SOURCE.parallelizationFactor,
      maxRetryAttempts: FANOUT_EVENT_SOURCE.retryAttempts,
      ttlDeletions: { take: (keys) => sweeper?.ttlDeletions.take(keys) ?? false },
      onRecord: (record) => sweeper?.observe(record),
      onFailure: ({ records, error }) =>
        console.error(`[stream] ${records.length} record(s) dropped after retries (the SQS on-failure destination in AWS)`, error),
    });
    stops.push(['stream poller', poller.stop]);
    sweeper = startTtlSweeper({
      client: dynamoClient,
      tableName: config.tableName,
      ttlAttribute: TABLE.ttlAttribute,
      intervalMs: config.ttlSweepMs,
    });
    stops.push(['TTL sweeper', sweeper.stop]);
    const cleanup = await startAttachmentCleanup(wiring);
    stops.push(['attachment clean-up poller', cleanup.stop]);
    if (config.eventsConsumer !== false) {
      const events = await startEventsConsumer(wiring);
      stops.push(['events poller', events.stop]);
    }

    return {
      httpUrl: httpGateway.url,
      wsUrl: ws.url,
      callbackUrl,
      dynamoEndpoint: dynamo.endpoint,
      s3Endpoint: s3.endpoint,
      bucket: BUCKET.localName,
      serviceCredential,
      streamDrained: () => poller.drained(),
      openConnections: () => ws.connectionCount(),
      disconnectsDone: () => ws.disconnectsDone(),
      eventBridgeEndpoint: bus.endpoint,
      ...(eventsUrl && { eventsUrl }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

const external = async (endpoint: string): Promise<RunningService> => ({ endpoint, stop: async () => undefined });

/**
 * DynamoDB Local on a port free when chosen. The JVM binds it a second or two later, and any
 * socket (an outgoing connection's among them) may take it meanwhile: then another port is tried.
 */
async function dynamoDbLocalOnFreePort(dbDir: string | undefined): Promise<RunningService> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDynamoDbLocal({ port: await freePort(), ...(dbDir && { dbDir }) });
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= 3) throw err;
    }
  }
}
