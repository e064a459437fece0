import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { createTtlDeletions, startTtlSweeper, type TtlSweeper } from '#infra/local/ttl-sweeper.ts';
import { startStreamPoller, type StreamPoller } from '#infra/local/stream-poller.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { createTableInput } from '#infra/local/provision.ts';

const aws = { endpoint: inject('dynamoEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
const client = new DynamoDBClient(aws);
const table = `ttl-sweeper-${randomUUID()}`;
const stops: (() => Promise<void>)[] = [];
const nowS = () => Math.floor(Date.now() / 1000);
const key = (pk: string) => ({ PK: { S: pk }, SK: { S: 'ITEM' } });

beforeAll(async () => {
  await client.send(
    new CreateTableCommand(createTableInput(table)),
  );
});

afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: table }));
  client.destroy();
});

function sweeper(options: { client?: DynamoDBClient; intervalMs?: number } = {}): TtlSweeper {
  const started = startTtlSweeper({ client, tableName: table, ttlAttribute: TABLE.ttlAttribute, intervalMs: 60_000, ...options });
  stops.push(started.stop);
  return started;
}

/**
 * A sweeper fed by a stream poller, wired as the runtime wires them: the poller is anchored before
 * the sweeper starts its scan. `removes` gets the REMOVE records the poller delivers.
 */
async function sweeperOnStream(options: { client?: DynamoDBClient } = {}) {
  let started: TtlSweeper | undefined;
  const removes: DynamoDBRecord[] = [];
  const poller = await startStreamPoller({
    ...aws,
    tableName: table,
    pollIntervalMs: 20,
    filterPatterns: [{ eventName: ['REMOVE'] }],
    ttlDeletions: { take: (keys) => started?.ttlDeletions.take(keys) ?? false },
    onRecord: (record) => started?.observe(record),
    handler: async (event) => void removes.push(...event.Records),
  });
  stops.push(poller.stop);
  started = sweeper(options);
  return { sweeper: started, poller, removes };
}

/** A client of its own that counts the commands it sends, by name; `after` runs once a command is answered. */
function countingClient(after?: (command: string) => Promise<void>) {
  const counting = new DynamoDBClient(aws);
  stops.push(async () => counting.destroy());
  const sent = new Map<string, number>();
  counting.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      sent.set(command, (sent.get(command) ?? 0) + 1);
      const output = await next(args);
      await after?.(command);
      return output;
    },
    { step: 'initialize' },
  );
  return { client: counting, sent: (command: string) => sent.get(command) ?? 0 };
}

async function put(pk: string, ttl?: AttributeValue, extra: Record<string, AttributeValue> = {}): Promise<void> {
  await client.send(new PutItemCommand({ TableName: table, Item: { ...key(pk), ...(ttl && { [TABLE.ttlAttribute]: ttl }), ...extra } }));
}

async function update(pk: string, expression: string, ttl?: AttributeValue): Promise<void> {
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: key(pk),
      UpdateExpression: expression,
      ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute },
      ...(ttl && { ExpressionAttributeValues: { ':ttl': ttl } }),
    }),
  );
}

async function exists(pk: string): Promise<boolean> {
  const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: key(pk), ConsistentRead: true }));
  return Item !== undefined;
}

const TTL_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };

