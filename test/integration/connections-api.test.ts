import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWsGateway, type WsGateway } from '#infra/local/ws-gateway.ts';
import { ConnectionsApi } from '#shared/adapters/apigw/connections-api.ts';
import { startScriptedServer, type ScriptStep } from '#test/support/scripted-http.ts';

/**
 * The functions' `@connections` client on the wire: against the local gateway's emulator (which
 * checks its SigV4 signature as AWS does), and against a server that answers what API Gateway
 * answers when it is overloaded or failing.
 */
const CREDENTIAL = { accessKeyId: 'local', secretAccessKey: 'local' };
const env = { AWS_ACCESS_KEY_ID: CREDENTIAL.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIAL.secretAccessKey, AWS_REGION: 'us-east-1' };
const made: ConnectionsApi[] = [];
const apiOf = (endpoint: string, e: NodeJS.ProcessEnv = env) => {
  const api = new ConnectionsApi(endpoint, { maxSockets: 4, env: e });
  made.push(api);
  return api;
};
afterAll(() => made.forEach((a) => a.destroy()));

describe('@connections client against the local gateway', () => {
  let gw: WsGateway;
  let n = 0;
  beforeAll(async () => {
    gw = await startWsGateway({
      port: 0,
      routes: [
        { routeKey: '$connect', fn: 'connect' },
        { routeKey: '$disconnect', fn: 'disconnect' },
      ],
      invoke: async () => ({ statusCode: 200 }),
      idleTimeoutMs: 60_000,
      maxConnectionMs: 120_000,
      managementCredentials: [CREDENTIAL],
      // Every character a path label must have encoded.
      newConnectionId: () => `A/+ (${String(++n).padStart(8, '0')})*=`,
    });
  });
  afterAll(() => gw?.stop());

  async function open(): Promise<{ ws: WebSocket; id: string; frames: string[]; closed: Promise<void> }> {
    const before = n;
    const ws = new WebSocket(gw.url);
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(String(d)));
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    expect(n).toBe(before + 1);
    return { ws, id: `A/+ (${String(n).padStart(8, '0')})*=`, frames, closed };
  }

  it('posts one body to many connections, byte for byte, under a stage path too; a connection it does not know is gone', async () => {
    const a = await open();
    const b = await open();
    const data = JSON.stringify({ type: 'message_new', message: { content: 'héllo ✓ "quoted"' } });
    const body = ConnectionsApi.body(data);
    const api = apiOf(gw.callbackUrl);
    expect(await api.post(a.id, body)).toBe('sent');
    expect(await apiOf(`${gw.callbackUrl}/local`).post(b.id, body)).toBe('sent');
    await expect.poll(() => [a.frames, b.frames]).toEqual([[data], [data]]);
    expect(await api.post('bm9zdWNo=', body)).toBe('gone');
    expect(await api.delete(a.id)).toBe('deleted');
    await a.closed;
    expect(await api.delete(a.id)).toBe('gone');
    b.ws.close();
  });

  it('is refused with the emulator\'s 403 for a wrong secret, once (not retried)', async () => {
    const c = await open();
    const api = apiOf(gw.callbackUrl, { ...env, AWS_SECRET_ACCESS_KEY: 'wrong' });
    await expect(api.post(c.id, ConnectionsApi.body('x'))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 403, attempts: 1 },
    });
    expect(c.frames).toEqual([]);
    c.ws.close();
  });
});

describe('@connections client retries as the SDK\'s standard retry does', () => {
  let server: Awaited<ReturnType<typeof startScriptedServer>>;
  beforeAll(async () => {
    server = await startScriptedServer((res, status, type) => {
      res.statusCode = status;
      if (type) res.setHeader('x-amzn-ErrorType', type);
      res.end(type ? JSON.stringify({ message: `${type} here` }) : undefined);
    });
  });
  afterAll(() => server.close());

  const run = async (steps: readonly ScriptStep[], call: (api: ConnectionsApi) => Promise<unknown>) => {
    server.play(steps);
    return call(apiOf(server.url));
  };
  const post = (api: ConnectionsApi) => api.post('abc=', ConnectionsApi.body('x'));

  it('retries throttling (429), 5xx and a dropped socket, up to 3 attempts in all', async () => {
    expect(await run([[429, 'LimitExceededException'], [503, 'ServiceUnavailableException']], post)).toBe('sent');
    expect(server.requests).toBe(3);
    expect(await run(['reset'], post)).toBe('sent');
    expect(server.requests).toBe(2);
    await expect(run([[500, 'InternalServerErrorException'], [502], [500, 'InternalServerErrorException']], post)).rejects.toMatchObject({
      name: 'InternalServerErrorException',
      message: 'InternalServerErrorException here',
      $metadata: { httpStatusCode: 500, attempts: 3 },
    });
    expect(server.requests).toBe(3);
  });

  it('surfaces any other error at once, named as AWS names it; 410 is a stale connection', async () => {
    await expect(run([[400, 'BadRequestException']], post)).rejects.toMatchObject({ name: 'BadRequestException', $metadata: { httpStatusCode: 400, attempts: 1 } });
    await expect(run([[413, 'PayloadTooLargeException']], post)).rejects.toMatchObject({ name: 'PayloadTooLargeException' });
    expect(server.requests).toBe(1);
    expect(await run([[410, 'GoneException']], post)).toBe('gone');
    expect(await run([[410, 'GoneException']], (api) => api.delete('abc='))).toBe('gone');
  });
});
