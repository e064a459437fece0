import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '#shared/adapters/sha256.ts';

/** One exchange with DynamoDB, as sent and as answered: the operation (`PutItem`) and its JSON body. */
export interface DynamoDbRequest {
  operation: string;
  body: string;
}
export interface DynamoDbResponse {
  status: number;
  body: string;
  requestId?: string;
}

/** One reason of a cancelled transaction, per item in order, as DynamoDB sends it. */
export interface CancellationReason {
  Code?: string;
  Message?: string;
  Item?: Record<string, AttributeValue>;
}

/**
 * An error DynamoDB answered with, shaped as the SDK's service exceptions are: `name` from
 * `__type`, `message`, `$fault`, `$metadata`, and the fields the stores read (the item a failed
 * condition found, a cancelled transaction's reasons) in DynamoDB's attribute values, binary
 * decoded, as the SDK leaves them on its exceptions.
 */
export class DynamoDbError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId?: string; attempts: number };
  readonly Item?: Record<string, AttributeValue>;
  readonly CancellationReasons?: CancellationReason[];
  constructor(name: string, message: string, res: Pick<DynamoDbResponse, 'status' | 'requestId'>, attempts: number, fields: Pick<DynamoDbError, 'Item' | 'CancellationReasons'> = {}) {
    super(message);
    this.name = name;
    this.$fault = res.status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: res.status, ...(res.requestId && { requestId: res.requestId }), attempts };
    if (fields.Item) this.Item = fields.Item;
    if (fields.CancellationReasons) this.CancellationReasons = fields.CancellationReasons;
  }
}

/**
 * The SDK's standard retry as its DynamoDB client sets it (4 attempts, full-jitter exponential
 * backoff from 25 ms, from 1 s when throttled): throttling, 500/502/503/504, timeouts and
 * dropped or refused sockets. Anything else is final, and the store's own policy decides.
 */
const MAX_ATTEMPTS = 4;
const BASE_DELAY_MS = 25;
const THROTTLED_BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 20_000;
const THROTTLING = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionInProgressException',
  'TooManyRequestsException',
  'LimitExceededException',
  'Throttling',
]);
const TRANSIENT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** A socket that says nothing for this long is given up (and retried): a stuck connection must not hang a handler. */
const DEFAULT_TIMEOUT_MS = 5_000;

