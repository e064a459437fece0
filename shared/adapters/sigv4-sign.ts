import { createHash, createHmac } from 'node:crypto';

/** The keys a request is signed with (a Lambda role's come with a session token). */
export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A request to sign: `path` as it goes on the wire (no query string), `headers` with `host` (none of the signature's own). */
export interface SigV4Request {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

// Headers a proxy may add, drop or change on the way: never signed (as the SDK's signer leaves them).
const UNSIGNABLE = new Set(['authorization', 'cache-control', 'connection', 'expect', 'from', 'keep-alive', 'max-forwards', 'pragma', 'referer', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'x-amzn-trace-id']);

/** RFC 3986 escaping, as SigV4 wants it (`encodeURIComponent` leaves `!'()*` alone): also how a path label is sent. */
export const uriEscape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * The path as signed: segments normalized (empty, `.` and `..` resolved) and escaped once more,
 * as AWS does for every service but S3 (which signs the path as sent).
 */
function canonicalPath(path: string, uriEscapePath: boolean): string {
  if (!uriEscapePath) return path;
  const segments: string[] = [];
  for (const s of path.split('/')) {
    if (s === '..') segments.pop();
    else if (s && s !== '.') segments.push(s);
  }
  const normalized = `/${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return uriEscape(normalized).replace(/%2F/g, '/');
}

/**
 * AWS Signature Version 4 (`AWS4-HMAC-SHA256`, in the `Authorization` header) on `node:crypto`,
 * for the functions' own DynamoDB and `@connections` clients. Not the SDK's `@smithy/signature-v4`
 * because of what it costs at cold start: it loads `@smithy/core`'s serde, protocol and client
 * parts with it, about 24 ms of every table-backed function's load (a fresh node's spawn to exit,
 * with the DynamoDB marshaller loaded, went from 57.2 ms to 81.6 ms with it; node alone 55.9 ms).
 * It signs these clients' requests as that signer does with its defaults (a test holds it to
 * that signer, and to AWS's published examples): every header but the hop-by-hop ones,
 * `x-amz-date`, `x-amz-security-token` with a session token, `x-amz-content-sha256` (a caller's
 * own taken as the payload's hash, so a frame posted many times is hashed once), the path
 * escaped twice unless `uriEscapePath` is false (S3).
 */
export class SigV4Signer {
  private readonly keys = new Map<string, Buffer>();

  constructor(
    private readonly opts: {
      service: string;
      region: string;
      /** Read at each signing (Lambda sets them per sandbox). */
      credentials: () => SigV4Credentials;
      uriEscapePath?: boolean;
      /** Adds `x-amz-content-sha256` when the caller did not (true unless false). */
      applyChecksum?: boolean;
    },
  ) {}

  /** The request's headers with the signature's own added (`authorization`, `x-amz-date`, ...). */
  sign(req: SigV4Request, date: Date = new Date()): Record<string, string> {
    const { service, region } = this.opts;
    const credentials = this.opts.credentials();
    const headers: Record<string, string> = { ...req.headers };
    let payloadHash = Object.keys(headers).find((name) => name.toLowerCase() === 'x-amz-content-sha256');
    payloadHash &&= headers[payloadHash];
    const longDate = date.toISOString().replace(/[-:]|\.\d+/g, '');
    const shortDate = longDate.slice(0, 8);
    headers['x-amz-date'] = longDate;
    if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
    if (!payloadHash) {
      payloadHash = sha256Hex(req.body ?? '');
      if (this.opts.applyChecksum !== false) headers['x-amz-content-sha256'] = payloadHash;
    }

    const canonical = new Map<string, string>();
    for (const name of Object.keys(headers).sort()) {
      const lower = name.toLowerCase();
      if (UNSIGNABLE.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) continue;
      canonical.set(lower, headers[name]!.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, ''));
    }
    const names = [...canonical.keys()].sort();
    const signedHeaders = names.join(';');
    const canonicalRequest = [
      req.method,
      canonicalPath(req.path, this.opts.uriEscapePath !== false),
      '',
      names.map((n) => `${n}:${canonical.get(n)}`).join('\n'),
      '',
      signedHeaders,
      payloadHash,
    ].join('\n');
    const scope = `${shortDate}/${region}/${service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signature = createHmac('sha256', this.signingKey(credentials.secretAccessKey, shortDate)).update(stringToSign).digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  /** The day's key: four HMACs, made once a day per secret (the role's keys turn over hourly). */
  private signingKey(secret: string, shortDate: string): Buffer {
    const id = `${shortDate}\n${secret}`;
    let key = this.keys.get(id);
    if (!key) {
      if (this.keys.size >= 16) this.keys.clear();
      key = Buffer.from(`AWS4${secret}`, 'utf8');
      for (const part of [shortDate, this.opts.region, this.opts.service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
      this.keys.set(id, key);
    }
    return key;
  }
}
