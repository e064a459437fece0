import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { LOCAL_CREDENTIALS } from '#infra/local/services.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { itemBytes, writeUnits } from '#shared/adapters/dynamodb/capacity.ts';
import { api, apiOk, connect, createUser, eventually, type TestSocket, type TestUser } from '#test/support/clients.ts';
import { serviceApi } from '#test/support/service.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { startEventsSink, type EventsSink } from '#test/support/events-sink.ts';
import { startPushService, type PushService } from '#test/support/push-service.ts';
import { CHAT_PROSE } from '#bench/fixtures/chat-text.ts';

/**
 * Long message text is stored compressed (`contentZ`), and nothing a client sees changes: sent,
 * delivered, read, caught up, searched, edited both ways and deleted, over the real runtime, with
 * the item looked at in DynamoDB Local behind the API.
 */
const httpUrl = inject('httpUrl');
const wsUrl = inject('wsUrl');
const db = new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1', credentials: LOCAL_CREDENTIALS });

let ann: TestUser, bo: TestUser;
let roomId: string;
let annSocket: TestSocket, boSocket: TestSocket;

/** `bytes` bytes of ordinary prose with a word of its own at the start (to search for), as one line. */
const proseOf = (word: string, bytes: number) => `${word} ${CHAT_PROSE.repeat(3)}`.slice(0, bytes);
const uniqueWord = (stem: string) => `${stem}${randomBytes(4).toString('hex')}`;

async function rawItem(seq: number): Promise<Record<string, AttributeValue>> {
  const { Item } = await db.send(new GetItemCommand({ TableName: TABLE.defaultName, Key: marshall(keys.message(roomId, seq)), ConsistentRead: true }));
  if (!Item) throw new Error(`no item for seq ${seq}`);
  return Item;
}
const get = (path: string, user = bo) => apiOk(httpUrl, user, 'GET', path);

beforeAll(async () => {
  [ann, bo] = (await Promise.all(['ann', 'bo'].map((n) => createUser(httpUrl, n)))) as [TestUser, TestUser];
  roomId = (await apiOk(httpUrl, ann, 'POST', '/rooms', { type: 'group', name: 'Storage', memberIds: [bo.userId] })).id;
  [annSocket, boSocket] = await Promise.all([connect(wsUrl, ann), connect(wsUrl, bo)]);
});
afterAll(async () => {
  await Promise.all([annSocket?.close(), boSocket?.close()]);
  db.destroy();
});