/** Attribute values come as JSON; binary ones (`B`, `BS`) as base64, which the SDK decodes to bytes. */
const binaryFromBase64 = (key: string, value: unknown): unknown => {
  if (key === 'B' && typeof value === 'string') return bytes(value);
  if (key === 'BS' && Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map(bytes);
  return value;
};
const bytes = (base64: string) => {
  const b = Buffer.from(base64, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/**
 * DynamoDB's JSON 1.0 API (`POST /`, `X-Amz-Target: DynamoDB_20120810.<Op>`) on Node's HTTP client,
 * signed by the SDK's own SigV4 signer: what DynamoDBClient sends, without the SDK's client and
 * its middleware stack, which a function would otherwise load (tens of milliseconds of cold start)
 * before its first call. Keeps what that client did: endpoint and region from the environment
 * (`AWS_ENDPOINT_URL_DYNAMODB` or `AWS_ENDPOINT_URL`, else the region's), credentials from the
 * environment (Lambda's role), kept-alive sockets, its standard retry, errors named by `__type`.
 * It speaks attribute values: marshalling is the table client's.
 */
export class DynamoDbApi {
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly signer: SignatureV4;
  private readonly request: typeof httpRequest;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<unknown>;

  constructor(
    opts: {
      /** Overrides the environment's endpoint (a test's DynamoDB Local). */
      endpoint?: string;
      region?: string;
      env?: NodeJS.ProcessEnv;
      maxSockets?: number;
      timeoutMs?: number;
      /** How a retry waits (a test may record the waits instead). */
      sleep?: (ms: number) => Promise<unknown>;
    } = {},
  ) {
    const env = opts.env ?? process.env;
    const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw new Error('DynamoDbApi: no region (AWS_REGION)');
    this.url = new URL(opts.endpoint ?? (env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || `https://dynamodb.${region}.amazonaws.com`));
    const secure = this.url.protocol === 'https:';
    // The SDK's Node handler keeps up to 50 sockets per host alive.
    const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 50 };
    this.agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.request = secure ? httpsRequest : httpRequest;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.signer = new SignatureV4({
      service: 'dynamodb',
      region,
      sha256: Sha256,
      // Read at each signing, as the SDK's environment provider would at each client: Lambda sets them per sandbox.
      credentials: async () => {
        const accessKeyId = env.AWS_ACCESS_KEY_ID;
        const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
        if (!accessKeyId || !secretAccessKey) throw new Error('DynamoDbApi: no credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
        return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }) };
      },
    });
  }

  /**
   * Calls `operation` with `body` (its input as JSON, attribute values marshalled) and gives its
   * output parsed; a DynamoDB error is thrown as a DynamoDbError once retries are spent.
   */
  async send(operation: string, body: string): Promise<Record<string, unknown>> {
    const req = { operation, body };
    for (let attempt = 1; ; attempt++) {
      let res: DynamoDbResponse;
      try {
        res = await this.exchange(req);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (attempt < MAX_ATTEMPTS && (TRANSIENT_NETWORK.has(e.code ?? '') || TRANSIENT.has(e.name))) {
          await this.sleep(backoff(BASE_DELAY_MS, attempt));
          continue;
        }
        throw err;
      }
      if (res.status < 300) return JSON.parse(res.body, (key, value: unknown) => binaryFromBase64(key, value)) as Record<string, unknown>;
      const error = errorOf(res, attempt);
      const throttled = res.status === 429 || THROTTLING.has(error.name);
      if (attempt < MAX_ATTEMPTS && (throttled || TRANSIENT.has(error.name) || TRANSIENT_STATUS.has(res.status))) {
        await this.sleep(backoff(throttled ? THROTTLED_BASE_DELAY_MS : BASE_DELAY_MS, attempt));
        continue;
      }
      throw error;
    }
  }

  destroy(): void {
    this.agent.destroy();
  }

  /** One signed request and its answer: the one place a request leaves (the local runtime checks its IAM here). */
  exchange(req: DynamoDbRequest): Promise<DynamoDbResponse> {
    return this.signed(req).then(
      (headers) =>
        new Promise<DynamoDbResponse>((resolve, reject) => {
          const r = this.request(
            {
              protocol: this.url.protocol,
              hostname: this.url.hostname,
              port: this.url.port,
              method: 'POST',
              path: '/',
              headers,
              agent: this.agent,
            },
            (res: IncomingMessage) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('error', reject);
              res.on('end', () => {
                const id = res.headers['x-amzn-requestid'];
                resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(typeof id === 'string' && { requestId: id }) });
              });
            },
          );
          r.setTimeout(this.timeoutMs, () =>
            r.destroy(Object.assign(new Error(`DynamoDB sent nothing for ${this.timeoutMs} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' })),
          );
          r.on('error', reject);
          r.end(req.body);
        }),
    );
  }

  private async signed(req: DynamoDbRequest): Promise<Record<string, string>> {
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      ...(this.url.port && { port: Number(this.url.port) }),
      path: '/',
      query: {},
      headers: {
        host: this.url.host,
        'content-type': 'application/x-amz-json-1.0',
        'content-length': String(Buffer.byteLength(req.body)),
        'x-amz-target': `DynamoDB_20120810.${req.operation}`,
      },
      body: req.body,
    });
    return signed.headers;
  }
}

function backoff(base: number, attempt: number): number {
  return Math.floor(Math.min(MAX_DELAY_MS, Math.random() * 2 ** (attempt - 1) * base));
}

/** The error of an answer: named as the SDK names it (the error type header, else `__type`, after the `#`). */
function errorOf(res: DynamoDbResponse, attempts: number): DynamoDbError {
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = res.body ? JSON.parse(res.body, (key, v: unknown) => binaryFromBase64(key, v)) : {};
    if (typeof value === 'object' && value !== null) parsed = value as Record<string, unknown>;
  } catch {
    // not JSON (a proxy's page): the status says it
  }
  const type = typeof parsed.__type === 'string' ? parsed.__type : typeof parsed.code === 'string' ? parsed.code : undefined;
  const name = type?.split(':')[0]?.split('#').pop() || (res.status === 429 ? 'TooManyRequestsException' : `Http${res.status}`);
  const m = parsed.message ?? parsed.Message;
  const message = typeof m === 'string' ? m : `DynamoDB answered ${res.status}`;
  return new DynamoDbError(name, message, res, attempts, {
    ...(typeof parsed.Item === 'object' && parsed.Item !== null && { Item: parsed.Item as Record<string, AttributeValue> }),
    ...(Array.isArray(parsed.CancellationReasons) && { CancellationReasons: parsed.CancellationReasons as CancellationReason[] }),
  });
}
