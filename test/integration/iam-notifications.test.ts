import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, apiOk, createUser, eventually, type TestUser } from '#test/support/clients.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { startEventsSink, type EventsSink } from '#test/support/events-sink.ts';
import { startPushService, type PushService } from '#test/support/push-service.ts';
import { functionsReadingSecret } from '#infra/permissions.ts';

/**
 * The notification path's grants, used and refused. The VAPID seed is read from Secrets Manager
 * once per container, and locally too each function is a container of its own
 * (functions/lib/deps.ts): each reader's own grant is the one checked (and counted by the grant
 * coverage). Outbound events are put on the runtime's EventBridge under the consumer's
 * `events:PutEvents` grant; without it nothing reaches PARLEY_EVENTS_URL, and the chat goes on.
 */
let sink: EventsSink, push: PushService;
const running: Runtime[] = [];
beforeAll(async () => {
  [sink, push] = await Promise.all([startEventsSink(), startPushService()]);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((rt) => rt.stop()));
});
afterAll(async () => {
  await Promise.all([sink?.close(), push?.close()]);
});

async function runtime(env: Record<string, string> = {}): Promise<Runtime> {
  const rt = await startRuntime({ PARLEY_EVENTS_URL: sink.url, PARLEY_SEND_RATE_LIMIT: '0', PARLEY_WRITE_RATE_LIMIT: '0', ...env });
  running.push(rt);
  return rt;
}

const ok = (rt: Runtime, user: TestUser, method: string, path: string, body?: unknown) => apiOk(rt.httpUrl, user, method, path, body);

/** A direct message to someone offline with a push subscription: the consumer puts its events and pushes. */
async function directMessageToSubscriber(rt: Runtime) {
  const [ann, di] = (await Promise.all(['ann', 'di'].map((n) => createUser(rt.httpUrl, n)))) as [TestUser, TestUser];
  const sub = push.subscribe();
  await ok(rt, di, 'PUT', '/me/push-subscriptions', sub.json);
  const room = await ok(rt, ann, 'POST', '/rooms', { type: 'direct', memberIds: [di.userId] });
  const message = await ok(rt, ann, 'POST', `/rooms/${room.id}/messages`, { content: 'are you there?' });
  return { ann, di, sub, roomId: room.id as string, message };
}

const DENIED = '[iam] AccessDenied: parley-';

describe('the VAPID seed, read under each function\'s own grant', () => {
  it('names exactly the key route and the events consumer', () => {
    expect(functionsReadingSecret('vapid-seed').sort()).toEqual(['http-get-vapid-key', 'stream-events']);
  });

  it('lets http-get-vapid-key read it through Secrets Manager when it is the first to need it', async () => {
    const rt = await runtime();
    const user = await createUser(rt.httpUrl, 'ann');
    const res = await api(rt.httpUrl, 'GET', '/push/vapid-key', { token: user.token });
    expect(res.status).toBe(200);
    expect(Buffer.from(res.body.publicKey, 'base64url')).toHaveLength(65);
    expect(rt.output()).not.toContain('AccessDenied');
  }, 120_000);

  it('lets stream-events read it when its push is the first to need it, and put the events on the bus', async () => {
    const rt = await runtime();
    const { sub, roomId, message } = await directMessageToSubscriber(rt);
    await eventually(() => expect(push.pushes.find((p) => p.endpoint === sub.endpoint)?.payload.messageId).toBe(message.id), 20_000);
    await eventually(() => expect(sink.received.some((e) => e.detail.roomId === roomId && e['detail-type'] === 'notification.requested')).toBe(true), 10_000);
    // The key the push was signed with is the one the route hands browsers.
    const user = await createUser(rt.httpUrl, 'cy');
    const { publicKey } = await ok(rt, user, 'GET', '/push/vapid-key');
    expect(push.pushes.find((p) => p.endpoint === sub.endpoint)!.vapidPublicKey).toBe(publicKey);
    expect(rt.output()).not.toContain('AccessDenied');
  }, 120_000);

  it('refuses the key route without its grant: 500, nothing leaks', async () => {
    const rt = await runtime({ PARLEY_IAM_REVOKE: 'http-get-vapid-key: secretsmanager:GetSecretValue on secret vapid-seed' });
    const user = await createUser(rt.httpUrl, 'ann');
    const res = await api(rt.httpUrl, 'GET', '/push/vapid-key', { token: user.token });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'internal', message: expect.any(String) } });
    expect(JSON.stringify(res.body)).not.toMatch(/secret|AccessDenied|arn:/i);
    expect(rt.output()).toContain(`${DENIED}http-get-vapid-key may not secretsmanager:GetSecretValue on arn:aws:secretsmanager:`);
  }, 120_000);

  it('refuses the consumer the seed without its grant: no push is signed, the record is retried', async () => {
    const rt = await runtime({ PARLEY_IAM_REVOKE: 'stream-events: secretsmanager:GetSecretValue on secret vapid-seed' });
    const { sub, roomId } = await directMessageToSubscriber(rt);
    await eventually(() => expect(rt.output()).toContain(`${DENIED}stream-events may not secretsmanager:GetSecretValue on arn:aws:secretsmanager:`), 20_000);
    // The notification's event went out before its push was due; the push never does.
    await eventually(() => expect(sink.received.some((e) => e.detail.roomId === roomId && e['detail-type'] === 'notification.requested')).toBe(true), 10_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(push.hits).not.toContain(new URL(sub.endpoint).pathname);
  }, 120_000);
});

describe('events:PutEvents on the bus', () => {
  it('refuses the consumer without its grant: nothing reaches PARLEY_EVENTS_URL, live delivery goes on', async () => {
    const rt = await runtime({ PARLEY_IAM_REVOKE: 'stream-events: events:PutEvents on event bus' });
    const [ann, bo] = (await Promise.all(['ann', 'bo'].map((n) => createUser(rt.httpUrl, n)))) as [TestUser, TestUser];
    const room = await ok(rt, ann, 'POST', '/rooms', { type: 'group', name: 'Quiet', memberIds: [bo.userId] });
    const message = await ok(rt, ann, 'POST', `/rooms/${room.id}/messages`, { content: 'hello' });
    await eventually(
      () => expect(rt.output()).toMatch(/\[iam\] AccessDenied: parley-stream-events may not events:PutEvents on arn:aws:events:[^:]+:\d{12}:event-bus\/parley-local /),
      20_000,
    );
    expect(sink.received.some((e) => e.detail.roomId === room.id)).toBe(false);
    // The message is stored and readable: only the events wait.
    const page = await ok(rt, bo, 'GET', `/rooms/${room.id}/messages`);
    expect(page.items.map((m: { id: string }) => m.id)).toContain(message.id);
  }, 120_000);
});
