/**
 * `npm start`: the whole of Parley on this machine — no Docker, no AWS account.
 * Configuration: the README's "Configuration of `npm start`" (PARLEY_HTTP_PORT, PARLEY_WS_PORT, PARLEY_DATA_DIR, PARLEY_IN_MEMORY,
 * AWS_ENDPOINT_URL*), plus the emulator knobs in shared/env.ts (LOCAL_ENV).
 */
import { configFromEnv, startLocalStack } from '#infra/local/stack.ts';
import { StartupError } from '#infra/local/errors.ts';
import { LOCAL_EVENT_BUS } from '#infra/local/event-bridge.ts';

process.env.DDB_LOCAL_TELEMETRY ??= '0';
// Local runs use the Node on this machine (20+); Lambda runs Node 22, which the SDK's warning is about.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main() {
  const started = Date.now();
  const config = configFromEnv();
  const stack = await startLocalStack(config);
  const where = config.dataDir ? `data in ${config.dataDir}` : 'in memory';
  console.log(
    [
      '',
      `Parley local stack (${where})`,
      `  Web app         ${stack.httpUrl}  (sign in with any user id; each tab can be another person)`,
      `  HTTP API        ${stack.httpUrl}`,
      `  WebSocket API   ${stack.wsUrl}`,
      `  @connections    ${stack.callbackUrl}/@connections/{connectionId}`,
      `  Dev tokens      POST ${stack.httpUrl}dev/token  {"userId":"ann","displayName":"Ann"}`,
      `  Service API     SigV4 (execute-api, ${process.env.AWS_REGION}) access key ${stack.serviceCredential.accessKeyId} secret ${stack.serviceCredential.secretAccessKey}`,
      `  DynamoDB        ${stack.dynamoEndpoint}${config.dynamoEndpoint ? ' (external)' : ''}  table ${config.tableName}`,
      `  S3              ${stack.s3Endpoint}${config.s3Endpoint ? ' (external)' : ''}  bucket ${stack.bucket}`,
      `  EventBridge     ${stack.eventBridgeEndpoint}${config.eventBridgeEndpoint ? ' (external)' : ''}  bus ${LOCAL_EVENT_BUS}`,
      `  Events          ${stack.eventsUrl ? `POST ${stack.eventsUrl}` : config.eventBridgeEndpoint ? 'routed by the external EventBridge\'s rules' : 'not sent (set PARLEY_EVENTS_URL to receive them)'}`,
      `Parley local stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s (Ctrl-C stops it)`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof StartupError) console.error(`parley: ${err.message}`);
  else console.error('parley: could not start:', err);
  process.exit(1);
});
