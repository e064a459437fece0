import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '#shared/adapters/sha256.ts';

/** A frame's body as posted: its bytes and their SHA-256 (hex), made once for every post of it. */
export interface PostBody {
  bytes: Buffer;
  sha256: string;
}

/** One exchange with the `@connections` endpoint, as sent and as answered. */
export interface ConnectionsRequest {
  method: 'POST' | 'DELETE';
  connectionId: string;
  body?: PostBody;
}
export interface ConnectionsResponse {
  status: number;
  /** `x-amzn-ErrorType` (AWS names the error there), when the answer is an error. */
  errorType?: string;
  body: string;
}

/** An error the endpoint answered with, shaped as the SDK's service exceptions are (name, message, status). */
export class ConnectionsApiError extends Error {
  readonly $metadata: { httpStatusCode: number; attempts: number };
  constructor(name: string, message: string, status: number, attempts: number) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status, attempts };
  }
}

/** What the SDK's standard retry does: 3 attempts, full-jitter exponential backoff (500 ms base when throttled, else 100 ms). */
const MAX_ATTEMPTS = 3;
const BASE_DELAY_MS = 100;
const THROTTLED_BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 20_000;
const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException', 'Throttling', 'RequestLimitExceeded']);
const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/** The SDK's `extendedEncodeURIComponent`: a connection id is a path label. */
const encodeLabel = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The `@connections` API (PostToConnection, DeleteConnection) on Node's HTTP client, signed by the
 * SDK's own SigV4 signer: what ApiGatewayManagementApiClient sends, without the SDK's per-call
 * middleware stack, which costs more CPU than the post itself in a fan-out of thousands. Keeps
 * what the SDK client did: credentials from the environment (Lambda's role), kept-alive sockets,
 * its standard retry of throttling, 5xx and dropped sockets, errors named by `x-amzn-ErrorType`.
 */
export class ConnectionsApi {
  private readonly url: URL;
  private readonly basePath: string;
  private readonly agent: HttpAgent;
  private readonly signer: SignatureV4;
  private readonly request: typeof httpRequest;

  constructor(
    endpoint: string,
    opts: { maxSockets: number; region?: string; env?: NodeJS.ProcessEnv },
  ) {
    this.url = new URL(endpoint);
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    const secure = this.url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets };
    this.agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.request = secure ? httpsRequest : httpRequest;
    const env = opts.env ?? process.env;
    const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(this.url.hostname)?.[1];
    if (!region) throw new Error('ConnectionsApi: no region (AWS_REGION)');
    this.signer = new SignatureV4({
      service: 'execute-api',
      region,
      sha256: Sha256,
      // Read at each signing, as the SDK's environment provider would at each client: Lambda sets them per sandbox.
      credentials: async () => {
        const accessKeyId = env.AWS_ACCESS_KEY_ID;
        const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
        if (!accessKeyId || !secretAccessKey) throw new Error('ConnectionsApi: no credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
        return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }) };
      },
    });
  }

  /** A frame's body, to post as is to many connections. */
  static body(data: string): PostBody {
    const bytes = Buffer.from(data, 'utf8');
    return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  /** PostToConnection: `gone` when API Gateway no longer knows the connection (410). */
  async post(connectionId: string, body: PostBody): Promise<'sent' | 'gone'> {
    const res = await this.call({ method: 'POST', connectionId, body });
    return res === 'gone' ? 'gone' : 'sent';
  }

  /** DeleteConnection: `gone` when it was already. */
  async delete(connectionId: string): Promise<'deleted' | 'gone'> {
    const res = await this.call({ method: 'DELETE', connectionId });
    return res === 'gone' ? 'gone' : 'deleted';
  }

  destroy(): void {
    this.agent.destroy();
  }

  private async call(req: ConnectionsRequest): Promise<'ok' | 'gone'> {
    for (let attempt = 1; ; attempt++) {
      let res: ConnectionsResponse;
      try {
        res = await this.exchange(req);
      } catch (err) {
        if (attempt < MAX_ATTEMPTS && TRANSIENT_NETWORK.has((err as NodeJS.ErrnoException).code ?? '')) {
          await backoff(BASE_DELAY_MS, attempt);
          continue;
        }
        throw err;
      }
      if (res.status < 300) return 'ok';
      if (res.status === 410) return 'gone';
      const throttled = res.status === 429 || THROTTLING.has(res.errorType ?? '');
      if (attempt < MAX_ATTEMPTS && (throttled || res.status >= 500)) {
        await backoff(throttled ? THROTTLED_BASE_DELAY_MS : BASE_DELAY_MS, attempt);
        continue;
      }
      throw errorOf(res, attempt);
    }
  }

  /** One signed request and its answer. */
  exchange(req: ConnectionsRequest): Promise<ConnectionsResponse> {
    return this.signed(req).then(
      (headers) =>
        new Promise<ConnectionsResponse>((resolve, reject) => {
          const r = this.request(
            {
              protocol: this.url.protocol,
              hostname: this.url.hostname,
              port: this.url.port,
              method: req.method,
              path: this.pathOf(req.connectionId),
              headers,
              agent: this.agent,
            },
            (res: IncomingMessage) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('error', reject);
              res.on('end', () => {
                const type = res.headers['x-amzn-errortype'];
                resolve({
                  status: res.statusCode ?? 0,
                  ...(typeof type === 'string' && { errorType: type.split(':')[0] }),
                  body: chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8'),
                });
              });
            },
          );
          r.on('error', reject);
          r.end(req.body?.bytes);
        }),
    );
  }

  private pathOf(connectionId: string): string {
    return `${this.basePath}/@connections/${encodeLabel(connectionId)}`;
  }

  private async signed(req: ConnectionsRequest): Promise<Record<string, string>> {
    const headers: Record<string, string> = { host: this.url.host };
    if (req.body) {
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = String(req.body.bytes.length);
      // Hashed once per frame, not once per post: the signer takes the header as the payload's hash.
      headers['x-amz-content-sha256'] = req.body.sha256;
    }
    const signed = await this.signer.sign({
      method: req.method,
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      path: this.pathOf(req.connectionId),
      query: {},
      headers,
      ...(req.body && { body: req.body.bytes }),
    });
    return signed.headers;
  }
}

function backoff(base: number, attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.floor(Math.min(MAX_DELAY_MS, Math.random() * 2 ** attempt * base))));
}

function errorOf(res: ConnectionsResponse, attempts: number): ConnectionsApiError {
  let message = `@connections answered ${res.status}`;
  try {
    const parsed = res.body ? (JSON.parse(res.body) as { message?: unknown; Message?: unknown }) : {};
    const m = parsed.message ?? parsed.Message;
    if (typeof m === 'string') message = m;
  } catch {
    // not JSON: the status says it
  }
  return new ConnectionsApiError(res.errorType ?? (res.status === 429 ? 'TooManyRequestsException' : `Http${res.status}`), message, res.status, attempts);
}
