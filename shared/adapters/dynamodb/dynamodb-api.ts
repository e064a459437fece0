import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { SignedHttp, retrying, serviceError, wait, type AwsServiceError, type RetryPolicy } from '#shared/adapters/aws-http.ts';

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
 * An error DynamoDB answered with, as the SDK's exceptions are: `name` from `__type`, `message`,
 * `$metadata`, and the fields the stores read (the item a failed condition found, a cancelled
 * transaction's reasons) in DynamoDB's attribute values, binary decoded, as the SDK leaves them.
 */
export type DynamoDbError = AwsServiceError & { Item?: Record<string, AttributeValue>; CancellationReasons?: CancellationReason[] };

/** The SDK's standard retry as its DynamoDB client sets it: 4 attempts, full-jitter backoff from 25 ms (1 s when throttled). */
const RETRY: RetryPolicy = { attempts: 4, baseMs: 25, throttledBaseMs: 1000 };

/** Attribute values come as JSON; binary ones (`B`, `BS`) as base64, which the SDK decodes to bytes. */
const binaryFromBase64 = (key: string, value: unknown): unknown =>
  key === 'B' && typeof value === 'string' ? bytes(value) : key === 'BS' && Array.isArray(value) ? value.map(bytes) : value;
/**
 * An output parsed, binary values decoded. A reviver makes JSON.parse nearly three times slower
 * (a presence read of 100 items), and most outputs hold no binary value. A value of type `B`
 * or `BS` is the key `"B"` or `"BS"` followed by a colon; inside a string every quote is escaped,
 * so only a key can match.
 */
const BINARY_KEY = /"BS?"\s*:/;
const parseOutput = (body: string): Record<string, unknown> => (BINARY_KEY.test(body) ? JSON.parse(body, binaryFromBase64) : JSON.parse(body)) as Record<string, unknown>;
const bytes = (base64: string) => {
  const b = Buffer.from(base64, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/**
 * DynamoDB's JSON 1.0 API (`POST /`, `X-Amz-Target: DynamoDB_20120810.<Op>`) on Node's HTTP client,
 * signed with SigV4 (aws-http.ts): what DynamoDBClient sends, without the SDK's
 * client and its middleware stack, which a function would otherwise load (tens of milliseconds of
 * cold start) before its first call. Keeps what that client did: endpoint and region from the
 * environment (`AWS_ENDPOINT_URL_DYNAMODB` or `AWS_ENDPOINT_URL`, else the region's), credentials
 * from the environment (Lambda's role), kept-alive sockets (50, as the SDK's), its standard retry,
 * errors named by `__type`. It speaks attribute values: marshalling is the table client's.
 */
export class DynamoDbApi {
  private readonly http: SignedHttp;
  private readonly sleep: (ms: number) => Promise<unknown>;

  constructor(
    opts: {
      /** Overrides the environment's endpoint (a test's DynamoDB Local). */
      endpoint?: string;
      region?: string;
      env?: NodeJS.ProcessEnv;
      maxSockets?: number;
      /** A socket silent this long is given up (and retried); 5 s unless given. */
      timeoutMs?: number;
      /** How a retry waits (a test may record the waits instead). */
      sleep?: (ms: number) => Promise<unknown>;
    } = {},
  ) {
    const env = opts.env ?? process.env;
    const endpoint = opts.endpoint ?? (env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || ((region: string) => `https://dynamodb.${region}.amazonaws.com`));
    this.http = new SignedHttp(endpoint, { service: 'dynamodb', region: opts.region, env, maxSockets: opts.maxSockets ?? 50, timeoutMs: opts.timeoutMs ?? 5000 });
    this.sleep = opts.sleep ?? wait;
  }

  /**
   * Calls `operation` with `body` (its input as JSON, attribute values marshalled) and gives its
   * output parsed; an error DynamoDB answered is thrown as a DynamoDbError once retries are spent.
   */
  send(operation: string, body: string): Promise<Record<string, unknown>> {
    return retrying(
      RETRY,
      async (attempt) => {
        const res = await this.exchange({ operation, body });
        if (res.status < 300) return parseOutput(res.body);
        throw serviceError(res, attempt, binaryFromBase64);
      },
      this.sleep,
    );
  }

  destroy(): void {
    this.http.destroy();
  }

  /** One signed request and its answer: the one place a request leaves (the local runtime checks its IAM here). */
  async exchange(req: DynamoDbRequest): Promise<DynamoDbResponse> {
    const headers = { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(Buffer.byteLength(req.body)), 'x-amz-target': `DynamoDB_20120810.${req.operation}` };
    const res = await this.http.send('POST', '/', headers, req.body);
    const id = res.headers['x-amzn-requestid'];
    return { status: res.status, body: res.body, ...(typeof id === 'string' && { requestId: id }) };
  }
}
