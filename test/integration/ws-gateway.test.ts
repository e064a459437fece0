import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { WsRoute } from '#infra/routes.ts';
import type { Invoke } from '#infra/local/lambda.ts';
import { startWsGateway, type WsGateway } from '#infra/local/ws-gateway.ts';
import { signedFetch } from '#test/support/service.ts';

/** What the management API accepts (the runtime's credentials, locally). */
const CREDENTIAL = { accessKeyId: 'local', secretAccessKey: 'local', region: 'us-east-1' };

// Events are whatever the gateway built; the assertions below pin their shape.
type Event = any;

const ROUTES: WsRoute[] = [
  { routeKey: '$connect', fn: 'connect' },
  { routeKey: '$disconnect', fn: 'disconnect' },
  { routeKey: '$default', fn: 'echo' },
  { routeKey: 'echo', fn: 'echo' },
  { routeKey: 'reply', fn: 'reply' },
  { routeKey: 'boom', fn: 'boom' },
  { routeKey: 'slow', fn: 'slow' },
];
const AUTHORIZER = { principalId: 'user-1', integrationLatency: expect.any(Number), userId: 'user-1', n: '7', admin: 'true' };
const REQUEST_TIME = /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/;
const INTERNAL_ERROR = { message: 'Internal server error', connectionId: expect.any(String), requestId: expect.any(String) };
const WAIT = { timeout: 10_000, interval: 5 };

/** Resolves with what `find` finds, once it finds something. */
function eventually<T>(find: () => T | undefined): Promise<T> {
  return vi.waitFor(() => {
    const found = find();
    if (found === undefined) throw new Error('not yet');
    return found;
  }, WAIT);
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function policy(effect: 'Allow' | 'Deny', resource: string, context?: Record<string, unknown>) {
  return {
    principalId: 'user-1',
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }] },
    ...(context && { context }),
  };
}

/** The Lambda functions, played by this file: each call is recorded with its event. */
function playHandlers() {
  const calls: { fn: string; event: Event }[] = [];
  const state = { gate: deferred(), failingDisconnects: new Set<string>(), heldDisconnects: new Set<string>(), disconnected: new Set<string>() };
  const handlers: Record<string, (e: Event) => unknown> = {
    auth(e) {
      const token = e.queryStringParameters.token ?? /^Bearer (.+)$/.exec(e.headers.Authorization ?? '')?.[1];
      switch (token) {
        case 'good':
          return policy('Allow', e.methodArn, { userId: 'user-1', n: 7, admin: true });
        case 'wildcard':
          return policy('Allow', e.methodArn.replace(/\$connect$/, '*'));
        case 'deny':
          return policy('Deny', e.methodArn);
        case 'elsewhere':
          return policy('Allow', e.methodArn.replace('$connect', 'message_send'));
        case 'nested':
          return policy('Allow', e.methodArn, { user: { id: 'user-1' } });
        case 'malformed':
          return 'allow';
        case 'crash':
          throw new Error('issuer unreachable');
        default:
          throw new Error('Unauthorized');
      }
    },
    async connect(e) {
      const query = e.queryStringParameters ?? {};
      if (query.hold) await state.gate.promise;
      if (query.connect === 'throw') throw new Error('$connect crashed');
      return query.connect ? { statusCode: Number(query.connect), body: 'refused by $connect' } : { statusCode: 200 };
    },
    async disconnect(e) {
      const id = e.requestContext.connectionId;
      if (state.failingDisconnects.has(id)) throw new Error('disconnect handler crashed');
      if (state.heldDisconnects.has(id)) await state.gate.promise;
      state.disconnected.add(id);
      return { statusCode: 200 };
    },
    echo: (e) => ({ statusCode: 200, body: JSON.stringify(e) }),
    reply: (e) => JSON.parse(e.body).result,
    boom() {
      throw new Error('handler crashed');
    },
    async slow() {
      await state.gate.promise;
      return { statusCode: 200, body: 'slow done' };
    },
  };
  const invoke: Invoke = async (fn, event) => {
    calls.push({ fn, event });
    return handlers[fn]!(event);
  };
  const eventsOf = (fn: string, connectionId: string): Event[] =>
    calls.filter((c) => c.fn === fn && c.event.requestContext.connectionId === connectionId).map((c) => c.event);
  return { calls, state, invoke, eventsOf };
}

