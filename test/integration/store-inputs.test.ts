import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { api, connect, createUser, type TestSocket, type TestUser } from '#test/support/clients.ts';
import { serviceApi } from '#test/support/service.ts';

// Inputs the edge accepts must be stored and read back as sent: metadata of any shape the
// contract allows, and clientMessageIds spelled like Object properties.
const httpUrl = inject('httpUrl');
const wsUrl = inject('wsUrl');
const credential = inject('service');

/** Parsed from text, as the server parses bodies and frames: `__proto__` is an own key. */
const HOSTILE_TEXT = `{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"toString":"s","hasOwnProperty":1,"":"empty key",
  "big":1e308,"tiny":5e-324,"negZero":-0,"huge":123456789012345678901234567890,"negTiny":-2.2250738585072014e-308,
  "arr":[[],{},null,true,"\\u0000😀"],"ROOM#x":{"SK":"MSG#1"},"deep":${'{"a":'.repeat(30)}{}${'}'.repeat(30)}}`;
const hostile = () => JSON.parse(HOSTILE_TEXT) as Record<string, unknown>;
/** What a JSON client receives back: the same text (-0 reads as 0 in any JSON). */
const asJson = (v: unknown) => JSON.stringify(v);
const nested = (depth: number): Record<string, unknown> => (depth <= 1 ? {} : { a: nested(depth - 1) });

let ann: TestUser, bo: TestUser;
let roomId: string;
let annSocket: TestSocket, boSocket: TestSocket;

beforeAll(async () => {
  [ann, bo] = (await Promise.all(['ann', 'bo'].map((n) => createUser(httpUrl, n)))) as [TestUser, TestUser];
  const res = await api(httpUrl, 'POST', '/rooms', { token: ann.token, body: { type: 'group', name: 'Inputs', memberIds: [bo.userId] } });
  expect(res.status).toBe(201);
  roomId = res.body.id;
  [annSocket, boSocket] = await Promise.all([connect(wsUrl, ann), connect(wsUrl, bo)]);
});
afterAll(async () => {
  await Promise.all([annSocket?.close(), boSocket?.close()]);
});

const post = (user: TestUser, body: unknown) => api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: user.token, body });
const getMessage = (user: TestUser, id: string) => api(httpUrl, 'GET', `/rooms/${roomId}/messages/${id}`, { token: user.token });

describe('metadata', () => {
  it('round-trips exactly over POST /rooms/{id}/messages: prototype keys, empty keys, extreme numbers, 32 levels', async () => {
    const res = await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, rawBody: JSON.stringify({ content: 'http', metadata: hostile() }) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(asJson(res.body.metadata)).toBe(asJson(hostile()));
    const read = await getMessage(bo, res.body.id);
    expect(read.status).toBe(200);
    expect(asJson(read.body.metadata)).toBe(asJson(hostile()));
    expect(Object.hasOwn(read.body.metadata, '__proto__')).toBe(true);
    const live = await boSocket.next((f) => f.type === 'message_new' && f.message.id === res.body.id);
    expect(asJson(live.message.metadata)).toBe(asJson(hostile()));
  });

  it('round-trips exactly over message_send', async () => {
    const ack = await annSocket.request({ type: 'message_send', roomId, content: 'ws', metadata: hostile() });
    expect(ack.type, JSON.stringify(ack)).toBe('ack');
    expect(asJson(ack.result.metadata)).toBe(asJson(hostile()));
    const history = await api(httpUrl, 'GET', `/rooms/${roomId}/messages?limit=5`, { token: bo.token });
    const stored = history.body.items.find((m: any) => m.id === ack.result.id);
    expect(asJson(stored.metadata)).toBe(asJson(hostile()));
  });

  it('round-trips exactly over the service API post', async () => {
    const res = await serviceApi(httpUrl, credential, 'POST', `/service/rooms/${roomId}/messages`, { type: 'payment', content: 'paid', metadata: hostile() });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(asJson(res.body.metadata)).toBe(asJson(hostile()));
    const read = await getMessage(ann, res.body.id);
    expect(asJson(read.body.metadata)).toBe(asJson(hostile()));
  });

  it('is refused with validation_failed past 32 levels or 8 KB, on every way in, and nothing is stored', async () => {
    const before = (await api(httpUrl, 'GET', `/rooms/${roomId}`, { token: ann.token })).body.lastSeq;
    const tooDeep = nested(33);
    const tooBig = { s: 'x'.repeat(8 * 1024) };
    for (const metadata of [tooDeep, tooBig, { list: JSON.parse('['.repeat(40) + ']'.repeat(40)) }]) {
      const http = await post(ann, { content: 'x', metadata });
      expect(http.status).toBe(400);
      expect(http.body.error.code).toBe('validation_failed');
      const frame = await annSocket.request({ type: 'message_send', roomId, content: 'x', metadata });
      expect(frame).toMatchObject({ type: 'error', code: 'validation_failed' });
      const service = await serviceApi(httpUrl, credential, 'POST', `/service/rooms/${roomId}/messages`, { content: 'x', metadata });
      expect(service.status).toBe(400);
      expect(service.body.error.code).toBe('validation_failed');
    }
    // 32 levels is still fine.
    expect((await post(ann, { content: 'deep', metadata: nested(32) })).status).toBe(201);
    expect((await api(httpUrl, 'GET', `/rooms/${roomId}`, { token: ann.token })).body.lastSeq).toBe(before + 1);
  });
});

