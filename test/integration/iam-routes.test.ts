import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import pngjs from 'pngjs';
import { apiOk, connect, createUser, eventually, uniqueId, type Frame, type TestSocket, type TestUser } from '#test/support/clients.ts';
import { plantStaleConnection } from '#test/support/stale-connection.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { serviceApi } from '#test/support/service.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';

/**
 * Every route and trigger under its own grants, with the limits a deployment has (rate counters
 * on): a runtime of its own, whose output shows every refusal. Together with the other files this
 * uses every grant of the permission table (the run's teardown fails on one nobody used).
 */
let rt: Runtime;
let db: DynamoDBDocumentClient;
const deniedLines = () => rt.output().split('\n').filter((l) => l.includes('AccessDenied'));

beforeAll(async () => {
  rt = await startRuntime({ PARLEY_TTL_SWEEP_SECONDS: '1' });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: rt.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
}, 120_000);
afterAll(async () => {
  db?.destroy();
  await rt?.stop();
});

const ok = (user: TestUser, method: string, path: string, body?: unknown) => apiOk(rt.httpUrl, user, method, path, body);
const users = (...names: string[]) => Promise.all(names.map((n) => createUser(rt.httpUrl, n)));
const presence = async (userId: string) =>
  (await db.send(new GetCommand({ TableName: TABLE.defaultName, Key: keys.presence(userId), ConsistentRead: true }))).Item;
const connectionItem = async (id: string) =>
  (await db.send(new GetCommand({ TableName: TABLE.defaultName, Key: keys.connection(id), ConsistentRead: true }))).Item;

/** Presigned download URLs anywhere in a response or frame, by the prefix they point into. */
function downloadUrls(value: unknown): { files: string[]; thumbs: string[] } {
  const all = JSON.stringify(value ?? null).match(/https?:[^"]+X-Amz-Signature=[^"]+/g) ?? [];
  return { files: all.filter((u) => u.includes('/files/')), thumbs: all.filter((u) => u.includes('/thumbs/')) };
}
/** Each view's file and thumbnail URLs work: they were signed by a function that may read them. */
async function expectDownloads(what: string, value: unknown) {
  const { files, thumbs } = downloadUrls(value);
  expect(files.length, `${what}: a file URL`).toBeGreaterThan(0);
  expect(thumbs.length, `${what}: a thumbnail URL`).toBeGreaterThan(0);
  for (const url of [files[0]!, thumbs[0]!]) expect((await fetch(url)).status, `${what}: ${url}`).toBe(200);
}

function png(size = 64): Buffer {
  const p = new pngjs.PNG({ width: size, height: size });
  p.data = Buffer.alloc(size * size * 4, 0x80);
  return pngjs.PNG.sync.write(p);
}
async function upload(user: TestUser, roomId: string): Promise<string> {
  const bytes = png();
  const ticket = await ok(user, 'POST', `/rooms/${roomId}/attachments`, { fileName: 'p.png', contentType: 'image/png', size: bytes.length });
  const { 'content-length': _l, ...headers } = ticket.uploadHeaders;
  expect((await fetch(ticket.uploadUrl, { method: 'PUT', headers, body: bytes })).status).toBe(200);
  return ticket.attachmentId;
}
/** Waits until the message's attachment has its thumbnail. */
const withThumbnail = (user: TestUser, roomId: string, messageId: string) =>
  eventually(async () => {
    const m = await ok(user, 'GET', `/rooms/${roomId}/messages/${messageId}`);
    if (!m.attachments?.[0]?.thumbnailUrl) throw new Error('no thumbnail yet');
    return m;
  }, 20_000, 100);

