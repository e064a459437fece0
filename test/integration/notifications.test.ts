import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ulid } from 'ulid';
import { message } from '#shared/adapters/dynamodb/entities/message.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { messageIdFor } from '#shared/domain/messages.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { api, connect, createUser, eventually, type TestUser } from '#test/support/clients.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { startEventsSink, type EventsSink } from '#test/support/events-sink.ts';
import { startPushService, type PushService } from '#test/support/push-service.ts';
import { contractEnvelope, LOCAL_EVENT_BUS, startEventBridge } from '#infra/local/event-bridge.ts';
import { LOCAL_ACCOUNT } from '#infra/local/iam-policy.ts';

/**
 * Outbound events and notifications end to end: a runtime of its own whose PARLEY_EVENTS_URL is a
 * real HTTP server here (the events travel consumer → PutEvents → the runtime's EventBridge → this
 * server), a push service here that checks VAPID and decrypts, real users over HTTP and WebSocket.
 * The coalescing window is 2 s so it can be waited out.
 */
const WINDOW_MS = 2_000;
let runtime: Runtime, sink: EventsSink, push: PushService;
let http: string;

beforeAll(async () => {
  [sink, push] = await Promise.all([startEventsSink(), startPushService()]);
  runtime = await startRuntime({
    PARLEY_EVENTS_URL: sink.url,
    PARLEY_NOTIFY_COALESCE_SECONDS: String(WINDOW_MS / 1000),
    PARLEY_SEND_RATE_LIMIT: '0',
    PARLEY_WRITE_RATE_LIMIT: '0',
  });
  http = runtime.httpUrl;
}, 90_000);
afterAll(async () => {
  await runtime?.stop();
  await Promise.all([sink?.close(), push?.close()]);
});

const users = (...names: string[]) => Promise.all(names.map((n) => createUser(http, n)));
const post = async (u: TestUser, path: string, body: unknown, method = 'POST') => api(http, method, path, { token: u.token, body });
async function room(owner: TestUser, members: TestUser[], type: 'group' | 'direct' = 'group'): Promise<string> {
  const res = await post(owner, '/rooms', { type, ...(type === 'group' && { name: 'Crew' }), memberIds: members.map((m) => m.userId) });
  expect(res.status).toBe(201);
  return res.body.id;
}
async function send(u: TestUser, roomId: string, content: string) {
  const res = await post(u, `/rooms/${roomId}/messages`, { content });
  expect(res.status).toBe(201);
  return res.body as { id: string; seq: number };
}
const ofRoom = (roomId: string, list = sink.unique()) => list.filter((e) => e.detail.roomId === roomId);
const notifications = (roomId: string) => ofRoom(roomId).filter((e) => e['detail-type'] === 'notification.requested');
/**
 * Resolves once the message's own event is out: the notifications of the messages before it are
 * too, but not yet its own (they are decided after its event is put).
 */
const published = (messageId: string) =>
  eventually(() => expect(sink.received.some((e) => e['detail-type'] === 'message.created' && e.detail.message.id === messageId)).toBe(true), 15_000);
/**
 * Resolves once the notifications of every message of the room so far are decided, the last one's
 * included: a reaction notifies no one, and its record is handled after the messages before it by
 * the same consumer, so its event follows their notifications.
 */
async function decided(u: TestUser, roomId: string, messageId: string) {
  const emoji = '👀';
  expect((await post(u, `/rooms/${roomId}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`, undefined, 'PUT')).status).toBeLessThan(300);
  await eventually(
    () => expect(sink.received.some((e) => e['detail-type'] === 'reaction.added' && e.detail.messageId === messageId && e.detail.userId === u.userId && e.detail.emoji === emoji)).toBe(true),
    15_000,
  );
}

