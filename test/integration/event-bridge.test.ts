import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { contractEnvelope, startEventBridge, type LocalEventBridge } from '#infra/local/event-bridge.ts';
import { EventBridgePublisher, putEventsChunks } from '#shared/adapters/eventbridge/publisher.ts';
import { startEventsSink, type EventsSink } from '#test/support/events-sink.ts';
import { eventually } from '#test/support/clients.ts';
import { alterBeforeSigning } from '#test/support/aws-requests.ts';

/**
 * The runtime's EventBridge, driven by the SDK's own client as the functions drive it: its wire
 * format, SigV4, EventBridge's limits and per-entry answers, and its delivery to a real HTTP
 * endpoint (retried until 2xx, in order per room).
 */
const known = { accessKeyId: 'local', secretAccessKey: 'local-secret' };
const region = 'us-east-1';
let bus: LocalEventBridge, sink: EventsSink;
const clientWith = (credentials = known) => new EventBridgeClient({ endpoint: bus.endpoint, region, credentials, maxAttempts: 1 });
const entry = (roomId: string, n: number, extra: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  EventBusName: 'parley-test',
  Source: 'parley',
  DetailType: 'message.created',
  Detail: JSON.stringify({ roomId, n, eventId: `${roomId}-${n}` }),
  Time: new Date(),
  ...extra,
});

beforeAll(async () => {
  sink = await startEventsSink();
  bus = await startEventBridge({
    region,
    account: '000000000000',
    busName: 'parley-test',
    credentials: [known],
    target: sink.url,
    transform: contractEnvelope,
    retry: { baseMs: 20, capMs: 100 },
    log: () => undefined,
  });
});
afterAll(async () => {
  await bus?.stop();
  await sink?.close();
});

