/**
 * Environment variable names shared by the CDK stack (which sets them on every function) and the
 * local runtime (which sets them on its own process before loading the handlers).
 */
export const ENV = {
  tableName: 'PARLEY_TABLE_NAME',
  bucketName: 'PARLEY_BUCKET_NAME',
  /** `https://{api}.execute-api.{region}.amazonaws.com/{stage}` in AWS; the emulator's URL locally. */
  wsCallbackUrl: 'PARLEY_WS_CALLBACK_URL',
  jwtIssuer: 'PARLEY_JWT_ISSUER',
  jwtAudience: 'PARLEY_JWT_AUDIENCE',
  /** Local only: the dev issuer's JWKS, handed to aws-jwt-verify directly (it fetches over https only). */
  devJwks: 'PARLEY_DEV_JWKS',
  /** Longest message content, in characters (default 4,000). */
  maxMessageLength: 'PARLEY_MAX_MESSAGE_LENGTH',
  /** How long after sending a message may be edited, in seconds (default 900; 0 = no limit). */
  editWindowSeconds: 'PARLEY_EDIT_WINDOW_SECONDS',
  /** Largest attachment in bytes (default 10 MB). */
  attachmentMaxBytes: 'PARLEY_ATTACHMENT_MAX_BYTES',
  /** Comma-separated allowed content types (default: JPEG, PNG, GIF, WebP, PDF, DOC, DOCX, TXT; only those can be verified). */
  attachmentTypes: 'PARLEY_ATTACHMENT_TYPES',
  /** Lifetime of a presigned upload URL, in seconds (default 300). */
  attachmentUploadUrlSeconds: 'PARLEY_ATTACHMENT_UPLOAD_URL_SECONDS',
  /** Lifetime of a presigned download URL, in seconds (default 900). */
  attachmentDownloadUrlSeconds: 'PARLEY_ATTACHMENT_DOWNLOAD_URL_SECONDS',
  /** How long an upload no message claims is kept before it is deleted, in seconds (default 86,400). */
  attachmentUnattachedSeconds: 'PARLEY_ATTACHMENT_UNATTACHED_SECONDS',
  /** Messages one `GET /search` request reads at most before it answers with a cursor (default 1,000). */
  searchScanBudget: 'PARLEY_SEARCH_SCAN_BUDGET',
  /** Messages a user may send per window (default 10; 0 = no limit) and the window in seconds (default 10). */
  sendRateLimit: 'PARLEY_SEND_RATE_LIMIT',
  sendRateWindowSeconds: 'PARLEY_SEND_RATE_WINDOW_SECONDS',
  /** Other writes (rooms, members, edits, deletes, reactions, presence) per window (default 30; 0 = no limit), window (default 10 s). */
  writeRateLimit: 'PARLEY_WRITE_RATE_LIMIT',
  writeRateWindowSeconds: 'PARLEY_WRITE_RATE_WINDOW_SECONDS',
  /** Searches per window (default 20; 0 = no limit), window (default 60 s). */
  searchRateLimit: 'PARLEY_SEARCH_RATE_LIMIT',
  searchRateWindowSeconds: 'PARLEY_SEARCH_RATE_WINDOW_SECONDS',
  /** Local only: the service credential the HTTP gateway checks SigV4 signatures of `/service/...` routes with. */
  serviceAccessKeyId: 'PARLEY_SERVICE_ACCESS_KEY_ID',
  serviceSecretAccessKey: 'PARLEY_SERVICE_SECRET_ACCESS_KEY',
  /** The EventBridge bus outbound events go to (the stack's own, or `-c parley:eventBusName=`). */
  eventBusName: 'PARLEY_EVENT_BUS_NAME',
  /** Local only: where each outbound event is POSTed (unset: events are not sent anywhere). */
  eventsUrl: 'PARLEY_EVENTS_URL',
  /** The Secrets Manager secret whose random value the VAPID key pair is derived from (AWS). */
  vapidSecretArn: 'PARLEY_VAPID_SECRET_ARN',
  /** Local only: the random seed the VAPID key pair is derived from (kept in the data dir). */
  vapidSeed: 'PARLEY_VAPID_SEED',
  /** The VAPID `sub` claim: a `mailto:` or `https:` contact for push services (default `mailto:push@parley.invalid`). */
  vapidSubject: 'PARLEY_VAPID_SUBJECT',
  /** Local only: `1` lets push subscriptions point at http://127.0.0.1 (tests' push services). */
  pushAllowLoopback: 'PARLEY_PUSH_ALLOW_LOOPBACK',
  /** At most one notification per user and room per this many seconds (default 30). */
  notifyCoalesceSeconds: 'PARLEY_NOTIFY_COALESCE_SECONDS',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** The service name logs carry where the deployment sets none. */
export const DEFAULT_SERVICE_NAME = 'parley';

export type EnvName = (typeof ENV)[keyof typeof ENV];

/**
 * The limits an operator may tune per deployment: `cdk deploy -c parley:sendRateLimit=20` sets
 * PARLEY_SEND_RATE_LIMIT on every function (locally, set the variable itself).
 */
export const TUNABLE_SETTINGS = [
  'maxMessageLength',
  'editWindowSeconds',
  'attachmentMaxBytes',
  'attachmentTypes',
  'attachmentUploadUrlSeconds',
  'attachmentDownloadUrlSeconds',
  'attachmentUnattachedSeconds',
  'sendRateLimit',
  'sendRateWindowSeconds',
  'writeRateLimit',
  'writeRateWindowSeconds',
  'searchRateLimit',
  'searchRateWindowSeconds',
  'searchScanBudget',
] as const satisfies readonly (keyof typeof ENV)[];

/** Reads a required variable; a missing one is a deployment error, so it throws at first use. */
export function requireEnv(name: EnvName, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`Missing environment variable ${name}`);
  return value;
}

/** Environment knobs of `npm start` (the README's "Configuration of `npm start`"), the emulator's timeouts among them. */
export const LOCAL_ENV = {
  httpPort: 'PARLEY_HTTP_PORT',
  wsPort: 'PARLEY_WS_PORT',
  dataDir: 'PARLEY_DATA_DIR',
  inMemory: 'PARLEY_IN_MEMORY',
  wsIdleTimeoutSeconds: 'PARLEY_WS_IDLE_TIMEOUT_SECONDS',
  wsMaxConnectionSeconds: 'PARLEY_WS_MAX_CONNECTION_SECONDS',
  streamPollMs: 'PARLEY_STREAM_POLL_MS',
  ttlSweepSeconds: 'PARLEY_TTL_SWEEP_SECONDS',
} as const;

/** A non-negative integer setting, or its default; a malformed value is a deployment error. */
export function intSetting(name: EnvName, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${raw}'`);
  return n;
}