interface Client {
  ws: WebSocket;
  next(): Promise<string>;
  nextJson(): Promise<Event>;
  send(frame: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
}

function watch(ws: WebSocket): Omit<Client, 'ws'> {
  const frames: string[] = [];
  let wake = () => {};
  ws.on('message', (data) => {
    frames.push(data.toString());
    wake();
  });
  const next = async () => {
    while (frames.length === 0) await new Promise<void>((r) => (wake = r));
    return frames.shift()!;
  };
  return {
    next,
    nextJson: async () => JSON.parse(await next()),
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    closed: new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
  };
}

function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(url, { headers: { 'User-Agent': 'parley-test', ...headers } });
  const client = { ws, ...watch(ws) };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
  });
}

/** The HTTP status that refused the upgrade. */
function refusal(url: string): Promise<number> {
  const ws = new WebSocket(url);
  ws.on('error', () => {}); // the aborted handshake
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (req, res) => {
      resolve(res.statusCode!);
      req.destroy();
    });
    ws.once('open', () => reject(new Error('upgraded')));
  });
}

async function connectionIdOf(client: Client): Promise<string> {
  client.send({ type: 'echo' });
  return (await client.nextJson()).requestContext.connectionId;
}

const sdkClients: ApiGatewayManagementApiClient[] = [];
function managementApi(endpoint: string): ApiGatewayManagementApiClient {
  const client = new ApiGatewayManagementApiClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: CREDENTIAL.accessKeyId, secretAccessKey: CREDENTIAL.secretAccessKey },
    maxAttempts: 1,
  });
  sdkClients.push(client);
  return client;
}

/** A frame routed to `echo` of exactly `bytes` bytes. */
function echoFrameOf(bytes: number): string {
  const empty = '{"type":"echo","pad":""}';
  return `{"type":"echo","pad":"${'x'.repeat(bytes - empty.length)}"}`;
}

afterAll(() => sdkClients.forEach((c) => c.destroy()));