describe('a long message', () => {
  let sent: Record<string, any>;
  const word = uniqueWord('quokka');
  const text = proseOf(word, 1024);

  it('is stored compressed, in a 1-unit item, and delivered to the room exactly as sent', async () => {
    expect(Buffer.byteLength(text)).toBe(1024);
    const ack = await annSocket.request({ type: 'message_send', roomId, content: text, clientMessageId: uniqueWord('c') });
    expect(ack.type, JSON.stringify(ack)).toBe('ack');
    sent = ack.result;
    expect(sent.content).toBe(text);

    const item = await rawItem(sent.seq);
    expect(item.content).toBeUndefined();
    expect(item.contentZ?.B).toBeInstanceOf(Uint8Array);
    expect(item.contentZ!.B!.byteLength).toBeLessThan(0.6 * 1024);
    // The item's other attributes with realistic ids (the figure message-content.ts cites).
    const others = itemBytes(item) - 'contentZ'.length - item.contentZ!.B!.byteLength;
    expect(others).toBeLessThan(400);
    expect(writeUnits(itemBytes(item))).toBe(1);

    // Through the stream (Lambda's JSON: base64), to both members' connections.
    for (const socket of [boSocket, annSocket]) {
      const frame = await socket.next((f) => f.type === 'message_new' && f.message.id === sent.id);
      expect(frame.message).toEqual(sent);
    }
  });

  it('reads back the same from history, the message itself, catch-up, the room list and search', async () => {
    const { reactions: _, ...view } = sent;
    const history = await get(`/rooms/${roomId}/messages?limit=10`);
    expect(history.items.find((m: any) => m.id === sent.id)).toMatchObject(view);
    expect(await get(`/rooms/${roomId}/messages/${sent.id}`)).toMatchObject(view);
    const caughtUp = await get(`/rooms/${roomId}/messages?afterSeq=${sent.seq - 1}`);
    expect(caughtUp.items[0]).toMatchObject(view);
    const rooms = await get('/rooms');
    expect(rooms.items.find((r: any) => r.room.id === roomId)?.lastMessage).toMatchObject({ id: sent.id, content: text });
    // A word in the compressed text, and one further in.
    const found = await get(`/search?q=${word}&roomId=${roomId}`);
    expect(found.items.map((m: any) => [m.id, m.content])).toEqual([[sent.id, text]]);
    expect((await get(`/search?q=${encodeURIComponent(`${word} onboarding`)}`)).items.map((m: any) => m.id)).toEqual([sent.id]);
  });

  it('is quoted in a reply by an excerpt of its text', async () => {
    const reply = await apiOk(httpUrl, bo, 'POST', `/rooms/${roomId}/messages`, { content: 'agreed', replyTo: sent.id });
    expect(reply.replyTo).toMatchObject({ id: sent.id, seq: sent.seq, senderId: ann.userId });
    expect(reply.replyTo.excerpt.length).toBeGreaterThan(20);
    expect(text.startsWith(reply.replyTo.excerpt.replace(/…$/, ''))).toBe(true);
  });

  it('edited to short text keeps only `content`, edited long again only `contentZ`, and every reader follows', async () => {
    const edit = (content: string) => apiOk(httpUrl, ann, 'PATCH', `/rooms/${roomId}/messages/${sent.id}`, { content });
    const since = new Date(Date.now() - 1000).toISOString();

    const short = await edit('short now');
    expect(short.content).toBe('short now');
    let item = await rawItem(sent.seq);
    expect(item.content).toEqual({ S: 'short now' });
    expect(item.contentZ).toBeUndefined();
    const shortFrame = await boSocket.next((f) => f.type === 'message_edited' && f.message.id === sent.id && f.message.content === 'short now');
    expect(shortFrame.message.editedAt).toBe(short.editedAt);
    expect((await get(`/search?q=${word}&roomId=${roomId}`)).items).toEqual([]);

    const longWord = uniqueWord('wombat');
    const long = proseOf(longWord, 3000);
    const ack = await annSocket.request({ type: 'message_edit', roomId, messageId: sent.id, content: long });
    expect(ack.type, JSON.stringify(ack)).toBe('ack');
    expect(ack.result.content).toBe(long);
    item = await rawItem(sent.seq);
    expect(item.content).toBeUndefined();
    expect(item.contentZ?.B).toBeInstanceOf(Uint8Array);
    const longFrame = await boSocket.next((f) => f.type === 'message_edited' && f.message.id === sent.id && f.message.content === long);
    expect(longFrame.message).toEqual(ack.result);
    expect((await get(`/rooms/${roomId}/messages/${sent.id}`)).content).toBe(long);
    expect((await get(`/search?q=${longWord}&roomId=${roomId}`)).items.map((m: any) => m.content)).toEqual([long]);
    // The changes feed has its current state.
    const changes = await get(`/rooms/${roomId}/changes?since=${encodeURIComponent(since)}`);
    expect(changes.items.find((m: any) => m.id === sent.id)).toMatchObject({ content: long, editedAt: ack.result.editedAt });
  });

  it('deleted, keeps neither its text nor its compressed form', async () => {
    const res = await api(httpUrl, 'DELETE', `/rooms/${roomId}/messages/${sent.id}`, { token: ann.token });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    const item = await rawItem(sent.seq);
    expect(item.content).toEqual({ S: '' });
    expect(item.contentZ).toBeUndefined();
    expect(item.deletedAt?.S).toBeDefined();
    const frame = await boSocket.next((f) => f.type === 'message_deleted' && f.messageId === sent.id);
    expect(frame).toMatchObject({ roomId, seq: sent.seq });
    expect(await get(`/rooms/${roomId}/messages/${sent.id}`)).toMatchObject({ id: sent.id, content: '', deletedAt: expect.any(String) });
  });
});

