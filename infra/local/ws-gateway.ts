import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { WsRoute } from '#infra/routes.ts';
import type { Invoke } from './lambda.ts';
import { LOCAL_REGION } from './services.ts';
import { invokeLambda, newAwsId, parseProxyResult, requestTime, runAuthorizer } from './ws-integration.ts';
import { createManagementApi, type ManagedConnection } from './ws-management-api.ts';
import type { Credential } from './sigv4.ts';

export interface WsGatewayOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0: any free port. */
  port: number;
  routes: readonly WsRoute[];
  /** The `$connect` REQUEST authorizer; none: every upgrade goes straight to `$connect`. */
  authorizerFn?: string;
  invoke: Invoke;
  /** Closed after this long without an inbound data frame (AWS: 10 minutes). */
  idleTimeoutMs: number;
  /** Closed after this long whatever happens (AWS: 2 hours). */
  maxConnectionMs: number;
  /** Larger frames close the connection with 1009 (AWS: 32 KB). */
  maxFrameBytes?: number;
  /** Default `local`. */
  stage?: string;
  /** The credentials `@connections` requests must be signed with (SigV4, `execute-api`). */
  managementCredentials: readonly Credential[];
  /** Default `local`. */
  apiId?: string;
  /** Default: AWS-like ids (16 base64 characters that may hold `+`, `/` and `=`). */
  newConnectionId?: () => string;
  logger?: Pick<Console, 'warn' | 'error'>;
}

export interface WsGateway {
  /** `ws://host:port/` (`ws://host:port/<stage>` works too, as the AWS URL does). */
  url: string;
  /** `http://host:port`: the `@connections` endpoint for ApiGatewayManagementApiClient. */
  callbackUrl: string;
  connectionCount(): number;
  /**
   * Resolves once every `$disconnect` under way has run, those of connections closing meanwhile
   * included: a closed connection leaves `connectionCount()` at once, its `$disconnect` after.
   */
  disconnectsDone(): Promise<void>;
  /**
   * Closes every connection (1001; each gets its `$disconnect`) and refuses new ones, waiting for
   * running handlers; the `@connections` API still answers (410 for every connection), so stream
   * consumers finishing their work meet no closed port.
   */
  closeConnections(): Promise<void>;
  /** closeConnections(), then the server. */
  stop(): Promise<void>;
}

interface Identity {
  sourceIp: string;
  userAgent: string;
}

/** What every event of one connection shares. */
interface ConnectionInfo {
  id: string;
  connectedAt: number;
  identity: Identity;
  authorizer?: Record<string, unknown>;
}

interface Connection extends ConnectionInfo {
  ws: WebSocket;
  lastActiveAt: number;
  /** Set when the gateway closes the socket itself: the code and reason `$disconnect` reports. */
  closing?: { code: number; reason: string };
}

const ACCOUNT_ID = '000000000000';
/** A server-initiated close waits this long for the client's close frame before dropping the socket. */
const CLOSE_GRACE_MS = 1_000;
/** `disconnectReason` when the close frame carries none; 1000 and 1005 are AWS's texts. */
const CLOSE_REASONS: Record<number, string> = {
  1000: 'Connection Closed Normally',
  1001: 'Going away',
  1003: 'Binary frames are not supported',
  1005: 'Client-side close frame status not set',
  1006: 'Connection was closed abnormally',
  1007: 'Invalid UTF-8 in text frame',
  1009: 'Message too big',
};

/**
 * Emulates an API Gateway WebSocket API in front of the same Lambda handlers: the `$connect`
 * authorizer and route decide the upgrade, frames are routed on `$request.body.type` with route
 * responses sent back, `$disconnect` follows every accepted connection exactly once, idle and
 * lifetime limits apply, and the `@connections` API is served on the same port.
 *
 * @example
 * const gw = await startWsGateway({ port: 3001, routes: wsRoutes, authorizerFn: wsAuthorizerFn, invoke,
 *   idleTimeoutMs: 10 * 60_000, maxConnectionMs: 2 * 3_600_000 });
 */