describe('WebSocket gateway', () => {
  const lambdas = playHandlers();
  const logged: string[] = [];
  /** Connections that $connect refused: they must never get a $disconnect. */
  const refusedIds = new Set<string>();
  let gw: WsGateway;
  let api: ApiGatewayManagementApiClient;
  let n = 0;
  const good = (headers?: Record<string, string>) => connect(`${gw.url}?token=good`, headers);
  const disconnectOf = (id: string): Promise<Event> => eventually(() => lambdas.eventsOf('disconnect', id)[0]);
  const heldConnect = (tag: string): Promise<Event> =>
    eventually(() => lambdas.calls.find((c) => c.fn === 'connect' && c.event.queryStringParameters?.tag === tag)?.event);

  beforeAll(async () => {
    gw = await startWsGateway({
      port: 0,
      routes: ROUTES,
      authorizerFn: 'auth',
      invoke: lambdas.invoke,
      idleTimeoutMs: 60_000,
      maxConnectionMs: 120_000,
      managementCredentials: [CREDENTIAL],
      // Ids with every character the SDK must URL-encode.
      newConnectionId: () => `A/+${String(++n).padStart(12, '0')}=`,
      logger: { warn: (...a: unknown[]) => logged.push(a.join(' ')), error: (...a: unknown[]) => logged.push(a.join(' ')) },
    });
    api = managementApi(gw.callbackUrl);
  });
  afterAll(() => gw.stop());

  describe('$connect', () => {
    it('gives the authorizer a REQUEST event and $connect its context, stringified', async () => {
      const client = await connect(`${gw.url}?token=good&x=1&x=2`, { 'X-Custom': 'a' });
      const id = await connectionIdOf(client);
      const [auth] = lambdas.eventsOf('auth', id);
      const host = new URL(gw.url).host;
      expect(auth).toEqual({
        type: 'REQUEST',
        methodArn: 'arn:aws:execute-api:us-east-1:000000000000:local/local/$connect',
        headers: expect.objectContaining({ Host: host, 'User-Agent': 'parley-test', 'X-Custom': 'a', 'Sec-WebSocket-Version': '13' }),
        multiValueHeaders: expect.objectContaining({ Host: [host], 'X-Custom': ['a'] }),
        queryStringParameters: { token: 'good', x: '2' },
        multiValueQueryStringParameters: { token: ['good'], x: ['1', '2'] },
        stageVariables: {},
        requestContext: {
          routeKey: '$connect',
          eventType: 'CONNECT',
          extendedRequestId: expect.any(String),
          requestTime: expect.stringMatching(REQUEST_TIME),
          messageDirection: 'IN',
          stage: 'local',
          connectedAt: expect.any(Number),
          requestTimeEpoch: expect.any(Number),
          identity: { sourceIp: '127.0.0.1', userAgent: 'parley-test' },
          requestId: expect.any(String),
          domainName: host,
          connectionId: id,
          apiId: 'local',
        },
      });
      expect(lambdas.eventsOf('connect', id)).toEqual([
        {
          headers: auth.headers,
          multiValueHeaders: auth.multiValueHeaders,
          queryStringParameters: auth.queryStringParameters,
          multiValueQueryStringParameters: auth.multiValueQueryStringParameters,
          requestContext: {
            ...auth.requestContext,
            requestId: expect.any(String),
            extendedRequestId: expect.any(String),
            requestTime: expect.stringMatching(REQUEST_TIME),
            requestTimeEpoch: expect.any(Number),
            authorizer: AUTHORIZER,
          },
          isBase64Encoded: false,
        },
      ]);
      client.ws.close();
    });

    it('accepts a Bearer token in the Authorization header, without a query string', async () => {
      const client = await connect(`${gw.url}`, { Authorization: 'Bearer good' });
      const id = await connectionIdOf(client);
      expect(lambdas.eventsOf('auth', id)[0]).toMatchObject({ queryStringParameters: {}, headers: { Authorization: 'Bearer good' } });
      expect(lambdas.eventsOf('connect', id)[0]).not.toHaveProperty('queryStringParameters');
      client.ws.close();
    });

    it('accepts an Allow on a wildcard resource and the stage path of the URL', async () => {
      const client = await connect(`${gw.url}local?token=wildcard`);
      expect((await connectionIdOf(client)).length).toBeGreaterThan(0);
      client.ws.close();
    });

    it.each([
      ['bad', 401, ['auth']],
      ['', 401, ['auth']],
      ['deny', 403, ['auth']],
      ['elsewhere', 403, ['auth']],
      ['crash', 500, ['auth']],
      ['malformed', 500, ['auth']],
      ['nested', 500, ['auth']],
      ['good&connect=403', 403, ['auth', 'connect']],
      ['good&connect=429', 429, ['auth', 'connect']],
      ['good&connect=throw', 502, ['auth', 'connect']],
    ])('refuses token=%s with %i and invokes nothing after the refusal', async (token, status, invoked) => {
      const tag = randomUUID();
      expect(await refusal(`${gw.url}?token=${token}&tag=${tag}`)).toBe(status);
      const [auth] = lambdas.calls.filter((c) => c.event.queryStringParameters?.tag === tag);
      const id: string = auth!.event.requestContext.connectionId;
      refusedIds.add(id);
      expect(lambdas.calls.filter((c) => c.event.requestContext.connectionId === id).map((c) => c.fn)).toEqual(invoked);
    });

    it('refuses an upgrade on another path with 403, and a malformed handshake with 400, before any handler', async () => {
      const tag = randomUUID();
      expect(await refusal(`${gw.url}elsewhere?token=good&tag=${tag}`)).toBe(403);
      const status = await new Promise<number>((resolve, reject) => {
        // No Sec-WebSocket-Key: not a WebSocket handshake.
        const req = http.request(`${gw.callbackUrl}/?token=good&tag=${tag}`, { headers: { Connection: 'Upgrade', Upgrade: 'websocket' } });
        req.on('response', (res) => {
          resolve(res.statusCode!);
          res.resume();
        });
        req.on('upgrade', () => reject(new Error('upgraded')));
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(400);
      expect(lambdas.calls.filter((c) => c.event.queryStringParameters?.tag === tag)).toEqual([]);
    });

    it('answers a plain GET of the WebSocket URL with 426', async () => {
      const res = await fetch(`${gw.callbackUrl}/`);
      expect(res.status).toBe(426);
      expect(res.headers.get('upgrade')).toBe('websocket');
    });

    it('keeps a connection out of @connections until $connect has finished', async () => {
      lambdas.state.gate = deferred();
      const opening = connect(`${gw.url}?token=good&hold=1&tag=held`);
      const id: string = (await heldConnect('held')).requestContext.connectionId;
      await expect(api.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'too early' }))).rejects.toMatchObject({ name: 'GoneException' });
      lambdas.state.gate.resolve();
      const client = await opening;
      await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'now' }));
      expect(await client.next()).toBe('now');
      client.ws.close();
    });

    it.each([
      ['before', true],
      ['after', false],
    ])('invokes $disconnect for a client that left while $connect ran, seen %s the upgrade', async (_, settle) => {
      lambdas.state.gate = deferred();
      const tag = randomUUID();
      const ws = new WebSocket(`${gw.url}?token=good&hold=1&tag=${tag}`);
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.on('error', () => {}); // closed before the handshake finished
      const held = await heldConnect(tag);
      ws.terminate();
      // The gateway cannot be asked whether it has seen the client go; a few ms let it read the FIN.
      if (settle) await closed.then(() => new Promise((resolve) => setTimeout(resolve, 50)));
      lambdas.state.gate.resolve();
      const event = await disconnectOf(held.requestContext.connectionId);
      expect(event.requestContext).toMatchObject({ disconnectStatusCode: 1006, authorizer: AUTHORIZER });
    });
  });

  describe('frames', () => {
    let client: Client;
    let id: string;
    beforeAll(async () => {
      client = await good();
      id = await connectionIdOf(client);
    });
    afterAll(() => client.ws.close());

    it('hands the route an AWS-shaped MESSAGE event with the authorizer context', async () => {
      const body = '{"type":"echo","text":"héllo"}';
      client.send(body);
      expect(await client.nextJson()).toEqual({
        requestContext: {
          routeKey: 'echo',
          messageId: expect.any(String),
          eventType: 'MESSAGE',
          extendedRequestId: expect.any(String),
          requestTime: expect.stringMatching(REQUEST_TIME),
          messageDirection: 'IN',
          stage: 'local',
          connectedAt: lambdas.eventsOf('connect', id)[0].requestContext.connectedAt,
          requestTimeEpoch: expect.any(Number),
          identity: { sourceIp: '127.0.0.1', userAgent: 'parley-test' },
          requestId: expect.any(String),
          domainName: new URL(gw.url).host,
          connectionId: id,
          apiId: 'local',
          authorizer: AUTHORIZER,
        },
        body,
        isBase64Encoded: false,
      });
    });

    it.each([
      ['{"type":"echo"}', 'echo'],
      ['{"type":"unknown"}', '$default'],
      ['{"type":5}', '$default'],
      ['{"kind":"echo"}', '$default'],
      ['[{"type":"echo"}]', '$default'],
      ['"echo"', '$default'],
      ['not json', '$default'],
      ['{"type":"$connect"}', '$default'],
      ['{"type":"$disconnect"}', '$default'],
    ])('routes %s to %s', async (frame, routeKey) => {
      client.send(frame);
      expect(await client.nextJson()).toMatchObject({ requestContext: { routeKey }, body: frame });
    });

    it.each([
      [{ statusCode: 200, body: 'hello' }, 'hello'],
      [{ statusCode: 500, body: 'sent whatever the status' }, 'sent whatever the status'],
      ['a bare string', INTERNAL_ERROR],
      [null, INTERNAL_ERROR],
      [{ statusCode: 200, body: { not: 'a string' } }, INTERNAL_ERROR],
      [{ statusCode: 200, body: 'x', Data: 'a key Lambda proxy results do not have' }, INTERNAL_ERROR],
      [{ body: 'no statusCode' }, INTERNAL_ERROR],
    ])('answers a route result of %j with %j', async (result, expected) => {
      client.send({ type: 'reply', result });
      const frame = await client.next();
      if (typeof expected === 'string') expect(frame).toBe(expected);
      else expect(JSON.parse(frame)).toEqual({ ...expected, connectionId: id });
    });

    it('sends nothing back for a result without a body', async () => {
      const before = lambdas.calls.length;
      client.send({ type: 'reply', result: { statusCode: 200 } });
      await vi.waitFor(() => expect(lambdas.calls.slice(before).some((c) => c.fn === 'reply')).toBe(true), WAIT);
      // Any reply to the first frame would reach the client before the answer to this one.
      client.send({ type: 'echo' });
      expect(await client.nextJson()).toMatchObject({ requestContext: { routeKey: 'echo' } });
    });

    it('answers a handler that throws with the Internal server error frame', async () => {
      client.send({ type: 'boom' });
      const frame = await client.nextJson();
      expect(frame).toEqual({ ...INTERNAL_ERROR, connectionId: id });
      expect(lambdas.calls.find((c) => c.event.requestContext.requestId === frame.requestId)?.fn).toBe('boom');
    });

    it('invokes the frames of one connection concurrently', async () => {
      lambdas.state.gate = deferred();
      const before = lambdas.calls.length;
      client.send({ type: 'slow' });
      await vi.waitFor(() => expect(lambdas.calls.slice(before).some((c) => c.fn === 'slow')).toBe(true), WAIT);
      client.send({ type: 'echo' });
      expect(await client.nextJson()).toMatchObject({ requestContext: { routeKey: 'echo' } });
      lambdas.state.gate.resolve();
      expect(await client.next()).toBe('slow done');
    });

    it('accepts a frame of exactly 32 KiB', async () => {
      const frame = echoFrameOf(32 * 1024);
      client.send(frame);
      expect((await client.nextJson()).body).toBe(frame);
    });

    it.each([
      ['a frame one byte over 32 KiB', (c: Client) => c.send(echoFrameOf(32 * 1024 + 1)), 1009, 'Message too big'],
      ['a binary frame', (c: Client) => c.ws.send(Buffer.from([1, 2, 3])), 1003, 'Binary frames are not supported'],
      ['invalid UTF-8', (c: Client) => c.ws.send(Buffer.from([0xc3, 0x28]), { binary: false }), 1007, 'Invalid UTF-8 in text frame'],
    ])('closes the connection on %s, then invokes $disconnect', async (_, sendBad, code, reason) => {
      const victim = await good();
      const victimId = await connectionIdOf(victim);
      sendBad(victim);
      expect((await victim.closed).code).toBe(code);
      expect((await disconnectOf(victimId)).requestContext).toMatchObject({ disconnectStatusCode: code, disconnectReason: reason });
    });
  });

  describe('$disconnect', () => {
    it('follows a client close with its code and reason, and carries the authorizer context', async () => {
      const client = await good();
      const id = await connectionIdOf(client);
      client.ws.close(4000, 'bye');
      expect(await disconnectOf(id)).toEqual({
        requestContext: expect.objectContaining({
          routeKey: '$disconnect',
          eventType: 'DISCONNECT',
          connectionId: id,
          disconnectStatusCode: 4000,
          disconnectReason: 'bye',
          authorizer: AUTHORIZER,
          requestTime: expect.stringMatching(REQUEST_TIME),
        }),
        isBase64Encoded: false,
      });
    });

    it('follows a close frame without a status with 1005', async () => {
      const client = await good();
      const id = await connectionIdOf(client);
      client.ws.close();
      expect((await disconnectOf(id)).requestContext).toMatchObject({
        disconnectStatusCode: 1005,
        disconnectReason: 'Client-side close frame status not set',
      });
    });

    it('follows a dropped network connection with 1006, and the connection no longer counts', async () => {
      const before = gw.connectionCount();
      const client = await good();
      const id = await connectionIdOf(client);
      expect(gw.connectionCount()).toBe(before + 1);
      client.ws.terminate();
      expect((await disconnectOf(id)).requestContext).toMatchObject({ disconnectStatusCode: 1006 });
      expect(gw.connectionCount()).toBe(before);
    });

    it('tells when the $disconnect of every connection closed so far has run, after the connection left the count', async () => {
      const before = gw.connectionCount();
      const clients = await Promise.all([good(), good()]);
      const ids = await Promise.all(clients.map(connectionIdOf));
      lambdas.state.gate = deferred();
      lambdas.state.heldDisconnects.add(ids[0]!);
      for (const c of clients) c.ws.terminate();
      await eventually(() => (gw.connectionCount() === before ? true : undefined));
      let done = false;
      const settled = gw.disconnectsDone().then(() => void (done = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(done).toBe(false);
      expect(lambdas.state.disconnected.has(ids[0]!)).toBe(false);
      lambdas.state.gate.resolve();
      await settled;
      expect(ids.filter((id) => lambdas.state.disconnected.has(id))).toEqual(ids);
      // Nothing under way: at once.
      await gw.disconnectsDone();
    });

    it('logs a failing $disconnect handler and carries on', async () => {
      const client = await good();
      const id = await connectionIdOf(client);
      lambdas.state.failingDisconnects.add(id);
      client.ws.close();
      await vi.waitFor(() => expect(logged.some((line) => line.includes(id) && line.includes('disconnect handler crashed'))).toBe(true), WAIT);
      const next = await good();
      expect(await connectionIdOf(next)).not.toBe(id);
      next.ws.close();
    });
  });

  describe('@connections', () => {
    it('posts a frame and describes the connection through the SDK, with ids holding /, + and =', async () => {
      const client = await good();
      const id = await connectionIdOf(client);
      expect(id).toMatch(/\/.*\+.*=$/);
      await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'hello ✓' }));
      expect(await client.next()).toBe('hello ✓');

      const connectedAt = lambdas.eventsOf('connect', id)[0].requestContext.connectedAt;
      const described = await api.send(new GetConnectionCommand({ ConnectionId: id }));
      expect(described).toMatchObject({ ConnectedAt: new Date(connectedAt), Identity: { SourceIp: '127.0.0.1', UserAgent: 'parley-test' } });

      const sentAt = Date.now();
      await connectionIdOf(client);
      const repliedAt = Date.now();
      const { LastActiveAt } = await api.send(new GetConnectionCommand({ ConnectionId: id }));
      expect(LastActiveAt!.getTime()).toBeGreaterThanOrEqual(sentAt);
      expect(LastActiveAt!.getTime()).toBeLessThanOrEqual(repliedAt);
      client.ws.close();
    });

    it('accepts the stage path of the AWS endpoint, and refuses another stage', async () => {
      const client = await good();
      const id = await connectionIdOf(client);
      await managementApi(`${gw.callbackUrl}/local`).send(new PostToConnectionCommand({ ConnectionId: id, Data: 'via stage' }));
      expect(await client.next()).toBe('via stage');
      await expect(
        managementApi(`${gw.callbackUrl}/prod`).send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x' })),
      ).rejects.toMatchObject({ name: 'ForbiddenException', $metadata: { httpStatusCode: 403 } });
      client.ws.close();
    });

    it('deletes a connection: the client is closed, $disconnect follows, then everything is Gone', async () => {
      const client = await good();
      const id = await connectionIdOf(client);
      await api.send(new DeleteConnectionCommand({ ConnectionId: id }));
      const gone = { name: 'GoneException', $metadata: { httpStatusCode: 410 } };
      // Gone at once, while the close handshake is still under way.
      await expect(api.send(new GetConnectionCommand({ ConnectionId: id }))).rejects.toMatchObject(gone);
      expect(await client.closed).toEqual({ code: 1000, reason: 'Connection Closed Normally' });
      expect((await disconnectOf(id)).requestContext).toMatchObject({
        disconnectStatusCode: 1000,
        disconnectReason: 'Connection Closed Normally',
        authorizer: AUTHORIZER,
      });
      await expect(api.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x' }))).rejects.toMatchObject(gone);
      await expect(api.send(new GetConnectionCommand({ ConnectionId: id }))).rejects.toMatchObject(gone);
      await expect(api.send(new DeleteConnectionCommand({ ConnectionId: id }))).rejects.toMatchObject(gone);
    });

    it('answers GoneException for an unknown connection and one whose client left', async () => {
      await expect(api.send(new PostToConnectionCommand({ ConnectionId: 'Zm9vYmFyYmF6cXV4=', Data: 'x' }))).rejects.toMatchObject({
        name: 'GoneException',
      });
      const client = await good();
      const id = await connectionIdOf(client);
      client.ws.close();
      await disconnectOf(id);
      await expect(api.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x' }))).rejects.toMatchObject({ name: 'GoneException' });
    });

    it('posts 128 KiB, and refuses one byte more with PayloadTooLargeException', async () => {
      const client = await good();
      const id = await connectionIdOf(client);
      await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'y'.repeat(128 * 1024) }));
      expect((await client.next()).length).toBe(128 * 1024);
      await expect(api.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'y'.repeat(128 * 1024 + 1) }))).rejects.toMatchObject({
        name: 'PayloadTooLargeException',
        $metadata: { httpStatusCode: 413 },
      });
      client.ws.close();
    });

    it('speaks the AWS wire format', async () => {
      const client = await good();
      const id = await connectionIdOf(client);
      const url = new URL(`${gw.callbackUrl}/@connections/${encodeURIComponent(id)}`);

      const described = await signedFetch(url, CREDENTIAL);
      expect(described.status).toBe(200);
      const description = (await described.json()) as { lastActiveAt: string };
      expect(description).toEqual({
        connectedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        identity: { sourceIp: '127.0.0.1', userAgent: 'parley-test' },
        lastActiveAt: expect.stringMatching(/Z$/),
      });
      // Asked again after the client spoke: its activity as it is now, not as first described.
      const before = Date.parse(description.lastActiveAt);
      await new Promise((r) => setTimeout(r, 20));
      client.send({ type: 'echo' });
      await vi.waitFor(async () => {
        const again = (await (await signedFetch(url, CREDENTIAL)).json()) as { lastActiveAt: string };
        expect(Date.parse(again.lastActiveAt)).toBeGreaterThan(before);
      }, WAIT);

      const gone = await signedFetch(new URL(`${gw.callbackUrl}/@connections/${encodeURIComponent('nobody=')}`), CREDENTIAL, { method: 'POST', body: 'x' });
      expect([gone.status, gone.headers.get('x-amzn-errortype'), await gone.text()]).toEqual([410, 'GoneException', '']);

      const otherMethod = await signedFetch(url, CREDENTIAL, { method: 'PUT', body: 'x' });
      expect([otherMethod.status, otherMethod.headers.get('x-amzn-errortype')]).toEqual([403, 'ForbiddenException']);
      const otherPath = await signedFetch(new URL(`${gw.callbackUrl}/connections/${encodeURIComponent(id)}`), CREDENTIAL);
      expect(otherPath.status).toBe(403);
      client.ws.close();
    });

    it('refuses, as AWS does with 403, a request unsigned, signed with unknown or wrong credentials, or changed after signing; the frame never arrives', async () => {
      const client = await good();
      const id = await connectionIdOf(client);
      const url = new URL(`${gw.callbackUrl}/@connections/${encodeURIComponent(id)}`);
      const answer = async (res: Response) => [res.status, res.headers.get('x-amzn-errortype'), await res.json()];

      expect(await answer(await fetch(url, { method: 'POST', body: 'unsigned' }))).toEqual([
        403,
        'MissingAuthenticationTokenException',
        { message: 'Missing Authentication Token' },
      ]);
      expect(await answer(await signedFetch(url, { ...CREDENTIAL, accessKeyId: 'SOMEONEELSE' }, { method: 'POST', body: 'stranger' }))).toEqual([
        403,
        'UnrecognizedClientException',
        { message: 'The security token included in the request is invalid.' },
      ]);
      const badSignature = [403, 'InvalidSignatureException', { message: expect.stringMatching(/^The request signature we calculated does not match/) }];
      expect(await answer(await signedFetch(url, { ...CREDENTIAL, secretAccessKey: 'guessed' }, { method: 'POST', body: 'wrong secret' }))).toEqual(badSignature);
      // Signed for one body, sent with another.
      const swapped = await signedFetch(url, CREDENTIAL, { method: 'POST', body: 'signed', sendBody: 'swapped' });
      expect(await answer(swapped)).toEqual(badSignature);
      const stale = await signedFetch(url, CREDENTIAL, {
        method: 'POST',
        body: 'late',
        tamper: (h) => void (h['x-amz-date'] = '20200101T000000Z'),
      });
      expect(stale.status).toBe(403);

      await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'signed properly' }));
      expect(await client.next()).toBe('signed properly');
      client.ws.close();
    });
  });

  describe('stop()', () => {
    it('closes every connection with 1001, each followed by one $disconnect, and refuses new ones', async () => {
      const clients = await Promise.all([good(), good()]);
      const ids = await Promise.all(clients.map(connectionIdOf));
      // One more is still in $connect when stop() begins: it opens, then closes like the others.
      lambdas.state.gate = deferred();
      const late = connect(`${gw.url}?token=good&hold=1&tag=late`);
      ids.push((await heldConnect('late')).requestContext.connectionId);
      const stopped = gw.stop();
      lambdas.state.gate.resolve();
      clients.push(await late);
      await stopped;
      for (const [i, client] of clients.entries()) {
        expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' });
        expect(lambdas.eventsOf('disconnect', ids[i]!)).toMatchObject([{ requestContext: { disconnectStatusCode: 1001 } }]);
      }
      expect(gw.connectionCount()).toBe(0);
      await expect(good()).rejects.toThrow(/ECONNREFUSED/);
    });

    it('has given every accepted connection exactly one $disconnect, and refused ones none', () => {
      const byConnection = new Map<string, string[]>();
      for (const { fn, event } of lambdas.calls) {
        const id: string = event.requestContext.connectionId;
        byConnection.set(id, [...(byConnection.get(id) ?? []), fn]);
      }
      expect(byConnection.size).toBeGreaterThan(20);
      for (const [id, fns] of byConnection) {
        const accepted = fns.includes('connect') && !refusedIds.has(id);
        expect(fns.filter((fn) => fn === 'disconnect'), id).toHaveLength(accepted ? 1 : 0);
      }
    });
  });
});