describe('every route under its own grants, rate limits on', () => {
  it('answers each HTTP route, WebSocket route and trigger without a refusal, download URLs included', async () => {
    const [ann, bo, cy] = (await users('ann', 'bo', 'cy')) as [TestUser, TestUser, TestUser];
    const room = await ok(ann, 'POST', '/rooms', { type: 'group', name: 'Tour', memberIds: [bo.userId], visibility: 'public' });
    const roomId: string = room.id;
    const boSocket = await connect(rt.wsUrl, bo);
    const annSocket = await connect(rt.wsUrl, ann);
    try {
      const since = new Date(Date.now() - 1000).toISOString();
      // Sends with an attachment, over HTTP and WebSocket: copied from uploads/ to files/, then a thumbnail.
      const httpSend = { content: 'tour picture', clientMessageId: uniqueId('c'), attachmentIds: [await upload(ann, roomId)] };
      const sent = await ok(ann, 'POST', `/rooms/${roomId}/messages`, httpSend);
      const wsSend = { type: 'message_send', roomId, content: 'tour by socket', clientMessageId: uniqueId('c'), attachmentIds: [await upload(ann, roomId)] };
      const wsSent = await annSocket.request(wsSend);
      expect(wsSent, JSON.stringify(wsSent)).toMatchObject({ type: 'ack' });
      await expectDownloads('GET message', await withThumbnail(ann, roomId, sent.id));
      await withThumbnail(ann, roomId, wsSent.result.id);
      // A send retried with its clientMessageId answers the stored message, thumbnail by now included.
      await expectDownloads('send, retried', await ok(ann, 'POST', `/rooms/${roomId}/messages`, httpSend));
      await expectDownloads('ws send, retried', await annSocket.request(wsSend));

      // A reply (reads the message replied to), and a send whose file is not what it claims (its records go).
      expect(await annSocket.request({ type: 'message_send', roomId, content: 'a reply', replyTo: sent.id })).toMatchObject({ type: 'ack' });
      const fake = Buffer.concat([Buffer.from([0x4d, 0x5a, 0x90, 0x00]), Buffer.alloc(200, 0)]);
      const fakeTicket = await ok(ann, 'POST', `/rooms/${roomId}/attachments`, { fileName: 'x.png', contentType: 'image/png', size: fake.length });
      const { 'content-length': _fl, ...fakeHeaders } = fakeTicket.uploadHeaders;
      expect((await fetch(fakeTicket.uploadUrl, { method: 'PUT', headers: fakeHeaders, body: fake })).status).toBe(200);
      expect(await annSocket.request({ type: 'message_send', roomId, content: 'fake', attachmentIds: [fakeTicket.attachmentId] })).toMatchObject({
        type: 'error',
        code: 'validation_failed',
      });

      // Views that presign downloads.
      await expectDownloads('list messages', await ok(bo, 'GET', `/rooms/${roomId}/messages`));
      await expectDownloads('search', await ok(bo, 'GET', `/search?q=picture`));
      await expectDownloads('edit', await ok(ann, 'PATCH', `/rooms/${roomId}/messages/${sent.id}`, { content: 'tour picture, edited' }));
      await expectDownloads('add reaction', await ok(bo, 'PUT', `/rooms/${roomId}/messages/${sent.id}/reactions/${encodeURIComponent('👍')}`));
      await expectDownloads('remove reaction', await ok(bo, 'DELETE', `/rooms/${roomId}/messages/${sent.id}/reactions/${encodeURIComponent('👍')}`));
      await expectDownloads('changes', await ok(bo, 'GET', `/rooms/${roomId}/changes?since=${encodeURIComponent(since)}`));
      const edited = await annSocket.request({ type: 'message_edit', roomId, messageId: wsSent.result.id, content: 'edited by socket' });
      await expectDownloads('ws edit', edited);
      await expectDownloads('ws reaction add', await boSocket.request({ type: 'reaction_add', roomId, messageId: wsSent.result.id, emoji: '🎉' }));
      await expectDownloads('ws reaction remove', await boSocket.request({ type: 'reaction_remove', roomId, messageId: wsSent.result.id, emoji: '🎉' }));
      // The fan-out's views: an edit of a message whose thumbnail exists reaches Bo with both URLs.
      const update = await boSocket.next((f: Frame) => f.type !== 'ack' && f.message?.id === wsSent.result.id && downloadUrls(f).thumbs.length > 0);
      await expectDownloads('fan-out', update);
      // The newest message is the room's preview in the room list.
      await ok(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'preview', attachmentIds: [await upload(ann, roomId)] });
      const newest = (await ok(ann, 'GET', `/rooms/${roomId}/messages?limit=1`)).items[0];
      await withThumbnail(ann, roomId, newest.id);
      await expectDownloads('list rooms', (await ok(ann, 'GET', '/rooms')).items.find((r: { room: { id: string } }) => r.room.id === roomId));

      // The rest of the routes.
      await ok(bo, 'POST', `/rooms/${roomId}/read`, { messageId: sent.id });
      expect(await boSocket.request({ type: 'read', roomId, messageId: newest.id })).toMatchObject({ type: 'ack' });
      await ok(bo, 'GET', '/unread');
      await ok(bo, 'GET', `/rooms/${roomId}`);
      await ok(bo, 'GET', `/rooms/${roomId}/typing`);
      expect(await boSocket.request({ type: 'typing', roomId, isTyping: true })).toMatchObject({ type: 'ack' });
      expect(await boSocket.request({ type: 'typing', roomId, isTyping: false })).toMatchObject({ type: 'ack' });
      await ok(ann, 'DELETE', `/rooms/${roomId}/messages/${sent.id}`);
      expect(await annSocket.request({ type: 'message_delete', roomId, messageId: wsSent.result.id })).toMatchObject({ type: 'ack' });
      await ok(ann, 'PATCH', `/rooms/${roomId}`, { name: 'Tour, renamed' });
      await ok(cy, 'GET', '/rooms/public');
      await ok(cy, 'POST', `/rooms/${roomId}/join`);
      await ok(ann, 'GET', `/rooms/${roomId}/members`);
      const [dee] = (await users('dee')) as [TestUser];
      await ok(ann, 'POST', `/rooms/${roomId}/members`, { userId: dee.userId });
      await ok(ann, 'PATCH', `/rooms/${roomId}/members/${dee.userId}`, { role: 'moderator' });
      await ok(ann, 'DELETE', `/rooms/${roomId}/members/${dee.userId}`);
      await ok(bo, 'PUT', '/me/presence', { status: 'away' });
      expect(await boSocket.request({ type: 'presence_set', status: 'busy' })).toMatchObject({ type: 'ack' });
      await ok(ann, 'GET', `/presence?userIds=${bo.userId}`);
      await ok(ann, 'DELETE', `/rooms/${roomId}`);

      // The host platform's service API.
      const service = { ...rt.service };
      const context = uniqueId('order');
      const created = await serviceApi(rt.httpUrl, service, 'POST', '/service/rooms', { context: { kind: 'order', id: context }, name: 'Order', members: [{ userId: ann.userId }] });
      expect(created.status, JSON.stringify(created.body)).toBeLessThan(300);
      const sid = created.body.id;
      for (const [method, path, body] of [
        ['POST', `/service/rooms/${sid}/members`, { userId: bo.userId }],
        ['POST', `/service/rooms/${sid}/messages`, { type: 'payment', content: 'paid', metadata: { amount: 1 } }],
        ['DELETE', `/service/rooms/${sid}/members/${bo.userId}`, undefined],
        ['DELETE', `/service/rooms/${sid}`, undefined],
      ] as const) {
        const res = await serviceApi(rt.httpUrl, service, method, path, body);
        expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
      }
    } finally {
      await Promise.all([boSocket.close(), annSocket.close()]);
    }
    expect(deniedLines()).toEqual([]);
  });
});