describe('TTL sweeper', () => {
  it('deletes the items written before it started whose Number TTL has passed, and keeps every other item', async () => {
    const run = randomUUID();
    const pk = (name: string) => `${run}-${name}`;
    await put(pk('expired'), { N: String(nowS() - 60) });
    await put(pk('future'), { N: String(nowS() + 3600) });
    await put(pk('string-ttl'), { S: String(nowS() - 60) });
    await put(pk('no-ttl'));
    await put(pk('milliseconds'), { N: String(Date.now()) });
    await put(pk('over-five-years-old'), { N: String(nowS() - 6 * 365 * 24 * 3600) });

    expect(await sweeper().sweepOnce()).toBe(1);

    const { Items } = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
    const left = (Items ?? []).map((item) => item.PK?.S).filter((p) => p?.startsWith(run));
    expect(left.sort()).toEqual(['future', 'milliseconds', 'no-ttl', 'over-five-years-old', 'string-ttl'].map(pk).sort());
  });

  it('learns from the stream of an item written after it started, deletes it once expired and marks that REMOVE, and only that one, as a TTL deletion', async () => {
    const { sweeper: { ttlDeletions, sweepOnce }, poller, removes } = await sweeperOnStream();
    await put('expires', { N: String(nowS() - 1) });
    await put('deleted-by-user', { N: String(nowS() + 3600) });
    await poller.drained();

    expect(await sweepOnce()).toBe(1);
    await client.send(new DeleteItemCommand({ TableName: table, Key: key('deleted-by-user') }));
    await poller.drained();

    expect(await exists('expires')).toBe(false);
    expect(removes.map((r) => [r.dynamodb?.Keys?.PK?.S, r.userIdentity])).toEqual([
      ['expires', TTL_IDENTITY],
      ['deleted-by-user', undefined],
    ]);
    expect(removes[1]).not.toHaveProperty('userIdentity');
    expect(ttlDeletions.take(key('expires'))).toBe(false); // consumed by its record
  });

  it('keeps an item whose TTL the stream shows refreshed or removed after it was indexed, and ignores a TTL of another type', async () => {
    const counting = countingClient();
    const { sweeper: { sweepOnce }, poller } = await sweeperOnStream({ client: counting.client });
    const past = { N: String(nowS() - 60) };
    for (const pk of ['refreshed', 'ttl-removed', 'became-string']) await put(pk, past);
    await put('string-ttl', { S: String(nowS() - 60) });
    await poller.drained(); // indexed, expired
    await update('refreshed', 'SET #ttl = :ttl', { N: String(nowS() + 3600) });
    await update('ttl-removed', 'REMOVE #ttl');
    await update('became-string', 'SET #ttl = :ttl', { S: String(nowS() - 60) });
    await poller.drained();

    expect(await sweepOnce()).toBe(0);
    // The stream's records changed what it knows: it does not even try.
    expect(counting.sent('DeleteItemCommand')).toBe(0);
    for (const pk of ['refreshed', 'ttl-removed', 'became-string', 'string-ttl']) expect(await exists(pk)).toBe(true);
    for (const pk of ['refreshed', 'ttl-removed', 'became-string', 'string-ttl']) await client.send(new DeleteItemCommand({ TableName: table, Key: key(pk) }));
  });

  it('leaves an item whose TTL was refreshed between its indexing and the delete', async () => {
    const racing = new DynamoDBClient(aws);
    stops.push(async () => racing.destroy());
    // Another writer extends the TTL after the sweeper saw the item expired.
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteItemCommand') await update('refreshed', 'SET #ttl = :ttl', { N: String(nowS() + 3600) });
        return next(args);
      },
      { step: 'initialize' },
    );
    await put('refreshed', { N: String(nowS() - 60) });

    const { ttlDeletions, sweepOnce } = sweeper({ client: racing });
    expect(await sweepOnce()).toBe(0);
    expect(await exists('refreshed')).toBe(true);
    expect(ttlDeletions.take(key('refreshed'))).toBe(false);
    await client.send(new DeleteItemCommand({ TableName: table, Key: key('refreshed') }));
  });

  it('sends no Scan after its start-up scan, however many items the table holds', async () => {
    const run = randomUUID();
    for (let n = 0; n < 500; n += 25) {
      const items = Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: { ...key(`${run}-${n + i}`), body: { S: 'no TTL here' } } } }));
      await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: items } }));
    }
    const counting = countingClient();
    const { sweeper: { sweepOnce }, poller } = await sweeperOnStream({ client: counting.client });
    await sweepOnce();
    const startUp = counting.sent('ScanCommand');
    expect(startUp).toBeGreaterThan(0);

    await put(`${run}-expires`, { N: String(nowS() - 1) });
    await poller.drained();
    expect(await sweepOnce()).toBe(1);
    for (let sweep = 0; sweep < 3; sweep++) await sweepOnce();

    expect(await exists(`${run}-expires`)).toBe(false);
    expect(counting.sent('ScanCommand')).toBe(startUp);
  });

  it('misses nothing written while its start-up scan runs, and believes the stream over the scan', async () => {
    await put('stale-in-scan', { N: String(nowS() - 60) });
    let poller: StreamPoller | undefined;
    let wrote = false;
    // Once the scan has read the table, and before the sweeper reads its answer: one item appears,
    // another loses its TTL, and the stream poller reads both records.
    const counting = countingClient(async (command) => {
      if (command !== 'ScanCommand' || wrote) return;
      wrote = true;
      await put('during-scan', { N: String(nowS() - 60) });
      await update('stale-in-scan', 'REMOVE #ttl');
      await vi.waitFor(() => expect(poller).toBeDefined(), { timeout: 10_000 });
      await poller?.drained();
    });
    const started = await sweeperOnStream({ client: counting.client });
    poller = started.poller;

    expect(await started.sweeper.sweepOnce()).toBe(1);
    expect(wrote).toBe(true);
    expect(await exists('during-scan')).toBe(false);
    expect(await exists('stale-in-scan')).toBe(true);
    // What the scan read of it, expired, came after what the stream said, and lost.
    expect(counting.sent('DeleteItemCommand')).toBe(1);
    await client.send(new DeleteItemCommand({ TableName: table, Key: key('stale-in-scan') }));
  });

  it('ignores stream records it cannot use, TTLs that are not finite Numbers among them, without throwing', async () => {
    const counting = countingClient();
    const { observe, sweepOnce } = sweeper({ client: counting.client });
    const insert = (pk: string, ttl: unknown) => ({ eventName: 'INSERT', dynamodb: { Keys: key(pk), NewImage: { ...key(pk), [TABLE.ttlAttribute]: ttl } } });
    const records = [
      insert('infinite', { N: '1e400' }),
      insert('not-a-number', { N: 'soon' }),
      insert('number-as-json', { N: nowS() - 60 }),
      insert('null', null),
      insert('list', { L: [{ N: String(nowS() - 60) }] }),
      { eventName: 'INSERT', dynamodb: { Keys: key('no-image') } },
      { eventName: 'MODIFY', dynamodb: { Keys: key('image-not-an-object'), NewImage: 'oops' as unknown as Record<string, unknown> } },
      { eventName: 'INSERT', dynamodb: {} },
      { eventName: 'INSERT' },
      {},
    ];
    for (const record of records) expect(() => observe(record)).not.toThrow();

    expect(await sweepOnce()).toBe(0);
    expect(counting.sent('DeleteItemCommand')).toBe(0);
  });

  it('follows its start-up scan over several pages', async () => {
    const counting = countingClient();
    // Scan pages stop at 1 MB read: four items of 350 KB need two pages at least.
    const big = { blob: { S: 'x'.repeat(350_000) } };
    for (const n of [1, 2, 3, 4]) await put(`big-${n}`, { N: String(nowS() - 60) }, big);

    expect(await sweeper({ client: counting.client }).sweepOnce()).toBe(4);
    expect(counting.sent('ScanCommand')).toBeGreaterThan(1);
  });

  it('sweeps by itself every intervalMs', async () => {
    await put('on-schedule', { N: String(nowS() - 60) });
    sweeper({ intervalMs: 50 });
    await vi.waitFor(async () => expect(await exists('on-schedule')).toBe(false), { timeout: 5_000, interval: 50 });
  });
});

describe('TTL deletions log', () => {
  it('matches keys whatever the order of their attributes, once per deletion', () => {
    const log = createTtlDeletions();
    log.record({ PK: { S: 'a' }, SK: { S: 'b' } });
    log.record({ SK: { S: 'b' }, PK: { S: 'a' } });
    expect(log.take({ SK: { S: 'b' }, PK: { S: 'a' } })).toBe(true);
    expect(log.take({ PK: { S: 'a' }, SK: { S: 'b' } })).toBe(true);
    expect(log.take({ PK: { S: 'a' }, SK: { S: 'b' } })).toBe(false);
    expect(log.take({ PK: { S: 'a' }, SK: { S: 'c' } })).toBe(false);
  });

  it('forgets a deletion that did not happen', () => {
    const log = createTtlDeletions();
    log.record(key('x'));
    log.forget(key('x'));
    expect(log.take(key('x'))).toBe(false);
  });

  it('keeps at most max entries, dropping the oldest', () => {
    const log = createTtlDeletions(2);
    for (const pk of ['1', '2', '3']) log.record(key(pk));
    expect([log.take(key('1')), log.take(key('2')), log.take(key('3'))]).toEqual([false, true, true]);
  });
});
