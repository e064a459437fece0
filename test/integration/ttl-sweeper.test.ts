import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
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
import { startStreamPoller } from '#infra/local/stream-poller.ts';
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

async function put(pk: string, ttl?: AttributeValue, extra: Record<string, AttributeValue> = {}): Promise<void> {
  await client.send(new PutItemCommand({ TableName: table, Item: { ...key(pk), ...(ttl && { [TABLE.ttlAttribute]: ttl }), ...extra } }));
}

async function exists(pk: string): Promise<boolean> {
  const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: key(pk), ConsistentRead: true }));
  return Item !== undefined;
}

describe('TTL sweeper', () => {
  it('deletes the items whose Number TTL has passed and keeps every other item', async () => {
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

  it('marks the REMOVE of an expired item as a TTL deletion, and only that one', async () => {
    const { ttlDeletions, sweepOnce } = sweeper();
    const removes: DynamoDBRecord[] = [];
    const poller = await startStreamPoller({
      ...aws,
      tableName: table,
      pollIntervalMs: 20,
      filterPatterns: [{ eventName: ['REMOVE'] }],
      ttlDeletions,
      handler: async (event) => void removes.push(...event.Records),
    });
    stops.push(poller.stop);
    await put('expires', { N: String(nowS() - 1) });
    await put('deleted-by-user', { N: String(nowS() + 3600) });

    expect(await sweepOnce()).toBe(1);
    await client.send(new DeleteItemCommand({ TableName: table, Key: key('deleted-by-user') }));
    await poller.drained();

    expect(removes.map((r) => [r.dynamodb?.Keys?.PK?.S, r.userIdentity])).toEqual([
      ['expires', { type: 'Service', principalId: 'dynamodb.amazonaws.com' }],
      ['deleted-by-user', undefined],
    ]);
    expect(removes[1]).not.toHaveProperty('userIdentity');
    expect(ttlDeletions.take(key('expires'))).toBe(false); // consumed by its record
  });

  it('leaves an item whose TTL was refreshed between the scan and the delete', async () => {
    const racing = new DynamoDBClient(aws);
    stops.push(async () => racing.destroy());
    // Another writer extends the TTL after the sweeper's scan saw the item expired.
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteItemCommand') {
          await client.send(
            new UpdateItemCommand({
              TableName: table,
              Key: key('refreshed'),
              UpdateExpression: 'SET #ttl = :ttl',
              ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute },
              ExpressionAttributeValues: { ':ttl': { N: String(nowS() + 3600) } },
            }),
          );
        }
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

  it('follows the scan over several pages', async () => {
    const counting = new DynamoDBClient(aws);
    stops.push(async () => counting.destroy());
    let scans = 0;
    counting.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ScanCommand') scans++;
        return next(args);
      },
      { step: 'initialize' },
    );
    // Scan pages stop at 1 MB read: four items of 350 KB need two pages at least.
    const big = { blob: { S: 'x'.repeat(350_000) } };
    for (const n of [1, 2, 3, 4]) await put(`big-${n}`, { N: String(nowS() - 60) }, big);

    expect(await sweeper({ client: counting }).sweepOnce()).toBe(4);
    expect(scans).toBeGreaterThan(1);
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