describe('what stays a string', () => {
  it('short text, and long text that is not well-formed Unicode, are stored as sent', async () => {
    const short = await apiOk(httpUrl, ann, 'POST', `/rooms/${roomId}/messages`, { content: 'see you at one' });
    expect(await rawItem(short.seq)).toMatchObject({ content: { S: 'see you at one' } });
    expect((await rawItem(short.seq)).contentZ).toBeUndefined();
    // A lone surrogate, in JSON escapes: UTF-8 cannot carry it, so no compressed form can.
    const res = await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, rawBody: `{"content":"${proseOf('broken', 1500)}\\ud800"}` });
    expect(res.status).toBe(201);
    const item = await rawItem(res.body.seq);
    expect(item.contentZ).toBeUndefined();
    expect((await get(`/rooms/${roomId}/messages/${res.body.id}`)).content).toBe(`${proseOf('broken', 1500)}\ud800`);
  });

  it('an item written before, with its long text in `content`, reads as it is and is compressed when edited', async () => {
    const placeholder = await apiOk(httpUrl, ann, 'POST', `/rooms/${roomId}/messages`, { content: 'placeholder' });
    const legacy = proseOf(uniqueWord('legacy'), 2000);
    await db.send(
      new UpdateItemCommand({
        TableName: TABLE.defaultName,
        Key: marshall(keys.message(roomId, placeholder.seq)),
        UpdateExpression: 'SET content = :c',
        ExpressionAttributeValues: marshall({ ':c': legacy }),
      }),
    );
    expect((await get(`/rooms/${roomId}/messages/${placeholder.id}`)).content).toBe(legacy);
    expect((await get(`/rooms/${roomId}/messages?afterSeq=${placeholder.seq - 1}`)).items[0].content).toBe(legacy);
    const edited = proseOf(uniqueWord('edited'), 2000);
    await apiOk(httpUrl, ann, 'PATCH', `/rooms/${roomId}/messages/${placeholder.id}`, { content: edited });
    const item = await rawItem(placeholder.seq);
    expect(item.content).toBeUndefined();
    expect(item.contentZ?.B).toBeInstanceOf(Uint8Array);
    expect((await get(`/rooms/${roomId}/messages/${placeholder.id}`)).content).toBe(edited);
  });
});

describe('a long message posted by the host platform', () => {
  it('is stored compressed and read back as posted', async () => {
    const text = proseOf(uniqueWord('invoice'), 1800);
    const res = await serviceApi(httpUrl, inject('service'), 'POST', `/service/rooms/${roomId}/messages`, { type: 'payment', content: text, metadata: { amount: 12 } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect((await rawItem(res.body.seq)).contentZ?.B).toBeInstanceOf(Uint8Array);
    const frame = await boSocket.next((f) => f.type === 'message_new' && f.message.id === res.body.id);
    expect(frame.message).toEqual(res.body);
    expect((await get(`/rooms/${roomId}/messages/${res.body.id}`)).content).toBe(text);
  });
});

describe('a long message through the events consumer', () => {
  // A runtime of its own whose events reach a real HTTP server here, and a push service here.
  let runtime: Runtime, sink: EventsSink, push: PushService;
  beforeAll(async () => {
    [sink, push] = await Promise.all([startEventsSink(), startPushService()]);
    runtime = await startRuntime({ PARLEY_EVENTS_URL: sink.url, PARLEY_SEND_RATE_LIMIT: '0', PARLEY_WRITE_RATE_LIMIT: '0' });
  }, 90_000);
  afterAll(async () => {
    await runtime?.stop();
    await Promise.all([sink?.close(), push?.close()]);
  });

  it('publishes its whole text and pushes its first words, as for a short one', async () => {
    const http = runtime.httpUrl;
    const [ann, di] = (await Promise.all(['ann', 'di'].map((n) => createUser(http, n)))) as [TestUser, TestUser];
    const sub = push.subscribe();
    await apiOk(http, di, 'PUT', '/me/push-subscriptions', sub.json);
    const direct = (await apiOk(http, ann, 'POST', '/rooms', { type: 'direct', memberIds: [di.userId] })).id as string;
    const text = proseOf(uniqueWord('pushed'), 2500);
    const sent = await apiOk(http, ann, 'POST', `/rooms/${direct}/messages`, { content: text });
    const event = await eventually(() => {
      const e = sink.received.find((x) => x['detail-type'] === 'message.created' && x.detail.message.id === sent.id);
      expect(e).toBeDefined();
      return e!;
    }, 15_000);
    expect(event.detail.message).toMatchObject({ id: sent.id, seq: sent.seq, content: text });
    const received = await eventually(() => {
      const p = push.pushes.find((x) => x.endpoint === sub.endpoint);
      expect(p).toBeDefined();
      return p!;
    }, 15_000);
    expect(push.rejected).toEqual([]);
    expect(received.payload).toMatchObject({ roomId: direct, messageId: sent.id, title: ann.displayName, reason: 'direct' });
    expect(received.payload.body).toBe(`${text.slice(0, 139)}…`);

    const edited = proseOf(uniqueWord('edited'), 1800);
    await apiOk(http, ann, 'PATCH', `/rooms/${direct}/messages/${sent.id}`, { content: edited });
    await eventually(() => expect(sink.received.find((x) => x['detail-type'] === 'message.edited' && x.detail.message?.id === sent.id)?.detail.message.content).toBe(edited), 15_000);
  }, 60_000);
});
