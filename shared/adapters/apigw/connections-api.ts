import { createHash } from 'node:crypto';
import { SignedHttp, retrying, serviceError, wait, type RetryPolicy } from '#shared/adapters/aws-http.ts';
import { uriEscape } from '#shared/adapters/sigv4-sign.ts';

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

/** What the SDK's standard retry did for this client: 3 attempts, full-jitter exponential backoff (500 ms base when throttled, else 100 ms). */
const RETRY: RetryPolicy = { attempts: 3, baseMs: 100, throttledBaseMs: 500 };

/**
 * The `@connections` API (PostToConnection, DeleteConnection) on Node's HTTP client, signed with
 * SigV4 (aws-http.ts): what ApiGatewayManagementApiClient sends, without the
 * SDK's per-call middleware stack, which costs more CPU than the post itself in a fan-out of
 * thousands. Keeps what the SDK client did: credentials from the environment (Lambda's role),
 * kept-alive sockets, its standard retry of throttling, 5xx and dropped sockets, errors named by
 * `x-amzn-ErrorType`.
 */
export class ConnectionsApi {
  private readonly http: SignedHttp;
  private readonly basePath: string;

  constructor(
    endpoint: string,
    opts: { maxSockets: number; region?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
  ) {
    const env = opts.env ?? process.env;
    // Else the region an `execute-api` endpoint names in its host.
    const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(endpoint)?.[1];
    this.http = new SignedHttp(endpoint, { service: 'execute-api', ...(region && { region }), env, maxSockets: opts.maxSockets, timeoutMs: opts.timeoutMs ?? 5000 });
    this.basePath = this.http.url.pathname.replace(/\/+$/, '');
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
    this.http.destroy();
  }

  private call(req: ConnectionsRequest): Promise<'ok' | 'gone'> {
    return retrying(
      RETRY,
      async (attempt) => {
        const res = await this.exchange(req);
        if (res.status < 300) return 'ok';
        if (res.status === 410) return 'gone';
        throw serviceError({ ...res, type: res.errorType }, attempt);
      },
      wait,
    );
  }

  /** One signed request and its answer. */
  async exchange(req: ConnectionsRequest): Promise<ConnectionsResponse> {
    // A connection id is a path label, escaped as the SDK's `extendedEncodeURIComponent` does (and once more when signed).
    // Hashed once per frame, not once per post: the signer takes the header as the payload's hash.
    const headers: Record<string, string> = req.body
      ? { 'content-type': 'application/octet-stream', 'content-length': String(req.body.bytes.length), 'x-amz-content-sha256': req.body.sha256 }
      : {};
    const res = await this.http.send(req.method, `${this.basePath}/@connections/${uriEscape(req.connectionId)}`, headers, req.body?.bytes);
    const type = res.headers['x-amzn-errortype'];
    return { status: res.status, ...(typeof type === 'string' && { errorType: type.split(':')[0] }), body: res.body };
  }
}