describe('the local EventBridge', () => {
  it('accepts a PutEvents signed with the runtime\'s credentials and answers an id per entry', async () => {
    const out = await clientWith().send(new PutEventsCommand({ Entries: [entry('r0', 1), entry('r0', 2, { EventBusName: bus.busArn })] }));
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries!.map((e) => e.EventId)).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/), expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    await bus.delivered();
    const got = sink.received.filter((e) => e.detail.roomId === 'r0');
    // The contract's envelope, Parley's id from detail.eventId.
    expect(got.map((e) => e.id)).toEqual(['r0-1', 'r0-2']);
    expect(got[0]).toMatchObject({ source: 'parley', 'detail-type': 'message.created', detail: { roomId: 'r0', n: 1 } });
  });

  it('refuses unknown credentials, a wrong key and an unsigned request, as AWS does', async () => {
    await expect(clientWith({ accessKeyId: 'other', secretAccessKey: 'local-secret' }).send(new PutEventsCommand({ Entries: [entry('r1', 1)] }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    await expect(clientWith({ accessKeyId: 'local', secretAccessKey: 'wrong' }).send(new PutEventsCommand({ Entries: [entry('r1', 1)] }))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    const unsigned = await fetch(bus.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body: JSON.stringify({ Entries: [entry('r1', 1)] }),
    });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    await bus.delivered();
    expect(sink.received.some((e) => e.detail.roomId === 'r1')).toBe(false);
  });

  it('refuses, signed as it is, another operation and a body that is not JSON, as AWS does; nothing is delivered', async () => {
    const otherOperation = alterBeforeSigning(clientWith(), (req) => {
      req.headers['x-amz-target'] = 'AWSEvents.DeleteEventBus';
    });
    await expect(otherOperation.send(new PutEventsCommand({ Entries: [entry('r4', 1)] }))).rejects.toMatchObject({ name: 'UnknownOperationException', $metadata: { httpStatusCode: 400 } });
    const notJson = alterBeforeSigning(clientWith(), (req) => {
      req.body = String(req.body).slice(0, -1);
    });
    await expect(notJson.send(new PutEventsCommand({ Entries: [entry('r4', 2)] }))).rejects.toMatchObject({ name: 'SerializationException', $metadata: { httpStatusCode: 400 } });
    // Entries only as the body's own field.
    const inherited = alterBeforeSigning(clientWith(), (req) => {
      req.body = `{"__proto__":${String(req.body)}}`;
    });
    await expect(inherited.send(new PutEventsCommand({ Entries: [entry('r4', 3)] }))).rejects.toMatchObject({ name: 'ValidationException' });
    // The same client unaltered is accepted: the refusals above are the alterations'.
    expect((await clientWith().send(new PutEventsCommand({ Entries: [entry('r4', 4)] }))).FailedEntryCount).toBe(0);
    await bus.delivered();
    expect(sink.received.filter((e) => e.detail.roomId === 'r4').map((e) => e.id)).toEqual(['r4-4']);
  });

  it('refuses the whole call over 10 entries or over 256 KB of entries; nothing is delivered', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => entry('r2', i));
    await expect(clientWith().send(new PutEventsCommand({ Entries: eleven }))).rejects.toMatchObject({ name: 'ValidationException' });
    const big = (n: number) => entry('r2', n, { Detail: JSON.stringify({ roomId: 'r2', pad: 'x'.repeat(100 * 1024) }) });
    await expect(clientWith().send(new PutEventsCommand({ Entries: [big(1), big(2), big(3)] }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('over the limit'),
    });
    await bus.delivered();
    expect(sink.received.some((e) => e.detail.roomId === 'r2')).toBe(false);
  });

  it('fails an entry alone for another bus or a malformed detail, and accepts the rest', async () => {
    const out = await clientWith().send(
      new PutEventsCommand({
        Entries: [entry('r3', 1, { EventBusName: 'someone-else' }), entry('r3', 2), entry('r3', 3, { Detail: '{not json' }), entry('r3', 4, { EventBusName: undefined })],
      }),
    );
    expect(out.FailedEntryCount).toBe(3);
    expect(out.Entries!.map((e) => e.ErrorCode ?? 'ok')).toEqual(['NotFoundException', 'ok', 'MalformedDetail', 'NotFoundException']);
    await bus.delivered();
    expect(sink.received.filter((e) => e.detail.roomId === 'r3').map((e) => e.id)).toEqual(['r3-2']);
  });

  it('retries a failing endpoint until 2xx, holding back that room only, in order', async () => {
    let refusing = true;
    sink.respond = (e) => (refusing && e.detail.roomId === 'slow' ? 503 : 200);
    const client = clientWith();
    const attempts = sink.attempts;
    await client.send(new PutEventsCommand({ Entries: [1, 2, 3].map((n) => entry('slow', n)) }));
    await client.send(new PutEventsCommand({ Entries: [entry('fast', 1)] }));
    // The other room is delivered while the first is refused.
    await eventually(() => expect(sink.received.some((e) => e.detail.roomId === 'fast')).toBe(true), 5_000);
    await eventually(() => expect(sink.attempts - attempts).toBeGreaterThanOrEqual(4), 5_000);
    expect(sink.received.some((e) => e.detail.roomId === 'slow')).toBe(false);
    await client.send(new PutEventsCommand({ Entries: [entry('slow', 4)] }));
    refusing = false;
    await bus.delivered();
    sink.respond = () => 200;
    expect(sink.received.filter((e) => e.detail.roomId === 'slow').map((e) => e.id)).toEqual(['slow-1', 'slow-2', 'slow-3', 'slow-4']);
  });

  it('the publisher splits a batch into calls of at most 10 entries and 256 KB, in order', async () => {
    const sized = (kb: number): PutEventsRequestEntry => ({ Source: 'parley', DetailType: 'x', Detail: 'y'.repeat(kb * 1024) });
    expect(putEventsChunks(Array.from({ length: 23 }, () => sized(1))).map((c) => c.length)).toEqual([10, 10, 3]);
    expect(putEventsChunks([sized(100), sized(100), sized(100), sized(10)]).map((c) => c.length)).toEqual([2, 2]);
    expect(() => putEventsChunks([sized(257)])).toThrow(/256 KB/);

    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.endpoint;
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: known.accessKeyId, AWS_SECRET_ACCESS_KEY: known.secretAccessKey, AWS_REGION: region });
    const publisher = new EventBridgePublisher('parley-test');
    const events = Array.from({ length: 12 }, (_, i) => ({ id: `pub-${i}`, detailType: 'message.created' as const, time: new Date().toISOString(), detail: { roomId: 'pub', pad: 'z'.repeat(40 * 1024) } }));
    await publisher.publish(events);
    await bus.delivered();
    expect(sink.received.filter((e) => e.detail.roomId === 'pub').map((e) => e.id)).toEqual(events.map((e) => e.id));
    await expect(new EventBridgePublisher('no-such-bus').publish(events.slice(0, 1))).rejects.toThrow(/NotFoundException/);
  });
});