describe('clientMessageId spelled like an Object property', () => {
  for (const cmid of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    it(`sends "${cmid}" at once after other sends, and a retry returns the same message`, async () => {
      const user = await createUser(httpUrl, 'cy');
      const made = await api(httpUrl, 'POST', '/rooms', { token: user.token, body: { type: 'group', name: cmid, memberIds: [] } });
      const room = made.body.id;
      const send = (body: unknown) => api(httpUrl, 'POST', `/rooms/${room}/messages`, { token: user.token, body });
      expect((await send({ content: 'warm-up', clientMessageId: 'warm-up-1' })).status).toBe(201);
      const started = Date.now();
      const first = await send({ content: `as ${cmid}`, clientMessageId: cmid });
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      expect(first.body.clientMessageId).toBe(cmid);
      // No wait for a claim that is not there (the old lookup polled history for 5 s).
      expect(Date.now() - started).toBeLessThan(4_000);
      const retry = await send({ content: `as ${cmid}`, clientMessageId: cmid });
      expect(retry.status).toBe(200);
      expect(retry.body.id).toBe(first.body.id);
      // Over WebSocket too, and retried there.
      const socket = await connect(wsUrl, user);
      try {
        const wsCmid = `${cmid}`;
        const again = await socket.request({ type: 'message_send', roomId: room, content: `as ${cmid}`, clientMessageId: wsCmid });
        expect(again).toMatchObject({ type: 'ack', result: { id: first.body.id } });
      } finally {
        await socket.close();
      }
      const history = await api(httpUrl, 'GET', `/rooms/${room}/messages?afterSeq=0`, { token: user.token });
      expect(history.body.items.map((m: any) => m.clientMessageId)).toEqual(['warm-up-1', cmid]);
    });
  }

  it('sends each of them in one room over WebSocket, each once', async () => {
    const user = await createUser(httpUrl, 'dee');
    const made = await api(httpUrl, 'POST', '/rooms', { token: user.token, body: { type: 'group', name: 'All four', memberIds: [] } });
    const room = made.body.id;
    const socket = await connect(wsUrl, user);
    try {
      const ids: string[] = [];
      for (const cmid of ['warm-up', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        const ack = await socket.request({ type: 'message_send', roomId: room, content: cmid, clientMessageId: cmid });
        expect(ack.type, JSON.stringify(ack)).toBe('ack');
        const retry = await socket.request({ type: 'message_send', roomId: room, content: cmid, clientMessageId: cmid });
        expect(retry.result.id).toBe(ack.result.id);
        ids.push(ack.result.id);
      }
      expect(new Set(ids).size).toBe(5);
      const history = await api(httpUrl, 'GET', `/rooms/${room}/messages?afterSeq=0`, { token: user.token });
      expect(history.body.items.map((m: any) => m.content)).toEqual(['warm-up', 'constructor', '__proto__', 'toString', 'hasOwnProperty']);
    } finally {
      await socket.close();
    }
  });
});

describe('the claims kept on the seat', () => {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
  const sentOf = async (room: string, userId: string) =>
    (await db.send(new GetCommand({ TableName: TABLE.defaultName, Key: keys.seat(userId, room), ConsistentRead: true }))).Item!.sent as Record<string, string>;

  it('stay bounded, prefixed names and names written before the prefix alike', async () => {
    const user = await createUser(httpUrl, 'eve');
    const room = (await api(httpUrl, 'POST', '/rooms', { token: user.token, body: { type: 'group', name: 'Window', memberIds: [] } })).body.id;
    // A claim as items written before the prefix hold it.
    await db.send(
      new UpdateCommand({
        TableName: TABLE.defaultName,
        Key: keys.seat(user.userId, room),
        UpdateExpression: 'SET sent.#old = :at',
        ExpressionAttributeNames: { '#old': 'legacy-1' },
        ExpressionAttributeValues: { ':at': '2020-01-01T00:00:00.000Z' },
      }),
    );
    const send = (cmid: string) => api(httpUrl, 'POST', `/rooms/${room}/messages`, { token: user.token, body: { content: cmid, clientMessageId: cmid } });
    const names = ['constructor', '__proto__', ...Array.from({ length: 12 }, (_, i) => `c${i}`)];
    for (const cmid of names) expect((await send(cmid)).status, cmid).toBe(201);
    const sent = await sentOf(room, user.userId);
    expect(Object.keys(sent).length).toBeLessThanOrEqual(10);
    expect(Object.keys(sent)).not.toContain('legacy-1');
    expect(Object.keys(sent).every((n) => n.startsWith('~'))).toBe(true);
    expect(Object.keys(sent)).toContain('~c11');
    // The newest are still remembered: a retry returns the stored message.
    const retry = await send('c11');
    expect(retry.status).toBe(200);
  });
});

describe('text that is not well-formed Unicode', () => {
  it('is refused as a file name (it cannot be a download name) and kept as sent elsewhere', async () => {
    // JSON escapes: the body's text names a lone surrogate (UTF-8 cannot carry one).
    for (const fileName of ['\\ud800.png', 'a\\udfffb.pdf']) {
      const res = await api(httpUrl, 'POST', `/rooms/${roomId}/attachments`, { token: ann.token, rawBody: `{"fileName":"${fileName}","contentType":"image/png","size":100}` });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    const sent = await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, rawBody: '{"content":"a\\ud800b","metadata":{"k\\ud800":"\\udc00"}}' });
    expect(sent.status).toBe(201);
    const read = await getMessage(bo, sent.body.id);
    expect(read.body.content).toBe('a\ud800b');
    expect(read.body.metadata).toEqual({ 'k\ud800': '\udc00' });
  });
});

describe('names chosen by the client', () => {
  it('are only names: query parameters and headers called constructor or __proto__ get a clean answer', async () => {
    for (const q of ['constructor=1', '__proto__=1', 'toString=x', 'hasOwnProperty=x', 'limit=5&constructor=1']) {
      const res = await api(httpUrl, 'GET', `/rooms?${q}`, { token: ann.token });
      expect(res.status, q).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    const headers = await api(httpUrl, 'GET', '/rooms', { token: ann.token, headers: { constructor: 'x', '__proto__': 'y', 'hasOwnProperty': 'z' } });
    expect(headers.status).toBe(200);
    // A WebSocket upgrade with such names still connects (and is refused only for its token).
    const url = new URL(wsUrl);
    url.searchParams.set('token', ann.token);
    url.searchParams.set('constructor', 'x');
    url.searchParams.set('__proto__', 'y');
    const socket = await connect(url.toString(), undefined);
    // The greeting, whatever came before it (an event of one of Ann's rooms may).
    expect(socket.frames.find((f) => f.type === 'connection_established')).toMatchObject({ type: 'connection_established', userId: ann.userId });
    await socket.close();
  });
});
