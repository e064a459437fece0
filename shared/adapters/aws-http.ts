import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SigV4Signer } from '#shared/adapters/sigv4-sign.ts';

/**
 * What the functions' own AWS clients share (dynamodb/dynamodb-api.ts, apigw/connections-api.ts):
 * Node's HTTP client to one endpoint with kept-alive sockets, each request signed with SigV4
 * (sigv4-sign.ts) with the environment's credentials (Lambda's role), and the SDK's standard retry.
 * One copy of it in a bundle that carries both.
 */

/** An answer as received. */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An error a service answered with, shaped as the SDK's service exceptions are (name, message, `$metadata`). */
export class AwsServiceError extends Error {
  readonly $metadata: { httpStatusCode: number; requestId?: string; attempts: number };
  constructor(name: string, message: string, status: number, attempts: number, requestId?: string) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status, attempts, ...(requestId && { requestId }) };
  }
}

/**
 * The error of an answer that is no success, as the SDK makes it: named by `type` (the service's
 * error type header), else the body's `__type` (after the `#`), else by its status; its message
 * and the body's other fields on it (the item a failed condition found, a transaction's reasons).
 */
export function serviceError(
  res: { status: number; body: string; type?: string; requestId?: string },
  attempts: number,
  reviver?: (key: string, value: unknown) => unknown,
): AwsServiceError {
  let body: Record<string, unknown> = {};
  try {
    body = Object(JSON.parse(res.body, reviver)) as Record<string, unknown>;
  } catch {
    // not JSON (a proxy's page): the status says it
  }
  const name = res.type ?? String(body.__type ?? '').split('#').pop();
  const message = body.message ?? body.Message;
  const err = new AwsServiceError(name || (res.status === 429 ? 'TooManyRequestsException' : `Http${res.status}`), typeof message === 'string' ? message : `HTTP ${res.status}`, res.status, attempts, res.requestId);
  // As the SDK copies them: only where the error has nothing (never its name, message or prototype).
  for (const [k, v] of Object.entries(body)) (err as unknown as Record<string, unknown>)[k] ??= v;
  return err;
}

/** The SDK's standard retry for a service: attempts in all, and the ceilings its full-jitter backoff doubles from. */
export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  throttledBaseMs: number;
}

// What the SDK's standard retry takes for throttling, or for transient (a timeout, a socket dropped or refused): those DynamoDB and API Gateway send.
const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'TransactionInProgressException']);
const TRANSIENT = new Set(['TimeoutError', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

const spent = new WeakSet<object>();

/**
 * Whether `retrying` gave up on `err` once its attempts were spent on a busy or unreachable
 * service: a caller's own retry around it would only multiply the attempts and the wait.
 */
export const retriesSpent = (err: unknown): boolean => typeof err === 'object' && err !== null && spent.has(err);

/**
 * Runs `call` (given its attempt, from 1) until it succeeds, or fails with what the SDK's standard
 * retry would not retry, or the policy's attempts are spent: throttling (429 or a throttling
 * error), 500/502/503/504, timeouts and dropped or refused sockets are retried after a full-jitter
 * backoff.
 */
export async function retrying<T>(policy: RetryPolicy, call: (attempt: number) => Promise<T>, sleep: (ms: number) => Promise<unknown>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (err) {
      const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode ?? 0;
      const throttled = status === 429 || THROTTLING.has(e.name ?? '');
      if (!(throttled || TRANSIENT.has(e.name ?? '') || TRANSIENT.has(e.code ?? '') || TRANSIENT_STATUS.has(status))) throw err;
      if (attempt >= policy.attempts) {
        if (typeof err === 'object' && err !== null) spent.add(err);
        throw err;
      }
      await sleep(Math.floor(Math.min(20_000, Math.random() * 2 ** (attempt - 1) * (throttled ? policy.throttledBaseMs : policy.baseMs))));
    }
  }
}

export const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Signed requests to one endpoint of `service`, in `region` (else the environment's, as Lambda sets
 * it; `endpoint` may be made from it).
 */
export class SignedHttp {
  readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly signer: SigV4Signer;
  private readonly request: typeof httpRequest;

  constructor(
    endpoint: string | ((region: string) => string),
    private readonly opts: { service: string; region?: string; env: NodeJS.ProcessEnv; maxSockets: number; timeoutMs: number },
  ) {
    const env = opts.env;
    const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw new Error(`${opts.service}: no region (AWS_REGION)`);
    this.url = new URL(typeof endpoint === 'string' ? endpoint : endpoint(region));
    const secure = this.url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets };
    this.agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.request = secure ? httpsRequest : httpRequest;
    this.signer = new SigV4Signer({
      service: opts.service,
      region,
      // Read at each signing, as the SDK's environment provider would at each client: Lambda sets them per sandbox.
      credentials: () => {
        const accessKeyId = env.AWS_ACCESS_KEY_ID;
        const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
        if (!accessKeyId || !secretAccessKey) throw new Error('no AWS credentials (AWS_ACCESS_KEY_ID)');
        return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }) };
      },
    });
  }

  /**
   * Signs and sends one request (`headers` without `host`); a socket silent for the timeout is
   * given up with a `TimeoutError`, so a stuck connection cannot hang a handler.
   */
  async send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<HttpAnswer> {
    const { url } = this;
    const signed = this.signer.sign({ method, path, headers: { ...headers, host: url.host }, ...(body !== undefined && { body }) });
    return new Promise<HttpAnswer>((resolve, reject) => {
      const r = this.request({ protocol: url.protocol, hostname: url.hostname, port: url.port, method, path, headers: signed, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      r.setTimeout(this.opts.timeoutMs, () => r.destroy(Object.assign(new Error(`no answer in ${this.opts.timeoutMs} ms`), { name: 'TimeoutError' })));
      r.on('error', reject);
      r.end(body);
    });
  }

  destroy(): void {
    this.agent.destroy();
  }
}