describe('outbound events', () => {
  it('every stored change, once per change, in order per room, in the EventBridge envelope', async () => {
    const [ann, bo, cy] = (await users('ann', 'bo', 'cy')) as [TestUser, TestUser, TestUser];
    const roomId = await room(ann, [bo]);
    const m = await send(ann, roomId, 'first');
    expect((await post(bo, `/rooms/${roomId}/messages/${m.id}/reactions/${encodeURIComponent('👍')}`, undefined, 'PUT')).status).toBeLessThan(300);
    expect((await api(http, 'DELETE', `/rooms/${roomId}/messages/${m.id}/reactions/${encodeURIComponent('👍')}`, { token: bo.token })).status).toBeLessThan(300);
    expect((await post(ann, `/rooms/${roomId}/messages/${m.id}`, { content: 'first, edited' }, 'PATCH')).status).toBe(200);
    expect((await api(http, 'DELETE', `/rooms/${roomId}/messages/${m.id}`, { token: ann.token })).status).toBeLessThan(300);
    expect((await post(ann, `/rooms/${roomId}/members`, { userId: cy.userId })).status).toBeLessThan(300);
    expect((await api(http, 'DELETE', `/rooms/${roomId}/members/${cy.userId}`, { token: ann.token })).status).toBeLessThan(300);
    expect((await post(ann, `/rooms/${roomId}`, { name: 'Renamed' }, 'PATCH')).status).toBe(200);
    expect((await api(http, 'DELETE', `/rooms/${roomId}`, { token: ann.token })).status).toBeLessThan(300);

    const events = await eventually(() => {
      const list = ofRoom(roomId);
      expect(list.at(-1)?.['detail-type']).toBe('room.archived');
      return list;
    }, 15_000);
    const types = events.map((e) => e['detail-type']);
    // The room and its first members, then each change in the order it was made (system messages among them).
    expect(types.slice(0, 3).sort()).toEqual(['member.joined', 'member.joined', 'room.created']);
    expect(types.slice(3).filter((t) => t !== 'message.created')).toEqual([
      'reaction.added',
      'reaction.removed',
      'message.edited',
      'message.deleted',
      'member.joined',
      'member.left',
      'room.updated',
      'room.archived',
    ]);
    for (const e of events) {
      // The id consumers drop repeats by is Parley's, the same as detail.eventId (what AWS consumers use).
      expect(e).toMatchObject({ source: 'parley', detail: { roomId, eventId: e.id } });
      expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    }
    const created = events.find((e) => e['detail-type'] === 'message.created' && e.detail.message.id === m.id)!;
    expect(created.detail.message).toMatchObject({ id: m.id, roomId, seq: m.seq, content: 'first', senderId: ann.userId });
    const detailOf = (type: string) => {
      const { eventId: _, ...detail } = events.find((e) => e['detail-type'] === type)!.detail;
      return detail;
    };
    expect(detailOf('reaction.added')).toEqual({ roomId, messageId: m.id, emoji: '👍', userId: bo.userId, count: 1 });
    expect(detailOf('message.deleted')).toEqual({ roomId, messageId: m.id, seq: m.seq });
    expect(events.find((e) => e['detail-type'] === 'member.left')!.detail).toMatchObject({ roomId, userId: cy.userId });
    expect(events.find((e) => e['detail-type'] === 'room.updated')!.detail.room).toMatchObject({ id: roomId, name: 'Renamed' });
    // Once per change: no two ids for one message's creation.
    const seqs = events.filter((e) => e['detail-type'] === 'message.created').map((e) => e.detail.message.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
  });

  it('an endpoint failing for a while: retried until it answers 2xx, nothing lost, nothing doubled by id, order kept', async () => {
    const [ann, bo] = (await users('ann', 'bo')) as [TestUser, TestUser];
    const roomId = await room(ann, [bo]);
    await published((await send(ann, roomId, 'before')).id);
    let refusing = true;
    sink.respond = (e) => (refusing && e.detail.roomId === roomId ? 503 : 200);
    const attemptsBefore = sink.attempts;
    const sent: { id: string; seq: number }[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(ann, roomId, `during ${i}`));
    await eventually(() => expect(sink.attempts - attemptsBefore).toBeGreaterThanOrEqual(3), 10_000);
    expect(ofRoom(roomId).some((e) => e['detail-type'] === 'message.created' && e.detail.message.content.startsWith('during'))).toBe(false);
    refusing = false;
    sink.respond = () => 200;
    await published(sent.at(-1)!.id);
    const created = ofRoom(roomId).filter((e) => e['detail-type'] === 'message.created').map((e) => e.detail.message.id);
    expect(created.slice(-5)).toEqual(sent.map((s) => s.id));
    // Accepted once each: the refused posts were re-sent with the same id, and only once accepted.
    const accepted = ofRoom(roomId, sink.received).filter((e) => e['detail-type'] === 'message.created');
    expect(new Set(accepted.map((e) => e.id)).size).toBe(accepted.length);
  });

  it('a slow events endpoint never delays live fan-out', async () => {
    const [ann, bo] = (await users('ann', 'bo')) as [TestUser, TestUser];
    const roomId = await room(ann, [bo]);
    const socket = await connect(runtime.wsUrl, bo);
    try {
      sink.respond = async (e) => {
        if (e.detail.roomId === roomId) await new Promise((r) => setTimeout(r, 6_000));
        return 200;
      };
      const m = await send(ann, roomId, 'live please');
      const started = Date.now();
      // Well before the endpoint answers (a slow machine's margin, not a latency target).
      await socket.next((f) => f.type === 'message_new' && f.message.id === m.id, 5_000);
      expect(Date.now() - started).toBeLessThan(4_000);
      await published(m.id);
    } finally {
      sink.respond = () => 200;
      await socket.close();
    }
  });
});

describe('who is notified', () => {
  it('offline members whose preference admits it; never the sender nor a connected member', async () => {
    const [ann, bo, cy, di, ed, fay] = (await users('ann', 'bo', 'cy', 'di', 'ed', 'fay')) as TestUser[] as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser];
    expect((await api(http, 'GET', '/me/preferences', { token: cy.token })).body).toEqual({ notify: 'mentions' });
    expect((await post(di, '/me/preferences', { notify: 'all' }, 'PUT')).body).toEqual({ notify: 'all' });
    expect((await post(ed, '/me/preferences', { notify: 'none' }, 'PUT')).body).toEqual({ notify: 'none' });
    expect((await post(bo, '/me/preferences', { notify: 'all' }, 'PUT')).status).toBe(200);
    const roomId = await room(ann, [bo, cy, di, ed, fay]);
    const socket = await connect(runtime.wsUrl, bo); // connected: all, yet nothing
    let mention: { id: string; seq: number }, plain: { id: string; seq: number }, mentionNone: { id: string; seq: number };
    try {
      mention = await send(ann, roomId, `hello <@${fay.userId}>`);
      // di's window opens when the mention's notifications are decided, after its own event is out.
      await eventually(() => expect(notifications(roomId).some((e) => e.detail.seq === mention.seq && e.detail.userId === di.userId)).toBe(true), 15_000);
      await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
      plain = await send(ann, roomId, 'no one named');
      mentionNone = await send(ann, roomId, `<@${ed.userId}> you muted everything`);
      await published((await send(bo, roomId, 'marker')).id);
    } finally {
      await socket.close();
    }
    const got = notifications(roomId).map((e) => e.detail);
    expect(got.filter((d) => d.seq === mention.seq).map((d) => [d.userId, d.reason]).sort()).toEqual([[di.userId, 'message'], [fay.userId, 'mention']].sort());
    // The window has passed for di: a plain message notifies the one who wants all.
    expect(got.filter((d) => d.seq === plain.seq).map((d) => [d.userId, d.reason])).toEqual([[di.userId, 'message']]);
    expect(got.some((d) => d.seq === mentionNone.seq)).toBe(false);
    for (const u of [ann, bo, cy, ed]) expect(got.some((d) => d.userId === u.userId)).toBe(false);
    const fayOne = got.find((d) => d.userId === fay.userId)!;
    expect(fayOne).toMatchObject({ roomId, messageId: mention.id, seq: mention.seq, reason: 'mention', unreadTotal: expect.any(Number) });
    expect(fayOne.unreadTotal).toBeGreaterThanOrEqual(1);
  });

  it('a direct room notifies under the default; a per-room level overrides mine', async () => {
    const [ann, cy, di, ed] = (await users('ann', 'cy', 'di', 'ed')) as [TestUser, TestUser, TestUser, TestUser];
    const direct = await room(ann, [cy], 'direct');
    const group = await room(ann, [cy, di]);
    // Connected: a direct message to Ed notifies no one (presence is read first in a direct room).
    const withEd = await room(ann, [ed], 'direct');
    const edSocket = await connect(runtime.wsUrl, ed);
    try {
      await decided(ann, withEd, (await send(ann, withEd, 'you are here')).id);
    } finally {
      await edSocket.close();
    }
    expect(notifications(withEd)).toEqual([]);
    expect((await post(cy, `/rooms/${group}/preferences`, { notify: 'all' }, 'PUT')).body).toEqual({ roomId: group, notify: 'all', effective: 'all' });
    expect((await post(di, '/me/preferences', { notify: 'all' }, 'PUT')).status).toBe(200);
    expect((await post(di, `/rooms/${group}/preferences`, { notify: 'mentions' }, 'PUT')).body).toMatchObject({ notify: 'mentions', effective: 'mentions' });
    const d = await send(ann, direct, 'just us');
    const g = await send(ann, group, 'everyone');
    await published((await send(ann, group, 'marker')).id);
    await published(d.id);
    expect(notifications(direct).map((e) => [e.detail.userId, e.detail.reason, e.detail.seq])).toEqual([[cy.userId, 'direct', d.seq]]);
    expect(notifications(group).filter((e) => e.detail.seq === g.seq).map((e) => e.detail.userId)).toEqual([cy.userId]);
  });

  it('a message stored before messages carried their room\'s type: its room is read first, and a direct room\'s still notifies', async () => {
    const [ann, cy] = (await users('ann', 'cy')) as [TestUser, TestUser];
    const direct = await room(ann, [cy], 'direct');
    // The room's next seq (none sent: one notification would coalesce the next), written as a
    // release before this one wrote messages: no `mv`, no `rt`.
    const history = await post(ann, `/rooms/${direct}/messages`, undefined, 'GET');
    expect(history.status).toBe(200);
    const seq = ((history.body.items as { seq: number }[]).at(-1)?.seq ?? 0) + 1;
    const legacy = { id: messageIdFor(ulid(), seq), roomId: direct, seq, senderId: ann.userId, senderName: ann.displayName, type: 'text', content: 'untyped', mentions: [], createdAt: new Date().toISOString() };
    const item = message.toItem(legacy);
    expect(item).not.toHaveProperty('rt');
    const db = new DynamoDBClient({ endpoint: runtime.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    try {
      await db.send(new PutItemCommand({ TableName: TABLE.defaultName, Item: marshall(item, { removeUndefinedValues: true }), ConditionExpression: 'attribute_not_exists(PK)' }));
    } finally {
      db.destroy();
    }
    await published(legacy.id);
    await eventually(() => expect(notifications(direct).map((e) => [e.detail.userId, e.detail.reason, e.detail.seq])).toContainEqual([cy.userId, 'direct', seq]), 15_000);
  });

  it('mute: without mutedUntil (level none) and until a time; clearing it', async () => {
    const [ann, cy, di] = (await users('ann', 'cy', 'di')) as [TestUser, TestUser, TestUser];
    const roomId = await room(ann, [cy, di]);
    for (const res of await Promise.all([cy, di].map((u) => post(u, '/me/preferences', { notify: 'all' }, 'PUT')))) expect(res.body).toEqual({ notify: 'all' });
    expect((await post(cy, `/rooms/${roomId}/preferences`, { notify: 'none' }, 'PUT')).body.effective).toBe('none');
    const until = new Date(Date.now() + 3_600_000).toISOString();
    expect((await post(di, `/rooms/${roomId}/preferences`, { mutedUntil: until }, 'PUT')).body).toEqual({ roomId, mutedUntil: until, effective: 'none' });
    expect((await api(http, 'GET', `/rooms/${roomId}/preferences`, { token: di.token })).body).toEqual({ roomId, mutedUntil: until, effective: 'none' });
    const muted = await send(ann, roomId, 'hush');
    // Decided before the preferences change below: a message's notifications are decided with the
    // preferences as they stand then, so one still pending would be decided with the new ones.
    await decided(ann, roomId, muted.id);
    expect(notifications(roomId)).toEqual([]);

    // A mute in the past admits; clearing the level goes back to my default.
    expect((await post(di, `/rooms/${roomId}/preferences`, { mutedUntil: new Date(Date.now() - 1000).toISOString() }, 'PUT')).body.effective).toBe('all');
    expect((await post(cy, `/rooms/${roomId}/preferences`, { notify: null }, 'PUT')).body).toEqual({ roomId, effective: 'all' });
    const open = await send(ann, roomId, 'speak');
    await published((await send(ann, roomId, 'marker 2')).id);
    expect(notifications(roomId).filter((e) => e.detail.seq === open.seq).map((e) => e.detail.userId).sort()).toEqual([cy.userId, di.userId].sort());
  });

  it('coalescing: one per user and room per window; the next one says how many', async () => {
    const [ann, di] = (await users('ann', 'di')) as [TestUser, TestUser];
    await post(di, '/me/preferences', { notify: 'all' }, 'PUT');
    const roomId = await room(ann, [di]);
    const first = await send(ann, roomId, 'one');
    await send(ann, roomId, 'two');
    const third = await send(ann, roomId, 'three');
    await published(third.id);
    expect(notifications(roomId).map((e) => [e.detail.seq, e.detail.count])).toEqual([[first.seq, 1]]);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 200));
    const fourth = await send(ann, roomId, 'four');
    await published((await send(ann, roomId, 'marker')).id);
    const got = notifications(roomId).map((e) => [e.detail.seq, e.detail.count]);
    expect(got).toEqual([[first.seq, 1], [fourth.seq, 3]]);
    // Counted when it went out: the four messages at least (the marker may have been stored by then).
    expect(notifications(roomId).at(-1)!.detail.unreadTotal).toBeGreaterThanOrEqual(4);
  });

  it('read before the notification went out: none', async () => {
    // The consumer is held back by a slow push service (as a real one can be): Ed's push for the
    // first message takes 3 s, and Di reads the mention meanwhile, before the consumer reaches it.
    const [ann, di, ed] = (await users('ann', 'di', 'ed')) as [TestUser, TestUser, TestUser];
    await post(ed, '/me/preferences', { notify: 'all' }, 'PUT');
    const slow = push.subscribe();
    push.delayFor.set(new URL(slow.endpoint).pathname, 3_000);
    expect((await post(ed, '/me/push-subscriptions', slow.json, 'PUT')).status).toBe(200);
    const roomId = await room(ann, [di, ed]);
    const first = await send(ann, roomId, 'for Ed');
    await eventually(() => expect(push.pushes.some((p) => p.endpoint === slow.endpoint)).toBe(true), 10_000);
    const mention = await send(ann, roomId, `<@${di.userId}> read me quickly`);
    expect((await post(di, `/rooms/${roomId}/read`, { messageId: mention.id })).status).toBe(200);
    await published((await send(ann, roomId, 'marker')).id);
    // Ed's first notification went out (the consumer was held there); Di, who read the mention, got none.
    expect(notifications(roomId).find((e) => e.detail.userId === ed.userId)?.detail.seq).toBe(first.seq);
    expect(notifications(roomId).filter((e) => e.detail.userId === di.userId)).toEqual([]);
  });

  it('a retried batch re-sends the same ids: one notification per (room, seq, user), one push', async () => {
    // A runtime whose EventBridge is started here, so that it can fail entries as EventBridge
    // sometimes does (InternalFailure): the notification's put fails twice, so its stream record is
    // retried, and the message's event, accepted each time, is put again.
    const credentials = { accessKeyId: 'RetryTest', secretAccessKey: 'RetryTestSecret' };
    const ownSink = await startEventsSink();
    let refusals = 2;
    const bus = await startEventBridge({
      region: 'us-east-1',
      account: LOCAL_ACCOUNT,
      busName: LOCAL_EVENT_BUS,
      credentials: [credentials],
      target: ownSink.url,
      transform: contractEnvelope,
      failEntry: (e) => (e.DetailType === 'notification.requested' && refusals-- > 0 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal Service Failure' } : undefined),
      log: () => undefined,
    });
    const rt = await startRuntime({
      AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
      PARLEY_NOTIFY_COALESCE_SECONDS: '2',
    });
    try {
      const as = (u: TestUser, path: string, body: unknown, method = 'POST') => api(rt.httpUrl, method, path, { token: u.token, body });
      const [ann, di] = (await Promise.all(['ann', 'di'].map((n) => createUser(rt.httpUrl, n)))) as [TestUser, TestUser];
      await as(di, '/me/preferences', { notify: 'all' }, 'PUT');
      const sub = push.subscribe();
      expect((await as(di, '/me/push-subscriptions', sub.json, 'PUT')).status).toBe(200);
      const roomId = (await as(ann, '/rooms', { type: 'group', name: 'Retry', memberIds: [di.userId] })).body.id as string;
      const m = (await as(ann, `/rooms/${roomId}/messages`, { content: 'once' })).body as { id: string; seq: number };
      const marker = (await as(ann, `/rooms/${roomId}/messages`, { content: 'marker' })).body as { id: string };
      await eventually(() => expect(ownSink.received.some((e) => e['detail-type'] === 'message.created' && e.detail.message.id === marker.id)).toBe(true), 20_000);
      expect(refusals).toBeLessThan(0);
      const created = ownSink.received.filter((e) => e['detail-type'] === 'message.created' && e.detail.message.id === m.id);
      expect(created.length).toBeGreaterThanOrEqual(3); // put again by each retry…
      expect(new Set(created.map((e) => e.id)).size).toBe(1); // …with one id
      const asked = ownSink.received.filter((e) => e['detail-type'] === 'notification.requested' && e.detail.seq === m.seq);
      expect(asked).toHaveLength(1);
      await eventually(() => expect(push.pushes.filter((p) => p.endpoint === sub.endpoint)).toHaveLength(1));
      expect(rt.output()).not.toContain('AccessDenied');
    } finally {
      await rt.stop();
      await bus.stop();
      await ownSink.close();
    }
  }, 120_000);
});

describe('Web Push', () => {
  it('VAPID-signed, aes128gcm-encrypted for the subscription; 410 forgets it', async () => {
    const [ann, di] = (await users('ann', 'di')) as [TestUser, TestUser];
    const { body: vapid } = await api(http, 'GET', '/push/vapid-key', { token: di.token });
    expect(Buffer.from(vapid.publicKey, 'base64url')).toHaveLength(65);
    expect(Buffer.from(vapid.publicKey, 'base64url')[0]).toBe(4);
    const sub = push.subscribe();
    expect((await post(di, '/me/push-subscriptions', sub.json, 'PUT')).body).toMatchObject({ endpoint: sub.endpoint });
    const roomId = await room(ann, [di], 'direct');
    const m = await send(ann, roomId, `hi <@${di.userId}> — lunch?`);
    const received = await eventually(() => {
      const p = push.pushes.find((x) => x.endpoint === sub.endpoint);
      expect(p).toBeDefined();
      return p!;
    }, 15_000);
    expect(push.rejected).toEqual([]);
    expect(received.vapidPublicKey).toBe(vapid.publicKey);
    expect(received.claims.aud).toBe(push.origin);
    expect(received.headers.urgency).toBe('high');
    expect(Number(received.headers.ttl)).toBeGreaterThan(0);
    expect(received.payload).toMatchObject({ roomId, messageId: m.id, seq: m.seq, title: 'Ann', reason: 'direct', unreadTotal: 1 });
    expect(received.payload.body).toContain('lunch?');

    // The push service says the subscription is gone: it is forgotten, and not called again.
    push.statusFor.set(new URL(sub.endpoint).pathname, 410);
    expect(push.hits.filter((h) => h === new URL(sub.endpoint).pathname)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
    const path = new URL(sub.endpoint).pathname;
    const calls = () => push.hits.filter((h) => h === path).length;
    await send(ann, roomId, 'still there?');
    const table = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: runtime.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
    const stored = async () =>
      (await table.send(new QueryCommand({ TableName: 'parley', KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)', ExpressionAttributeValues: { ':pk': `USER#${di.userId}`, ':sk': 'PUSH#' } }))).Items ?? [];
    await eventually(async () => expect(await stored()).toEqual([]), 15_000);
    const before = calls();
    expect(before).toBe(2); // the push, then the one answered 410
    await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
    const last = await send(ann, roomId, 'and now?');
    // Still notified (the event, for the host's own channels), with no push service called.
    await eventually(() => expect(notifications(roomId).map((e) => e.detail.seq)).toContain(last.seq), 15_000);
    expect(notifications(roomId)).toHaveLength(3);
    expect(calls()).toBe(before);
    table.destroy();
  });

  it('an eleventh device: the oldest subscription gives way, ten are kept', async () => {
    const [di] = (await users('di')) as [TestUser];
    const subs = Array.from({ length: 11 }, () => push.subscribe());
    // One after another, so that each is older than the next.
    for (const sub of subs) expect((await post(di, '/me/push-subscriptions', sub.json, 'PUT')).status).toBe(200);
    const table = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: runtime.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
    try {
      const out = await table.send(new QueryCommand({ TableName: 'parley', KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)', ExpressionAttributeValues: { ':pk': `USER#${di.userId}`, ':sk': 'PUSH#' } }));
      const endpoints = (out.Items ?? []).map((i) => i.endpoint as string);
      expect(endpoints.sort()).toEqual(subs.slice(1).map((s) => s.endpoint).sort());
    } finally {
      table.destroy();
    }
  });

  it('DELETE /me/push-subscriptions forgets mine only', async () => {
    const [di, ed] = (await users('di', 'ed')) as [TestUser, TestUser];
    const sub = push.subscribe();
    expect((await post(di, '/me/push-subscriptions', sub.json, 'PUT')).status).toBe(200);
    const del = (u: TestUser) => api(http, 'DELETE', `/me/push-subscriptions?endpoint=${encodeURIComponent(sub.endpoint)}`, { token: u.token });
    expect((await del(ed)).status).toBe(204);
    expect((await del(di)).status).toBe(204);
    expect((await api(http, 'DELETE', '/me/push-subscriptions', { token: di.token })).status).toBe(400);
  });
});

describe('permission and validation rules say no', () => {
  let ann: TestUser, bo: TestUser, stranger: TestUser, roomId: string;
  beforeAll(async () => {
    [ann, bo, stranger] = (await users('ann', 'bo', 'stranger')) as [TestUser, TestUser, TestUser];
    roomId = await room(ann, [bo]);
  });

  it('room preferences: only a member, only mine', async () => {
    expect((await api(http, 'GET', `/rooms/${roomId}/preferences`, { token: stranger.token })).status).toBe(403);
    const put = await post(stranger, `/rooms/${roomId}/preferences`, { notify: 'none' }, 'PUT');
    expect(put.status).toBe(403);
    expect((await api(http, 'GET', '/rooms/no-such-room/preferences', { token: ann.token })).status).toBe(404);
    expect((await post(bo, `/rooms/${roomId}/preferences`, { notify: 'none' }, 'PUT')).status).toBe(200);
    // Bo's mute is Bo's: Ann's preferences for the room are untouched.
    expect((await api(http, 'GET', `/rooms/${roomId}/preferences`, { token: ann.token })).body).toEqual({ roomId, effective: 'mentions' });
    expect((await api(http, 'GET', `/rooms/${roomId}/preferences`)).status).toBe(401);
  });

  it('bad preferences are refused and change nothing', async () => {
    for (const body of [{}, { notify: 'loud' }, { notify: 'all', extra: 1 }]) expect((await post(ann, '/me/preferences', body, 'PUT')).status).toBe(400);
    for (const body of [{}, { mutedUntil: 'tomorrow' }, { notify: 'sometimes' }]) expect((await post(ann, `/rooms/${roomId}/preferences`, body, 'PUT')).status).toBe(400);
    expect((await api(http, 'GET', '/me/preferences', { token: ann.token })).body).toEqual({ notify: 'mentions' });
  });

  it('bad subscription JSON and unsafe endpoints are refused', async () => {
    const good = push.subscribe().json;
    const bad: unknown[] = [
      {},
      { endpoint: good.endpoint },
      { ...good, keys: { ...good.keys, p256dh: 'short' } },
      { ...good, keys: { ...good.keys, auth: Buffer.alloc(8).toString('base64url') } },
      { ...good, keys: { p256dh: Buffer.alloc(65, 1).toString('base64url'), auth: good.keys.auth } },
    ];
    for (const body of bad) expect((await post(ann, '/me/push-subscriptions', body, 'PUT')).status).toBe(400);
    for (const endpoint of [
      'http://push.example.com/x', // not https
      'https://169.254.169.254/latest/meta-data',
      'https://[fd00:ec2::254]/x',
      'https://10.0.0.5/x',
      'https://localhost/x',
      'https://metadata.google.internal/x',
      'https://127.0.0.2/x',
      'http://127.0.0.1.nip.io/x',
      'ftp://push.example.com/x',
      'https://user:pw@push.example.com/x',
    ]) {
      const res = await post(ann, '/me/push-subscriptions', { ...good, endpoint }, 'PUT');
      expect({ endpoint, status: res.status, code: res.body.error?.code }).toEqual({ endpoint, status: 400, code: 'validation_failed' });
    }
    expect((await post(ann, '/me/push-subscriptions', { ...good, endpoint: 'https://push.example.com/ok' }, 'PUT')).status).toBe(200);
  });
});
