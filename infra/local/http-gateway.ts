import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { httpRouteKey, type HttpRoute } from '#infra/routes.ts';
import type { Invoke } from './lambda.ts';
import type { ClaimsVerifier } from '#shared/adapters/jwt.ts';
import type { StaticHandler } from './static-files.ts';

/** API Gateway HTTP APIs refuse request bodies over 10 MB. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const CORS_HEADERS = 'authorization,content-type';
const CORS_METHODS = 'GET,POST,PUT,PATCH,DELETE';

/** A non-API route the local runtime serves beside the API (the dev issuer); never deployed. */
export type LocalRoute = (req: http.IncomingMessage, body: Buffer) => Promise<{ status: number; body: unknown } | undefined>;

interface CompiledRoute {
  route: HttpRoute;
  regex: RegExp;
  params: string[];
  staticSegments: number;
}

function compile(route: HttpRoute): CompiledRoute {
  const params: string[] = [];
  const segments = route.path.split('/').filter(Boolean);
  const pattern = segments
    .map((s) => {
      const m = /^\{(\w+)\}$/.exec(s);
      if (!m) return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(m[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { route, regex: new RegExp(`^/${pattern}$`), params, staticSegments: segments.length - params.length };
}

/**
 * Emulates an API Gateway HTTP API (payload format 2.0) in front of the same handlers: route
 * matching from the route table, the JWT authorizer (401 `{"message":"Unauthorized"}` exactly as
 * AWS answers, claims in `requestContext.authorizer.jwt.claims`), CORS preflight, the 10 MB limit.
 */
export async function startHttpGateway(opts: {
  host?: string;
  port: number;
  routes: readonly HttpRoute[];
  invoke: Invoke;
  verify: ClaimsVerifier;
  /** IAM authorization of `iam` routes (a SigV4 check); without it those routes refuse everyone. */
  verifyIam?: (req: http.IncomingMessage, url: URL, body: Buffer) => Promise<boolean>;
  local?: LocalRoute;
  /** Local files (the client SDK, the web app), consulted for GET and HEAD before the API routes. */
  files?: StaticHandler;
}): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const host = opts.host ?? '127.0.0.1';
  // Like API Gateway: the most specific route wins (more literal segments first).
  const compiled = opts.routes.map(compile).sort((a, b) => b.staticSegments - a.staticSegments);

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error('[http] gateway error', err);
      if (!res.headersSent) send(res, 500, { message: 'Internal Server Error' });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const origin = req.headers.origin;
    if (origin) res.setHeader('access-control-allow-origin', '*');
    const url = new URL(req.url ?? '/', 'http://local');
    const method = (req.method ?? 'GET').toUpperCase();
    if (method === 'OPTIONS' && origin && req.headers['access-control-request-method']) {
      res.writeHead(204, {
        'access-control-allow-headers': CORS_HEADERS,
        'access-control-allow-methods': CORS_METHODS,
        'access-control-max-age': '3600',
      });
      return res.end();
    }
    if (opts.files && (method === 'GET' || method === 'HEAD') && (await opts.files(req, res))) return;
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, { message: 'Request Entity Too Large' });

    const local = await opts.local?.(req, body);
    if (local) return send(res, local.status, local.body);

    let match: { c: CompiledRoute; values: string[] } | undefined;
    for (const c of compiled) {
      if (c.route.method !== method) continue;
      const m = c.regex.exec(url.pathname);
      if (m) {
        match = { c, values: m.slice(1) };
        break;
      }
    }
    if (!match) return send(res, 404, { message: 'Not Found' });
    const { route } = match.c;

    let claims: Record<string, string> | undefined;
    if (route.auth === 'jwt') {
      const header = req.headers.authorization ?? '';
      const token = header.replace(/^Bearer\s+/i, '').trim();
      try {
        if (!token) throw new Error('no token');
        claims = stringifyClaims(await opts.verify(token));
      } catch {
        return send(res, 401, { message: 'Unauthorized' }, { 'www-authenticate': 'Bearer' });
      }
    }

    // As API Gateway's IAM authorization: an unsigned or badly signed request (a JWT included) gets 403.
    if (route.auth === 'iam' && !(await opts.verifyIam?.(req, url, body))) return send(res, 403, { message: 'Forbidden' });

    const pathParameters: Record<string, string> = {};
    match.c.params.forEach((name, i) => {
      pathParameters[name] = safeDecode(match.values[i]!);
    });
    const event = toEvent(req, url, body, route, pathParameters, claims);
    let result: unknown;
    try {
      result = await opts.invoke(route.fn, event);
    } catch (err) {
      console.error(`[http] ${route.fn} failed`, err);
      return send(res, 500, { message: 'Internal Server Error' });
    }
    writeResult(res, result);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://${host}:${port}/`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The whole body, or `undefined` past the limit. Unlike the `@connections` emulator's reader
 * (http-body.ts), it does not fail a request whose socket closes before the end: with that, the
 * browser tests' keyboard run lost focus after a dialog closed (cause not found), so it keeps
 * this reader, which they pass with.
 */
function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** The JWT authorizer hands claims to the integration as strings (arrays as `[a b]`). */
function stringifyClaims(claims: Record<string, unknown>): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(claims)) {
    out[k] = typeof v === 'string' ? v : Array.isArray(v) ? `[${v.join(' ')}]` : JSON.stringify(v);
  }
  return out;
}

function toEvent(
  req: http.IncomingMessage,
  url: URL,
  body: Buffer,
  route: HttpRoute,
  pathParameters: Record<string, string>,
  claims: Record<string, string> | undefined,
): APIGatewayProxyEventV2WithJWTAuthorizer {
  // Header and parameter names are the client's: objects without a prototype, so none is special.
  const headers = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined && k !== 'cookie') headers[k] = Array.isArray(v) ? v.join(',') : v;
  }
  const query = Object.create(null) as Record<string, string>;
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const now = new Date();
  const isText = /json|text|xml|urlencoded/.test(headers['content-type'] ?? 'application/json');
  const routeKey = httpRouteKey(route);
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(req.headers.cookie && { cookies: req.headers.cookie.split(/;\s*/) }),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    ...(Object.keys(pathParameters).length > 0 && { pathParameters }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: { principalId: claims?.sub ?? '', integrationLatency: 0, jwt: { claims: claims ?? {}, scopes: claims?.scope ? claims.scope.split(' ') : [] } },
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: route.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 && { body: isText ? body.toString('utf8') : body.toString('base64') }),
    isBase64Encoded: body.length > 0 && !isText,
  } as APIGatewayProxyEventV2WithJWTAuthorizer;
}

/** Payload format 2.0 response rules: a `statusCode` object as given; anything else is 200 JSON. */
function writeResult(res: http.ServerResponse, result: unknown) {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    const r = result as { statusCode: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean; cookies?: string[] };
    if (r.cookies?.length) res.setHeader('set-cookie', r.cookies);
    res.writeHead(r.statusCode, r.headers ?? {});
    return res.end(r.body === undefined ? undefined : r.isBase64Encoded ? Buffer.from(r.body, 'base64') : r.body);
  }
  if (typeof result === 'string') return send(res, 200, result);
  send(res, 200, result ?? null);
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}