export async function startWsGateway(opts: WsGatewayOptions): Promise<WsGateway> {
  const host = opts.host ?? '127.0.0.1';
  const stage = opts.stage ?? 'local';
  const apiId = opts.apiId ?? 'local';
  const newConnectionId = opts.newConnectionId ?? newAwsId;
  const logger = opts.logger ?? console;
  const { invoke } = opts;
  const routes = new Map(opts.routes.map((r) => [r.routeKey, r]));
  const connections = new Map<string, Connection>();
  /** Upgrades, message invocations and connection lifetimes still under way; stop() waits for them. None ever rejects. */
  const tasks = new Set<Promise<void>>();
  let stopping = false;
  let domainName = host;

  /** Accepted upgrades, from the end of `$connect` to `open()`. */
  const admitted = new WeakMap<http.IncomingMessage, ConnectionInfo>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxFrameBytes ?? 32 * 1024,
    // API Gateway does not negotiate permessage-deflate.
    perMessageDeflate: false,
    // Called once ws has validated the handshake, so a malformed upgrade reaches no handler.
    verifyClient: ({ req }, done) =>
      track(
        admit(req)
          .catch((err: unknown) => {
            logger.error('[ws] upgrade failed', err);
            return refusal(500, 'Internal server error');
          })
          .then((refused) => (refused ? done(false, refused.status, refused.body, JSON_CONTENT) : done(true))),
      ),
  });
  /** Each connection's face to the `@connections` API, made on its first call: a fan-out asks for every connection once per event. */
  const managed = new WeakMap<Connection, ManagedConnection>();
  const managedOf = (conn: Connection): ManagedConnection => {
    let face = managed.get(conn);
    if (!face) {
      face = {
        connectedAt: conn.connectedAt,
        get lastActiveAt() {
          return conn.lastActiveAt;
        },
        identity: conn.identity,
        send: (data) => new Promise((resolve, reject) => conn.ws.send(data, { binary: false }, (err) => (err ? reject(err) : resolve()))),
        close: () => closeConnection(conn, 1000),
      };
      managed.set(conn, face);
    }
    return face;
  };
  const managementApi = createManagementApi({
    stage,
    credentials: opts.managementCredentials,
    find(id) {
      const conn = connections.get(id);
      // Gone as soon as either side starts closing, though the close handshake may still be under way.
      return conn && conn.ws.readyState === WebSocket.OPEN ? managedOf(conn) : undefined;
    },
  });

  const server = http.createServer((req, res) => {
    if (isSocketPath(req.url)) {
      // A plain request to the WebSocket URL: say what it takes.
      res.writeHead(426, { upgrade: 'websocket', 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Upgrade Required' }));
      return;
    }
    managementApi(req, res).catch((err: unknown) => {
      logger.error('[ws] @connections request failed', err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => logger.warn('[ws] socket error', err));
    wss.handleUpgrade(req, socket, head, (ws) => open(ws, admitted.get(req)!));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  // Known once listening, since port may be 0.
  const { port } = server.address() as { port: number };
  domainName = `${host}:${port}`;

  /** `$disconnect` invocations under way (each never rejects). */
  const disconnecting = new Set<Promise<void>>();

  function track(task: Promise<void>): void {
    tasks.add(task);
    void task.then(() => tasks.delete(task));
  }

  function isSocketPath(url = '/'): boolean {
    const path = url.split('?')[0];
    return path === '/' || path === `/${stage}` || path === `/${stage}/`;
  }

  function contextOf(info: ConnectionInfo, routeKey: string, eventType: string, extra: object = {}) {
    const now = Date.now();
    const requestId = newAwsId();
    return {
      routeKey,
      eventType,
      extendedRequestId: requestId,
      requestTime: requestTime(now),
      messageDirection: 'IN',
      stage,
      connectedAt: info.connectedAt,
      requestTimeEpoch: now,
      identity: info.identity,
      requestId,
      domainName,
      connectionId: info.id,
      apiId,
      ...(info.authorizer && { authorizer: info.authorizer }),
      ...extra,
    };
  }

  /** The `$connect` phase: the authorizer, then the `$connect` route. `undefined`: upgrade. */
  async function admit(req: http.IncomingMessage): Promise<Refusal | undefined> {
    if (!isSocketPath(req.url)) return refusal(403, 'Forbidden');
    const info: ConnectionInfo = {
      id: newConnectionId(),
      connectedAt: Date.now(),
      identity: {
        sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
        userAgent: req.headers['user-agent'] ?? '',
      },
    };
    const request = { ...headersOf(req), ...queryOf(req.url ?? '/') };

    if (opts.authorizerFn) {
      const event = {
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:${LOCAL_REGION}:${ACCOUNT_ID}:${apiId}/${stage}/$connect`,
        queryStringParameters: {},
        multiValueQueryStringParameters: {},
        ...request,
        stageVariables: {},
        requestContext: contextOf(info, '$connect', 'CONNECT'),
      };
      const verdict = await runAuthorizer(invoke, opts.authorizerFn, event);
      if (!verdict.allowed) return refusal(verdict.status, verdict.message);
      info.authorizer = verdict.authorizer;
    }

    const connectRoute = routes.get('$connect');
    if (connectRoute) {
      const event = { ...request, requestContext: contextOf(info, '$connect', 'CONNECT'), isBase64Encoded: false };
      const result = await integrate(connectRoute, info, event);
      // A failed integration is a 502 in API Gateway.
      if (!result) return refusal(502, 'Internal server error');
      if (result.statusCode < 200 || result.statusCode > 299) {
        return { status: result.statusCode, body: result.body ?? '' };
      }
    }

    // The client may have left while the handlers ran (ws would then drop it silently); `$connect` succeeded, so `$disconnect` is owed.
    if (!req.socket.readable || !req.socket.writable) {
      await disconnect(info, 1006, CLOSE_REASONS[1006]!);
      return refusal(410, 'Gone');
    }
    admitted.set(req, info);
    return undefined;
  }

  /** Invokes a route's function; `undefined` when it threw or answered a malformed proxy response (both logged). */
  async function integrate(route: WsRoute, info: ConnectionInfo, event: object) {
    try {
      const result = parseProxyResult(await invokeLambda(invoke, route.fn, event));
      if (!result) logger.error(`[ws] ${route.fn}: malformed Lambda proxy response for ${info.id}`);
      return result;
    } catch (err) {
      logger.error(`[ws] ${route.fn} failed for ${info.id}`, err);
      return undefined;
    }
  }

  function open(ws: WebSocket, info: ConnectionInfo): void {
    const conn: Connection = { ...info, ws, lastActiveAt: info.connectedAt };
    connections.set(conn.id, conn);
    const idle = setTimeout(() => closeConnection(conn, 1001), opts.idleTimeoutMs);
    const lifetime = setTimeout(() => closeConnection(conn, 1001), opts.maxConnectionMs);

    ws.on('message', (data, isBinary) => {
      // API Gateway refuses binary frames and disconnects the client with 1003.
      if (isBinary) return closeConnection(conn, 1003);
      conn.lastActiveAt = Date.now();
      idle.refresh();
      track(onMessage(conn, data.toString()));
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws has already answered a protocol error with a close frame; its 'close' event will not say which.
      const code = protocolErrorCloseCode(err.code);
      if (code) conn.closing ??= { code, reason: CLOSE_REASONS[code] ?? err.message };
      logger.warn(`[ws] connection ${conn.id}: ${err.message}`);
    });
    track(
      new Promise<void>((resolve) =>
        ws.once('close', (code, reason) => {
          clearTimeout(idle);
          clearTimeout(lifetime);
          connections.delete(conn.id);
          const closed = conn.closing ?? { code, reason: reason.toString() || (CLOSE_REASONS[code] ?? '') };
          const done = disconnect(conn, closed.code, closed.reason);
          disconnecting.add(done);
          void done.then(() => {
            disconnecting.delete(done);
            resolve();
          });
        }),
      ),
    );
    if (stopping) closeConnection(conn, 1001);
  }

  /** Route selection on `$request.body.type`, the integration, and the route response. */
  async function onMessage(conn: Connection, body: string): Promise<void> {
    const route = selectRoute(body);
    if (!route) return sendFrame(conn, JSON.stringify({ message: 'Forbidden', connectionId: conn.id, requestId: newAwsId() }));
    const requestContext = contextOf(conn, route.routeKey, 'MESSAGE', { messageId: newAwsId() });
    const result = await integrate(route, conn, { requestContext, body, isBase64Encoded: false });
    if (!result) {
      const error = { message: 'Internal server error', connectionId: conn.id, requestId: requestContext.requestId };
      return sendFrame(conn, JSON.stringify(error));
    }
    // Every route but $connect/$disconnect has a route response, so a body goes back whatever the status.
    if (result.body) sendFrame(conn, result.body);
  }

  function selectRoute(body: string): WsRoute | undefined {
    let type: unknown;
    try {
      const frame: unknown = JSON.parse(body);
      if (typeof frame === 'object' && frame !== null && !Array.isArray(frame)) type = (frame as { type?: unknown }).type;
    } catch {
      // Not JSON: $default.
    }
    const match = typeof type === 'string' && !type.startsWith('$') ? routes.get(type) : undefined;
    return match ?? routes.get('$default');
  }

  function sendFrame(conn: Connection, text: string): void {
    // A reply to a client that has left is dropped, as in AWS.
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    conn.ws.send(text, (err) => err && logger.warn(`[ws] send to ${conn.id} failed: ${err.message}`));
  }

  function closeConnection(conn: Connection, code: number): void {
    if (conn.closing) return;
    const reason = CLOSE_REASONS[code] ?? '';
    conn.closing = { code, reason };
    conn.ws.close(code, reason);
    setTimeout(() => conn.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  async function disconnect(info: ConnectionInfo, code: number, reason: string): Promise<void> {
    const route = routes.get('$disconnect');
    if (!route) return;
    const requestContext = contextOf(info, '$disconnect', 'DISCONNECT', { disconnectStatusCode: code, disconnectReason: reason });
    try {
      await invokeLambda(invoke, route.fn, { requestContext, isBase64Encoded: false });
    } catch (err) {
      logger.error(`[ws] ${route.fn} failed for ${info.id}`, err);
    }
  }

  let drained: Promise<void> | undefined;
  async function closeConnections(): Promise<void> {
    stopping = true;
    for (const conn of connections.values()) closeConnection(conn, 1001);
    while (tasks.size > 0) await Promise.all(tasks);
  }
  let stopped: Promise<void> | undefined;
  async function stop(): Promise<void> {
    await (drained ??= closeConnections());
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  return {
    url: `ws://${domainName}/`,
    callbackUrl: `http://${domainName}`,
    connectionCount: () => connections.size,
    async disconnectsDone() {
      while (disconnecting.size > 0) await Promise.all(disconnecting);
    },
    closeConnections: () => (drained ??= closeConnections()),
    stop: () => (stopped ??= stop()),
  };
}

/** An HTTP answer to the upgrade request instead of 101. */
interface Refusal {
  status: number;
  body: string;
}

const refusal = (status: number, message: string): Refusal => ({ status, body: JSON.stringify({ message }) });
const JSON_CONTENT = { 'Content-Type': 'application/json' };

/** Headers as the client spelled them (API Gateway does not lower-case them); the last value wins in `headers`. */
function headersOf(req: http.IncomingMessage) {
  // Names are the client's: objects without a prototype, so `constructor` or `__proto__` is just a name.
  const headers = Object.create(null) as Record<string, string>;
  const multiValueHeaders = Object.create(null) as Record<string, string[]>;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const [name, value] = [req.rawHeaders[i]!, req.rawHeaders[i + 1]!];
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  return { headers, multiValueHeaders };
}

/** Absent from `$connect` events when the URL has no query string, as in AWS. */
function queryOf(url: string) {
  const params = new URL(url, 'http://localhost').searchParams;
  if (params.size === 0) return {};
  const queryStringParameters = Object.create(null) as Record<string, string>;
  const multiValueQueryStringParameters = Object.create(null) as Record<string, string[]>;
  for (const [name, value] of params) {
    queryStringParameters[name] = value;
    (multiValueQueryStringParameters[name] ??= []).push(value);
  }
  return { queryStringParameters, multiValueQueryStringParameters };
}

/** The close code ws sent for a protocol error (its `error.code`), for `disconnectStatusCode`. */
function protocolErrorCloseCode(code: string | undefined): number | undefined {
  if (!code?.startsWith('WS_ERR_')) return undefined;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') return 1009;
  if (code === 'WS_ERR_INVALID_UTF8') return 1007;
  if (code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS') return 1008;
  return 1002;
}