describe('WebSocket gateway limits, without an authorizer or $default', () => {
  const lambdas = playHandlers();
  let gw: WsGateway;
  beforeAll(async () => {
    gw = await startWsGateway({
      port: 0,
      routes: ROUTES.filter((r) => r.routeKey !== '$default'),
      invoke: lambdas.invoke,
      // Far enough apart that a stalled machine cannot take one close for the other.
      idleTimeoutMs: 1_000,
      maxConnectionMs: 3_000,
      managementCredentials: [CREDENTIAL],
      logger: { warn: () => {}, error: () => {} },
    });
  });
  afterAll(() => gw.stop());

  it('closes an idle connection with 1001 after idleTimeoutMs; pings do not count as activity', async () => {
    // From before the upgrade: the gateway's timers start after it.
    const started = Date.now();
    const client = await connect(gw.url);
    // Its last data frame: the echo sent after this.
    const spoke = Date.now();
    const id = await connectionIdOf(client);
    const pinging = setInterval(() => client.ws.ping(), 50);
    const closed = await client.closed;
    clearInterval(pinging);
    expect(closed).toEqual({ code: 1001, reason: 'Going away' });
    expect(Date.now() - spoke).toBeGreaterThanOrEqual(990);
    // Idle, not at maxConnectionMs.
    expect(Date.now() - started).toBeLessThan(2_500);
    await vi.waitFor(() => expect(lambdas.eventsOf('disconnect', id)).toMatchObject([{ requestContext: { disconnectStatusCode: 1001, disconnectReason: 'Going away' } }]), WAIT);
  });

  it('keeps a connection that sends data frames past the idle timeout, and closes it at maxConnectionMs', async () => {
    const started = Date.now();
    const client = await connect(gw.url);
    const chatting = setInterval(() => client.send({ type: 'echo' }), 100);
    const closed = await client.closed;
    clearInterval(chatting);
    expect(closed.code).toBe(1001);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_990);
  });

  it('answers a frame no route takes with the Forbidden frame', async () => {
    const client = await connect(gw.url);
    const id = await connectionIdOf(client);
    for (const frame of ['{"type":"nope"}', 'not json']) {
      client.send(frame);
      expect(await client.nextJson()).toEqual({ message: 'Forbidden', connectionId: id, requestId: expect.any(String) });
    }
    expect(lambdas.calls.filter((c) => c.event.requestContext.connectionId === id).map((c) => c.fn)).toEqual(['connect', 'echo']);
    client.ws.close();
  });

  it('passes no authorizer field and makes AWS-like connection ids', async () => {
    const [a, b] = await Promise.all([connect(gw.url), connect(gw.url)]);
    a!.send({ type: 'echo' });
    const event = await a!.nextJson();
    expect(event.requestContext).not.toHaveProperty('authorizer');
    const ids = [event.requestContext.connectionId, await connectionIdOf(b!)];
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(ids[0]).not.toBe(ids[1]);
    a!.ws.close();
    b!.ws.close();
  });
});