describe('the fan-out forgetting connections, enforcement on', () => {
  const staleConnection = (userId: string, item: Record<string, unknown> = {}) => plantStaleConnection(db, userId, { item });
  const messagesIn = (socket: TestSocket, id: string) => socket.frames.filter((f) => f.type === 'message_new' && f.message.id === id);

  async function roomWith(owner: TestUser, members: TestUser[]): Promise<string> {
    return (await ok(owner, 'POST', '/rooms', { type: 'group', name: 'Fan-out', memberIds: members.map((m) => m.userId) })).id;
  }

  it('forgets a recipient whose socket died without $disconnect (410): presence cleared, everyone else served once', async () => {
    const [ann, bo, cy] = (await users('ann', 'bo', 'cy')) as [TestUser, TestUser, TestUser];
    const roomId = await roomWith(ann, [bo, cy]);
    const stale = await staleConnection(bo.userId);
    const [boLive, cySocket] = await Promise.all([connect(rt.wsUrl, bo), connect(rt.wsUrl, cy)]);
    try {
      const sent = await ok(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'to the living' });
      await eventually(async () => {
        expect(await connectionItem(stale)).toBeUndefined();
        expect([...((await presence(bo.userId))?.conns ?? [])].join(' ')).not.toContain(stale);
      }, 10_000);
      // A refused presence update would fail the record, and its retry would serve everyone again.
      await new Promise((r) => setTimeout(r, 1500));
      expect(messagesIn(boLive, sent.id)).toHaveLength(1);
      expect(messagesIn(cySocket, sent.id)).toHaveLength(1);
      expect([...((await presence(bo.userId))?.conns ?? [])]).toHaveLength(1);
    } finally {
      await Promise.all([boLive.close(), cySocket.close()]);
    }
    expect(deniedLines()).toEqual([]);
  });

  it('takes a connection expired by TTL off its user\'s presence: offline, no refusal, nothing delivered twice', async () => {
    const [ann, bo] = (await users('ann', 'bo')) as [TestUser, TestUser];
    const roomId = await roomWith(ann, [bo]);
    const annSocket = await connect(rt.wsUrl, ann);
    try {
      const before = await ok(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'before' });
      await annSocket.next((f) => f.type === 'message_new' && f.message.id === before.id);
      const expired = await staleConnection(bo.userId, { [TABLE.ttlAttribute]: Math.floor(Date.now() / 1000) - 60 });
      await eventually(async () => {
        expect(await connectionItem(expired)).toBeUndefined();
        expect([...((await presence(bo.userId))?.conns ?? [])]).toEqual([]);
      }, 15_000, 100);
      const after = await ok(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'after' });
      await annSocket.next((f) => f.type === 'message_new' && f.message.id === after.id);
      await new Promise((r) => setTimeout(r, 1500));
      expect(messagesIn(annSocket, before.id)).toHaveLength(1);
      expect(messagesIn(annSocket, after.id)).toHaveLength(1);
      const { items } = await ok(ann, 'GET', `/presence?userIds=${bo.userId}`);
      expect(items).toEqual([expect.objectContaining({ userId: bo.userId, status: 'offline' })]);
    } finally {
      await annSocket.close();
    }
    expect(deniedLines()).toEqual([]);
  });
});
