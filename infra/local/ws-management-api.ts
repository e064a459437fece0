import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { readBody } from './http-body.ts';
import { verifySigV4, type Credential } from './sigv4.ts';

/** PostToConnection refuses data over 128 KB. */
const MAX_POST_BYTES = 128 * 1024;

export interface ManagedConnection {
  connectedAt: number;
  lastActiveAt: number;
  identity: { sourceIp: string; userAgent: string };
  /** Sends one text frame; rejects when the socket is already going. */
  send(data: Buffer): Promise<void>;
  /** DeleteConnection: closes the socket (the gateway then invokes `$disconnect`). */
  close(): void;
}

/**
 * The `@connections` API of API Gateway on the wire, so the real ApiGatewayManagementApiClient
 * works against it unchanged: `POST|GET|DELETE /[<stage>/]@connections/{id}` with `{id}`
 * URL-decoded. Errors as AWS sends them, `x-amzn-ErrorType` included, since that header is what
 * the SDK turns into `GoneException` and friends: 410 with an empty body for a connection that is
 * unknown or gone, 413 over 128 KB, 403 for an unknown route. Requests must be SigV4-signed
 * (service `execute-api`) with one of `credentials`, as AWS requires IAM credentials: unsigned,
 * signed with an unknown key or with a wrong signature, each gets AWS's 403.
 */
export function createManagementApi(opts: {
  stage: string;
  /** Who may call (the local runtime's credentials, which the functions sign with). */
  credentials: readonly Credential[];
  find(connectionId: string): ManagedConnection | undefined;
}): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  return async (req, res) => {
    const body = await readBody(req, MAX_POST_BYTES);
    // A body past the limit was not kept, so its hash cannot be checked: refused for its size (when signed at all).
    const verdict = body === undefined ? (req.headers.authorization ? 'valid' : 'unsigned') : await verifySigV4(req, body, { service: 'execute-api', credentials: opts.credentials });
    switch (verdict) {
      case 'unsigned':
        return reply(res, 403, 'MissingAuthenticationTokenException', { message: 'Missing Authentication Token' });
      case 'unknown-key':
        return reply(res, 403, 'UnrecognizedClientException', { message: 'The security token included in the request is invalid.' });
      case 'invalid':
        return reply(res, 403, 'InvalidSignatureException', {
          message:
            'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
        });
    }
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0]!;
    const id = connectionIdOf(path, opts.stage);
    if (id === undefined || !['POST', 'GET', 'DELETE'].includes(method)) {
      return reply(res, 403, 'ForbiddenException', {
        message: `No method found matching route ${path.slice(1)} for http method ${method}.`,
      });
    }
    if (body === undefined) return reply(res, 413, 'PayloadTooLargeException', { message: 'Message too long' });
    const conn = opts.find(id);
    if (!conn) return reply(res, 410, 'GoneException');
    if (method === 'GET') {
      return reply(res, 200, undefined, {
        connectedAt: new Date(conn.connectedAt).toISOString(),
        identity: conn.identity,
        lastActiveAt: new Date(conn.lastActiveAt).toISOString(),
      });
    }
    if (method === 'DELETE') {
      conn.close();
      return reply(res, 204);
    }
    try {
      await conn.send(body);
    } catch {
      return reply(res, 410, 'GoneException');
    }
    reply(res, 200);
  };
}

/** `/@connections/{id}` or `/<stage>/@connections/{id}`, split before decoding so an encoded `/` stays in the id. */
function connectionIdOf(path: string, stage: string): string | undefined {
  const segments = path.split('/').slice(1);
  if (segments.length === 3 && segments[0] === stage) segments.shift();
  if (segments.length !== 2) return undefined;
  try {
    const [resource, id] = segments.map(decodeURIComponent);
    return resource === '@connections' && id ? id : undefined;
  } catch {
    return undefined; // malformed percent-encoding
  }
}

function reply(res: http.ServerResponse, status: number, errorType?: string, body?: unknown): void {
  res.statusCode = status;
  res.setHeader('x-amzn-RequestId', randomUUID());
  if (errorType) res.setHeader('x-amzn-ErrorType', errorType);
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
