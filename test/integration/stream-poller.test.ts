import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, inject, it, vi } from 'vitest';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { startStreamPoller, type StreamFailure, type StreamPoller, type StreamPollerOptions } from '#infra/local/stream-poller.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { ENTITY, TABLE } from '#shared/adapters/dynamodb/table.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { streamFilterPatterns } from '#shared/adapters/dynamodb/stream-filters.ts';
import { createTableInput } from '#infra/local/provision.ts';

const aws = { endpoint: inject('dynamoEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
const client = new DynamoDBClient(aws);
const tables: string[] = [];
const pollers: StreamPoller[] = [];
const logs: string[] = [];
const logger = { warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
  logs.length = 0;
});

afterAll(async () => {
  await Promise.all(tables.map((TableName) => client.send(new DeleteTableCommand({ TableName }))));
  client.destroy();
});

/** A table of its own per test: what a poller reads from TRIM_HORIZON is then exactly what the test wrote. */
async function createTable(): Promise<string> {
  const TableName = `stream-poller-${randomUUID()}`;
  await client.send(
    new CreateTableCommand(createTableInput(TableName)),
  );
  tables.push(TableName);
  return TableName;
}

async function poll(
  tableName: string,
  options: Partial<StreamPollerOptions> & Pick<StreamPollerOptions, 'handler'>,
): Promise<StreamPoller> {
  const poller = await startStreamPoller({ ...aws, tableName, pollIntervalMs: 20, logger, ...options });
  pollers.push(poller);
  return poller;
}

/** Records every invocation; `respond` decides what the handler returns or throws. */
function recorder(respond: (records: DynamoDBRecord[], call: number) => unknown = () => undefined) {
  const calls: DynamoDBRecord[][] = [];
  const handler = async (event: DynamoDBStreamEvent) => {
    calls.push(event.Records);
    return respond(event.Records, calls.length);
  };
  return { calls, handler, labels: () => calls.map((records) => records.map(label)) };
}

const label = (r: DynamoDBRecord) => r.dynamodb?.Keys?.[TABLE.partitionKey]?.S ?? '?';
const seq = (r: DynamoDBRecord | undefined) => r?.dynamodb?.SequenceNumber ?? '';
const failAt = (...records: (DynamoDBRecord | undefined)[]) => ({ batchItemFailures: records.map((r) => ({ itemIdentifier: seq(r) })) });

async function put(TableName: string, pk: string, extra: Record<string, AttributeValue> = {}): Promise<void> {
  await client.send(new PutItemCommand({ TableName, Item: { PK: { S: pk }, SK: { S: 'ITEM' }, ...extra } }));
}

/**
 * A pass-through proxy to DynamoDB Local that answers the next GetRecords after `failNextRead` with
 * that error, the way the service would, and can make GetShardIterator slow.
 */
async function faultyEndpoint({ iteratorDelayMs = 0 } = {}) {
  let failure: string | undefined;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.headers['x-amz-target'] === 'DynamoDBStreams_20120810.GetShardIterator') await sleep(iteratorDelayMs);
    if (failure && req.headers['x-amz-target'] === 'DynamoDBStreams_20120810.GetRecords') {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${failure}`, message: 'injected' }));
      failure = undefined;
      return;
    }
    const upstream = http.request(new URL(req.url ?? '/', aws.endpoint), { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.end(Buffer.concat(chunks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    failNextRead: (errorType: string) => (failure = errorType),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function putAll(TableName: string, ...pks: string[]): Promise<void> {
  for (const pk of pks) await put(TableName, pk);
}

describe('stream poller', () => {
  it('delivers INSERT, MODIFY and REMOVE records in the shape Lambda gives them', async () => {
    const table = await createTable();
    const { calls, handler } = recorder();
    const poller = await poll(table, { handler });
    const before = Math.floor(Date.now() / 1000);

    const empties = { none: { M: {} }, nested: { M: { inner: { M: {} } } }, list: { L: [{ M: {} }] } };
    await put(table, 'a', { n: { N: '1' }, bin: { B: new Uint8Array([1, 2, 3]) }, tags: { SS: ['x'] }, ...empties });
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { PK: { S: 'a' }, SK: { S: 'ITEM' } },
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': { N: '2' } },
      }),
    );
    await client.send(new DeleteItemCommand({ TableName: table, Key: { PK: { S: 'a' }, SK: { S: 'ITEM' } } }));
    await poller.drained();

    const records = calls.flat();
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    const key = { PK: { S: 'a' }, SK: { S: 'ITEM' } };
    // Empty maps stay `{"M":{}}`, as Lambda receives them (the SDK's Streams client reads them as `{}`).
    const image = (n: string) => ({ ...key, n: { N: n }, bin: { B: 'AQID' }, tags: { SS: ['x'] }, ...empties });
    const [insert, modify, remove] = records;
    expect(insert?.dynamodb).toMatchObject({ Keys: key, NewImage: image('1') });
    expect(insert?.dynamodb).not.toHaveProperty('OldImage');
    expect(modify?.dynamodb).toMatchObject({ Keys: key, OldImage: image('1'), NewImage: image('2') });
    expect(remove?.dynamodb).toMatchObject({ Keys: key, OldImage: image('2') });
    expect(remove?.dynamodb).not.toHaveProperty('NewImage');

    for (const record of records) {
      expect(Object.keys(record).sort()).toEqual(['awsRegion', 'dynamodb', 'eventID', 'eventName', 'eventSource', 'eventSourceARN', 'eventVersion']);
      expect(record).toMatchObject({
        eventID: expect.any(String),
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: LOCAL_REGION,
        eventSourceARN: Table?.LatestStreamArn,
      });
      expect(record.dynamodb).toMatchObject({ SequenceNumber: expect.stringMatching(/^\d+$/), StreamViewType: 'NEW_AND_OLD_IMAGES' });
      expect(record.dynamodb?.SizeBytes).toBeGreaterThan(0);
      // Epoch seconds; DynamoDB Local rounds them down to the minute.
      const created = record.dynamodb?.ApproximateCreationDateTime ?? NaN;
      expect(Number.isInteger(created)).toBe(true);
      expect(created).toBeGreaterThan(before - 61);
      expect(created).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
      expect(JSON.parse(JSON.stringify(record))).toEqual(record); // plain JSON, as Lambda delivers it
    }
    expect(new Set(records.map((r) => r.eventID)).size).toBe(3);
  });

  it('keeps the order of the changes of each item, in batches of at most batchSize', async () => {
    const table = await createTable();
    const change = (n: number) => put(table, n % 3 === 0 ? 'other' : 'item', { n: { N: String(n) } });
    for (let n = 1; n <= 15; n++) await change(n);
    const { calls, handler } = recorder();
    const poller = await poll(table, { handler, batchSize: 4, startingPosition: 'TRIM_HORIZON' });
    await poller.drained();
    expect(calls.map((batch) => batch.length)).toEqual([4, 4, 4, 3]);
    for (let n = 16; n <= 21; n++) await change(n); // while it polls
    await poller.drained();

    expect(Math.max(...calls.map((batch) => batch.length))).toBeLessThanOrEqual(4);
    const records = calls.flat();
    const valuesOf = (pk: string) => records.filter((r) => label(r) === pk).map((r) => Number(r.dynamodb?.NewImage?.n?.N));
    expect(valuesOf('item')).toEqual([1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 16, 17, 19, 20]);
    expect(valuesOf('other')).toEqual([3, 6, 9, 12, 15, 18, 21]);
    const sequence = records.map((r) => BigInt(seq(r)));
    expect(sequence).toEqual([...sequence].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('with a parallelization factor, runs batches of one shard at once and keeps each partition key in order, retries included', async () => {
    const table = await createTable();
    let inFlight = 0;
    let most = 0;
    const seen = new Map<string, number[]>();
    let failedOnce = false;
    const handler = async (event: DynamoDBStreamEvent) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await sleep(15);
      inFlight--;
      const records = event.Records;
      // One batch fails part-way once: the rest of its keys must wait for the retry, not overtake it.
      const failing = records.findIndex((r) => label(r) === 'room-3' && r.dynamodb?.NewImage?.n?.N === '4');
      if (failing >= 0 && !failedOnce) {
        failedOnce = true;
        for (const r of records.slice(0, failing)) (seen.get(label(r)) ?? seen.set(label(r), []).get(label(r))!).push(Number(r.dynamodb?.NewImage?.n?.N));
        return failAt(records[failing]);
      }
      for (const r of records) (seen.get(label(r)) ?? seen.set(label(r), []).get(label(r))!).push(Number(r.dynamodb?.NewImage?.n?.N));
      return undefined;
    };
    const poller = await poll(table, { handler, parallelizationFactor: 4, batchSize: 3 });
    // Eight rooms, their items interleaved in the stream: room-0 #0, room-1 #0, ..., room-7 #0, room-0 #1, ...
    const rooms = Array.from({ length: 8 }, (_, i) => `room-${i}`);
    for (let n = 0; n < 8; n++) {
      await Promise.all(rooms.map((pk) => client.send(new PutItemCommand({ TableName: table, Item: { PK: { S: pk }, SK: { S: `MSG#${n}` }, n: { N: String(n) } } }))));
    }
    await poller.drained();
    expect(failedOnce).toBe(true);
    expect(most).toBeGreaterThan(1);
    expect([...seen.keys()].sort()).toEqual(rooms);
    for (const pk of rooms) expect(seen.get(pk), pk).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('drops the records the filter patterns do not match', async () => {
    const table = await createTable();
    const { handler, calls } = recorder();
    const poller = await poll(table, { handler, filterPatterns: streamFilterPatterns });
    const et = (entity: string) => ({ [TABLE.entityAttribute]: { S: entity } });
    const message = keys.message('r1', 1);
    const typing = keys.typing('r1', 'u1');
    const connection = keys.connection('c1');
    await client.send(new PutItemCommand({ TableName: table, Item: { PK: { S: typing.PK }, SK: { S: typing.SK }, ...et(ENTITY.typing) } }));
    await client.send(new PutItemCommand({ TableName: table, Item: { PK: { S: message.PK }, SK: { S: message.SK }, ...et(ENTITY.message) } }));
    await client.send(new PutItemCommand({ TableName: table, Item: { PK: { S: 'ROOM#r1' }, SK: { S: 'MEMBER#u1' }, ...et(ENTITY.member) } }));
    await client.send(new PutItemCommand({ TableName: table, Item: { PK: { S: connection.PK }, SK: { S: connection.SK }, ...et(ENTITY.connection) } }));
    await client.send(new DeleteItemCommand({ TableName: table, Key: { PK: { S: typing.PK }, SK: { S: typing.SK } } }));
    await client.send(new DeleteItemCommand({ TableName: table, Key: { PK: { S: connection.PK }, SK: { S: connection.SK } } }));
    await poller.drained();

    const delivered = calls.flat().map((r) => `${r.eventName} ${r.dynamodb?.Keys?.SK?.S}`);
    expect(delivered).toEqual([`INSERT ${message.SK}`, 'INSERT MEMBER#u1', 'INSERT CONN', 'REMOVE CONN']);
  });

  it('shows onRecord every record read, those the filter drops included, and goes on when it throws', async () => {
    const table = await createTable();
    const { handler, calls } = recorder();
    const seen: string[] = [];
    const poller = await poll(table, {
      handler,
      filterPatterns: [{ eventName: ['REMOVE'] }],
      onRecord: (record) => {
        seen.push(`${record.eventName} ${record.dynamodb?.Keys?.PK?.S} ${record.dynamodb?.NewImage?.n?.N ?? '-'}`);
        if (record.dynamodb?.Keys?.PK?.S === 'throws') throw new Error('observer failed');
      },
    });
    await put(table, 'a', { n: { N: '1' } });
    await put(table, 'throws');
    await put(table, 'a', { n: { N: '2' } });
    await client.send(new DeleteItemCommand({ TableName: table, Key: { PK: { S: 'a' }, SK: { S: 'ITEM' } } }));
    await poller.drained();

    expect(seen).toEqual(['INSERT a 1', 'INSERT throws -', 'MODIFY a 2', 'REMOVE a -']);
    expect(calls.flat().map((r) => `${r.eventName} ${label(r)}`)).toEqual(['REMOVE a']);
    expect(logs).toEqual(['onRecord threw; reading goes on']);
  });

  it('reads only what is written after start with LATEST, and everything with TRIM_HORIZON', async () => {
    const table = await createTable();
    await putAll(table, 'old');
    const latest = recorder();
    const horizon = recorder();
    // A slow GetShardIterator: what is written once start resolved must still count as after start.
    const slow = await faultyEndpoint({ iteratorDelayMs: 200 });
    const fromNow = await poll(table, { handler: latest.handler, endpoint: slow.endpoint });
    const fromStart = await poll(table, { handler: horizon.handler, startingPosition: 'TRIM_HORIZON' });
    await putAll(table, 'new');
    await fromNow.drained();
    await fromStart.drained();
    await fromNow.stop();
    slow.close();

    expect(latest.labels().flat()).toEqual(['new']);
    expect(horizon.labels().flat()).toEqual(['old', 'new']);
  });

  describe('on failure', () => {
    it('retries from the lowest failed record reported, with the records after it', async () => {
      const table = await createTable();
      await putAll(table, 'r1', 'r2', 'r3', 'r4', 'r5');
      const { handler, labels } = recorder((records, call) => (call === 1 ? failAt(records[3], records[2]) : undefined));
      const poller = await poll(table, { handler, startingPosition: 'TRIM_HORIZON' });
      await poller.drained();

      expect(labels()).toEqual([
        ['r1', 'r2', 'r3', 'r4', 'r5'],
        ['r3', 'r4', 'r5'],
      ]);
    });

    it('understands the batch response of Powertools', async () => {
      const table = await createTable();
      await putAll(table, 'r1', 'r2', 'r3');
      const processor = new BatchProcessor(EventType.DynamoDBStreams);
      let failed = false;
      const { handler, labels } = recorder();
      const poller = await poll(table, {
        handler: async (event) => {
          await handler(event);
          return processPartialResponse(event, async (record: DynamoDBRecord) => {
            if (label(record) === 'r2' && !failed) {
              failed = true;
              throw new Error('r2 fails once');
            }
          }, processor);
        },
        startingPosition: 'TRIM_HORIZON',
      });
      await poller.drained();

      expect(labels()).toEqual([['r1', 'r2', 'r3'], ['r2', 'r3']]);
    });

    it('takes an empty or missing failure list as success', async () => {
      const table = await createTable();
      await putAll(table, 'r1', 'r2');
      const { handler, labels } = recorder((_, call) => (call === 1 ? { batchItemFailures: [] } : { batchItemFailures: null }));
      const poller = await poll(table, { handler, startingPosition: 'TRIM_HORIZON' });
      await poller.drained();
      await putAll(table, 'r3');
      await poller.drained();

      expect(labels()).toEqual([['r1', 'r2'], ['r3']]);
    });

    it.each([
      ['an identifier not in the batch', { itemIdentifier: '99999999999999999999' }],
      ['an empty identifier', { itemIdentifier: '' }],
      ['a null identifier', { itemIdentifier: null }],
    ])('retries the whole batch after %s', async (_, failure) => {
      const table = await createTable();
      await putAll(table, 'r1', 'r2', 'r3');
      const { handler, labels } = recorder((_, call) => (call === 1 ? { batchItemFailures: [failure] } : undefined));
      const poller = await poll(table, { handler, startingPosition: 'TRIM_HORIZON' });
      await poller.drained();

      expect(labels()).toEqual([
        ['r1', 'r2', 'r3'],
        ['r1', 'r2', 'r3'],
      ]);
    });

    it('retries the whole batch when the handler throws', async () => {
      const table = await createTable();
      await putAll(table, 'r1', 'r2');
      const { handler, labels } = recorder((_, call) => {
        if (call === 1) throw new Error('boom');
      });
      const poller = await poll(table, { handler, startingPosition: 'TRIM_HORIZON' });
      await poller.drained();

      expect(labels()).toEqual([
        ['r1', 'r2'],
        ['r1', 'r2'],
      ]);
    });

    it('hands the rest of the batch to onFailure after maxRetryAttempts, then goes on', async () => {
      const table = await createTable();
      await putAll(table, 'r1', 'r2', 'r3');
      const failures: StreamFailure[] = [];
      const { handler, labels } = recorder((records) => {
        const r2 = records.find((r) => label(r) === 'r2');
        return r2 ? failAt(r2) : undefined;
      });
      const poller = await poll(table, { handler, startingPosition: 'TRIM_HORIZON', maxRetryAttempts: 2, onFailure: (f) => failures.push(f) });
      await vi.waitFor(() => expect(failures).toHaveLength(1), { timeout: 5_000 });
      await putAll(table, 'r4');
      await poller.drained();

      expect(labels()).toEqual([['r1', 'r2', 'r3'], ['r2', 'r3'], ['r2', 'r3'], ['r4']]);
      expect(failures[0]?.records.map(label)).toEqual(['r2', 'r3']);
      expect(String(failures[0]?.error)).toContain(seq(failures[0]?.records[0]));
    });

    it('hands a batch whose every attempt threw to onFailure with the error', async () => {
      const table = await createTable();
      await putAll(table, 'r1', 'r2');
      const failures: StreamFailure[] = [];
      const { handler, labels } = recorder(() => {
        throw new Error('always');
      });
      const poller = await poll(table, { handler, startingPosition: 'TRIM_HORIZON', maxRetryAttempts: 1, onFailure: (f) => failures.push(f) });
      await poller.drained();

      expect(labels()).toEqual([
        ['r1', 'r2'],
        ['r1', 'r2'],
      ]);
      expect(failures.map((f) => [f.records.map(label), (f.error as Error).message])).toEqual([[['r1', 'r2'], 'always']]);
    });
  });

  describe('when the stream refuses a read', () => {
    it.each([
      ['resumes after the last record read when the iterator expired', 'ExpiredIteratorException', ['a', 'b']],
      ['goes on from the oldest record left when its position was trimmed', 'TrimmedDataAccessException', ['a', 'a', 'b']],
    ])('%s', async (_, errorType, expected) => {
      const table = await createTable();
      const proxy = await faultyEndpoint();
      const { handler, labels } = recorder();
      // A long interval: 'b' is written and the failure armed while the poller waits after its empty read.
      const poller = await poll(table, { handler, endpoint: proxy.endpoint, pollIntervalMs: 300 });
      await putAll(table, 'a');
      await poller.drained();
      await putAll(table, 'b');
      proxy.failNextRead(errorType);
      await poller.drained();
      await poller.stop();
      proxy.close();

      expect(labels().flat()).toEqual(expected);
    });
  });

  describe('stop', () => {
    it('stops polling promptly and leaves no timer behind', async () => {
      const table = await createTable();
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      const { handler, labels } = recorder();
      const poller = await poll(table, { handler });
      await putAll(table, 'a');
      await poller.drained();

      const started = Date.now();
      await poller.stop();
      expect(Date.now() - started).toBeLessThan(5_000); // its shard discovery waits 10 s between rounds
      expect(timers()).toBeLessThanOrEqual(before);
      expect(logs).toEqual([]); // an interrupted read is not an error
      await putAll(table, 'b');
      await sleep(200); // a running poller (20 ms interval) would have delivered it by now
      expect(labels()).toEqual([['a']]);
    });

    it('waits for the handler call in progress', async () => {
      const table = await createTable();
      let release = () => {};
      const { handler, calls } = recorder(() => new Promise<void>((resolve) => (release = resolve)));
      const poller = await poll(table, { handler });
      await putAll(table, 'a');
      await vi.waitFor(() => expect(calls).toHaveLength(1), { timeout: 10_000 });

      let stopped = false;
      const stopping = poller.stop().then(() => (stopped = true));
      await sleep(50);
      expect(stopped).toBe(false);
      release();
      await stopping;
      expect(calls).toHaveLength(1);
    });
  });
});
