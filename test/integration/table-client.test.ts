import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { createTableInput } from '#infra/local/provision.ts';
import { verifySigV4 } from '#infra/local/sigv4.ts';
import { TableClient } from '#shared/adapters/dynamodb/client.ts';
import { meterCapacity, type CapacityReading } from '#shared/adapters/dynamodb/capacity.ts';
import { DynamoDbApi, type DynamoDbError } from '#shared/adapters/dynamodb/dynamodb-api.ts';
import { AwsServiceError } from '#shared/adapters/aws-http.ts';
import { StoreFault } from '#shared/adapters/dynamodb/store-errors.ts';
import { toPublicError } from '#shared/errors.ts';
import { localAwsEnv, localDynamoDbApi } from '#test/support/table.ts';
import { startScriptedServer, type ScriptStep } from '#test/support/scripted-http.ts';

/**
 * The functions' own DynamoDB client, through the table client, against DynamoDB Local: every
 * operation's round trip, its marshalling beside the SDK's document client (each reads what the
 * other wrote), DynamoDB's errors as the stores read them, batches left unprocessed, signatures
 * checked as AWS does, and the retry of what the SDK retries.
 */
const endpoint = inject('dynamoEndpoint');
const sdk = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
const doc = DynamoDBDocumentClient.from(sdk);
const tableName = `table-client-${randomUUID()}`;
const made: DynamoDbApi[] = [];
const apiOf = (...a: Parameters<typeof localDynamoDbApi>) => {
  const api = localDynamoDbApi(...a);
  made.push(api);
  return api;
};
const readings: CapacityReading[] = [];
const table = new TableClient(apiOf(endpoint), tableName, meterCapacity((r) => void readings.push(r)));

beforeAll(async () => {
  await sdk.send(new CreateTableCommand(createTableInput(tableName)));
});
afterAll(async () => {
  await sdk.send(new DeleteTableCommand({ TableName: tableName }));
  sdk.destroy();
  made.forEach((a) => a.destroy());
});

/** Every kind of value the stores may write, as the document client writes it. */
const everyKind = (PK: string) => ({
  PK,
  SK: 'ITEM',
  int: 42,
  negative: -7,
  float: 3.25,
  large: Number.MAX_SAFE_INTEGER,
  empty: '',
  text: 'héllo ✓ "quoted" \\ \u0000',
  // Reads without a binary value skip the decoding reviver; text that looks like one must not fool it.
  binaryLookalike: '{"B":"AAEC","BS":["AA=="]}',
  yes: true,
  nothing: null,
  strings: new Set(['a', 'b']),
  numbers: new Set([1, 2.5]),
  binary: new Uint8Array([0, 1, 2, 250, 255]),
  binaries: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]),
  list: [1, 'two', { three: [3] }, []],
  map: { nested: { deeper: { value: 'x', n: 0 } }, emptyMap: {}, emptyString: '', B: 'a map key named B', BS: ['not', 'binary'] },
});

describe('the table client on DynamoDB Local', () => {
  it('writes and reads every kind of value as the SDK\'s document client does: each reads what the other wrote', async () => {
    const mine = everyKind(`KIND#${randomUUID()}`);
    await table.put('probe', { Item: { ...mine, gone: undefined } });
    const readBySdk = (await doc.send(new GetCommand({ TableName: tableName, Key: { PK: mine.PK, SK: 'ITEM' }, ConsistentRead: true }))).Item;
    expect(readBySdk).toEqual(mine);
    expect(readBySdk).not.toHaveProperty('gone');

    const theirs = everyKind(`KIND#${randomUUID()}`);
    await doc.send(new PutCommand({ TableName: tableName, Item: theirs }));
    const readByMe = (await table.get('probe', { Key: { PK: theirs.PK, SK: 'ITEM' }, ConsistentRead: true })).Item;
    expect(readByMe).toEqual(theirs);
    expect(readByMe!.binary).toBeInstanceOf(Uint8Array);
  });

  it('round-trips every operation, and meters each with the capacity DynamoDB reported', async () => {
    const PK = `OPS#${randomUUID()}`;
    readings.length = 0;
    expect((await table.put('put', { Item: { PK, SK: 'A', n: 1 }, ReturnValues: 'ALL_OLD' })).Attributes).toBeUndefined();
    expect((await table.put('put', { Item: { PK, SK: 'A', n: 2 }, ReturnValues: 'ALL_OLD' })).Attributes).toEqual({ PK, SK: 'A', n: 1 });
    const updated = await table.update('update', {
      Key: { PK, SK: 'A' },
      UpdateExpression: 'SET #t = :t ADD n :one',
      ExpressionAttributeNames: { '#t': 'tags' },
      ExpressionAttributeValues: { ':t': new Set(['x']), ':one': 1 },
      ReturnValues: 'ALL_NEW',
    });
    expect(updated.Attributes).toEqual({ PK, SK: 'A', n: 3, tags: new Set(['x']) });
    expect((await table.get('get', { Key: { PK, SK: 'A' }, ConsistentRead: true, ProjectionExpression: 'n' })).Item).toEqual({ n: 3 });
    expect((await table.get('get', { Key: { PK, SK: 'none' } })).Item).toBeUndefined();

    await table.batchWrite('batchWrite', [
      ...Array.from({ length: 30 }, (_, i) => ({ PutRequest: { Item: { PK, SK: `B#${String(i).padStart(2, '0')}`, i } } })),
      { DeleteRequest: { Key: { PK, SK: 'A' } } },
    ]);
    const keys = Array.from({ length: 30 }, (_, i) => ({ PK, SK: `B#${String(i).padStart(2, '0')}` }));
    const found = await table.batchGet('batchGet', [...keys, { PK, SK: 'A' }], { consistent: true, projection: 'SK, i' });
    expect(found.map((f) => f.i).sort((a, b) => Number(a) - Number(b))).toEqual(keys.map((_, i) => i));
    expect(found[0]).not.toHaveProperty('PK');

    const page = await table.query('query', { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :b)', ExpressionAttributeValues: { ':pk': PK, ':b': 'B#' }, Limit: 4 });
    expect(page.Items!.map((x) => x.i)).toEqual([0, 1, 2, 3]);
    expect(page.LastEvaluatedKey).toEqual({ PK, SK: 'B#03' });
    expect(await table.queryAll('queryAll', { KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': PK }, Limit: 7 })).toHaveLength(30);
    expect(await table.countAll('countAll', { KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': PK }, Limit: 7 })).toBe(30);

    expect(await table.transact('transact', [{ Put: { TableName: tableName, Item: { PK, SK: 'T', v: 'a' } } }, { Delete: { TableName: tableName, Key: { PK, SK: 'B#00' } } }])).toBe(true);
    expect((await table.delete('delete', { Key: { PK, SK: 'T' }, ReturnValues: 'ALL_OLD' })).Attributes).toEqual({ PK, SK: 'T', v: 'a' });
    expect((await table.get('get', { Key: { PK, SK: 'B#00' }, ConsistentRead: true })).Item).toBeUndefined();

    const commands = new Map(readings.map((r) => [r.operation, r.command]));
    expect(Object.fromEntries(commands)).toEqual({
      put: 'PutItemCommand',
      update: 'UpdateItemCommand',
      get: 'GetItemCommand',
      batchWrite: 'BatchWriteItemCommand',
      batchGet: 'BatchGetItemCommand',
      query: 'QueryCommand',
      queryAll: 'QueryCommand',
      countAll: 'QueryCommand',
      transact: 'TransactWriteItemsCommand',
      delete: 'DeleteItemCommand',
    });
    const put = readings.find((r) => r.operation === 'put')!;
    // The input as the store wrote it (plain values), the table and the capacity asked for added.
    expect(put.input).toEqual({ Item: { PK, SK: 'A', n: 1 }, ReturnValues: 'ALL_OLD', TableName: tableName, ReturnConsumedCapacity: 'INDEXES' });
    expect(put.consumed).toEqual([expect.objectContaining({ TableName: tableName, CapacityUnits: 1 })]);
    expect(put.endedAt).toBeGreaterThanOrEqual(put.startedAt);
    // Two batch writes (25 a request), two batch reads (100 keys a request, all in one here): every call heard.
    expect(readings.filter((r) => r.operation === 'batchWrite')).toHaveLength(2);
    expect(readings.filter((r) => r.operation === 'queryAll')).toHaveLength(5);
  });

  it('a failed condition comes back as the SDK\'s did: its name, the item it found in attribute values (ALL_OLD), the status; metered with its write units', async () => {
    const item = everyKind(`COND#${randomUUID()}`);
    await table.put('seed', { Item: item });
    const put = { Item: { PK: item.PK, SK: 'ITEM', other: 1 }, ConditionExpression: 'attribute_not_exists(PK)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
    const theirs = await doc.send(new PutCommand({ TableName: tableName, ...put })).catch((e: unknown) => e as { name: string; Item?: unknown });
    if (!('name' in theirs)) throw new Error('the SDK\'s put applied');
    readings.length = 0;
    const mine = await table.put('insert', put).catch((e: unknown) => e);
    expect(mine).toBeInstanceOf(AwsServiceError);
    expect(mine).toMatchObject({ name: 'ConditionalCheckFailedException', message: 'The conditional request failed', $metadata: { httpStatusCode: 400, attempts: 1 } });
    expect(theirs.name).toBe('ConditionalCheckFailedException');
    expect((mine as DynamoDbError).Item).toEqual(theirs.Item);
    expect(unmarshall((mine as DynamoDbError).Item!)).toEqual(item);
    expect(readings).toEqual([expect.objectContaining({ operation: 'insert', command: 'PutItemCommand', consumed: [], conditionFailed: { writeUnits: 1 } })]);
  });

  it('a cancelled transaction gives each item\'s reason, as the SDK\'s exception carried them', async () => {
    const PK = `TX#${randomUUID()}`;
    const items = [
      { ConditionCheck: { TableName: tableName, Key: { PK, SK: 'missing' }, ConditionExpression: 'attribute_exists(PK)' } },
      { Put: { TableName: tableName, Item: { PK, SK: 'new' } } },
    ];
    expect(await table.transact('tx', items)).toEqual(['ConditionalCheckFailed', 'None']);
    const wire = {
      TransactItems: [
        { ConditionCheck: { TableName: tableName, Key: marshall({ PK, SK: 'missing' }), ConditionExpression: 'attribute_exists(PK)' } },
        { Put: { TableName: tableName, Item: marshall({ PK, SK: 'new' }) } },
      ],
    };
    const raw = await apiOf(endpoint).send('TransactWriteItems', JSON.stringify(wire)).catch((e: unknown) => e);
    const theirs = await doc
      .send(new TransactWriteCommand({ TransactItems: items }))
      .catch((e: unknown) => e);
    expect(raw).toMatchObject({ name: 'TransactionCanceledException', CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }] });
    expect((raw as DynamoDbError).CancellationReasons).toEqual((theirs as DynamoDbError).CancellationReasons);
    expect((await table.get('get', { Key: { PK, SK: 'new' }, ConsistentRead: true })).Item).toBeUndefined();
  });

  it('a transaction whose first answer was lost applies once, and its retry answers that it applied', async () => {
    // DynamoDB Local behind a proxy that hands it the first request and drops the socket before its answer.
    const target = new URL(endpoint);
    const bodies: string[] = [];
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const body = Buffer.concat(chunks);
        bodies.push(body.toString());
        const forward = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c)).on('end', () => {
            if (bodies.length === 1) return req.socket.destroy();
            res.writeHead(answer.statusCode ?? 500, answer.headers).end(Buffer.concat(parts));
          });
        });
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const lossy = new TableClient(apiOf(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, { sleep: async () => undefined }), tableName, undefined, async () => undefined);
      const PK = `TX#${randomUUID()}`;
      const create = [{ Put: { TableName: tableName, Item: { PK, SK: 'only-once' }, ConditionExpression: 'attribute_not_exists(PK)' } }];
      expect(await lossy.transact('tx', create)).toBe(true);
      expect(bodies).toHaveLength(2);
      const tokens = bodies.map((b) => (JSON.parse(b) as { ClientRequestToken?: string }).ClientRequestToken);
      expect(tokens[0]).toMatch(/^[\w-]{36}$/);
      expect(tokens[1]).toBe(tokens[0]);
      // A new transaction is a new token: the same writes again are refused by their condition.
      expect(await lossy.transact('tx', create)).toEqual(['ConditionalCheckFailed']);
      expect(new Set(bodies.map((b) => (JSON.parse(b) as { ClientRequestToken?: string }).ClientRequestToken)).size).toBe(2);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('a request DynamoDB refuses (a malformed expression, a missing table) is a fault with no DynamoDB text for the client', async () => {
    const bad = await table.query('badQuery', { KeyConditionExpression: 'PK = ', ExpressionAttributeValues: { ':pk': 'x' } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(StoreFault);
    expect((bad as StoreFault).cause).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect(toPublicError(bad)).toEqual({ code: 'internal', message: 'Internal error' });
    const missing = await new TableClient(apiOf(endpoint), `missing-${randomUUID()}`).get('get', { Key: { PK: 'x', SK: 'y' } }).catch((e: unknown) => e);
    expect((missing as StoreFault).cause).toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

/**
 * DynamoDB Local behind a front that checks each request's SigV4 signature as DynamoDB does
 * (DynamoDB Local checks none), and that can leave part of a batch unprocessed as DynamoDB may
 * under load: the front forwards the first keys or items only and answers the rest as unprocessed.
 */
describe('the table client behind a signature check, with batches left unprocessed', () => {
  let server: http.Server;
  let front = '';
  let leaveUnprocessed = 0;
  const seen: string[] = [];
  beforeAll(async () => {
    const target = new URL(endpoint);
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const body = Buffer.concat(chunks);
          const op = String(req.headers['x-amz-target']).split('.')[1]!;
          seen.push(op);
          const verdict = await verifySigV4(req, body, { service: 'dynamodb', credentials: [LOCAL_CREDENTIALS] });
          if (verdict !== 'valid') {
            res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
            return res.end(JSON.stringify({ __type: 'com.amazon.coral.service#InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided.' }));
          }
          let input = JSON.parse(body.toString('utf8')) as Record<string, any>;
          let unprocessed: Record<string, unknown> | undefined;
          if (leaveUnprocessed > 0 && (op === 'BatchGetItem' || op === 'BatchWriteItem')) {
            leaveUnprocessed--;
            const [name, request] = Object.entries(input.RequestItems as Record<string, any>)[0]!;
            const list: unknown[] = op === 'BatchGetItem' ? request.Keys : request;
            const half = Math.ceil(list.length / 2);
            const [sent, rest] = [list.slice(0, half), list.slice(half)];
            input = { ...input, RequestItems: { [name]: op === 'BatchGetItem' ? { ...request, Keys: sent } : sent } };
            unprocessed = op === 'BatchGetItem' ? { UnprocessedKeys: { [name]: { ...request, Keys: rest } } } : { UnprocessedItems: { [name]: rest } };
          }
          const answer = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': String(req.headers['x-amz-target']), authorization: String(req.headers.authorization), 'x-amz-date': String(req.headers['x-amz-date']) }, body: JSON.stringify(input) });
          const out = { ...((await answer.json()) as object), ...unprocessed };
          res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify(out));
        })();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    front = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('signs as DynamoDB checks; a signature it refuses is a fault, once, with no DynamoDB text for the client', async () => {
    const PK = `SIG#${randomUUID()}`;
    const signed = new TableClient(apiOf(front), tableName);
    await signed.put('put', { Item: { PK, SK: 'A', v: 'ok' } });
    expect((await signed.get('get', { Key: { PK, SK: 'A' }, ConsistentRead: true })).Item).toEqual({ PK, SK: 'A', v: 'ok' });

    seen.length = 0;
    const wrong = new TableClient(new DynamoDbApi({ endpoint: front, env: { ...localAwsEnv, AWS_SECRET_ACCESS_KEY: 'wrong' } }), tableName);
    const err = await wrong.put('put', { Item: { PK, SK: 'B' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreFault);
    expect((err as StoreFault).cause).toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 400, attempts: 1 } });
    expect(toPublicError(err)).toEqual({ code: 'internal', message: 'Internal error' });
    expect(seen).toEqual(['PutItem']);
    expect((await signed.get('get', { Key: { PK, SK: 'B' }, ConsistentRead: true })).Item).toBeUndefined();
  });

  it('asks again for the keys and items a batch left unprocessed, until none is left', async () => {
    const PK = `UNP#${randomUUID()}`;
    const t = new TableClient(apiOf(front), tableName, () => undefined, async () => undefined);
    seen.length = 0;
    leaveUnprocessed = 2;
    await t.batchWrite('batchWrite', Array.from({ length: 8 }, (_, i) => ({ PutRequest: { Item: { PK, SK: `I#${i}`, i } } })));
    expect(seen).toEqual(['BatchWriteItem', 'BatchWriteItem', 'BatchWriteItem']);
    seen.length = 0;
    leaveUnprocessed = 2;
    const found = await t.batchGet('batchGet', Array.from({ length: 8 }, (_, i) => ({ PK, SK: `I#${i}` })), { consistent: true });
    expect(found.map((f) => f.i).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(seen).toEqual(['BatchGetItem', 'BatchGetItem', 'BatchGetItem']);
  });

  it('gives up past the limit: a batch write is unavailable, a partial read answers what it found', async () => {
    const PK = `UNP#${randomUUID()}`;
    const t = new TableClient(apiOf(front), tableName, () => undefined, async () => undefined);
    leaveUnprocessed = 100;
    const err = await t.batchWrite('batchWrite', Array.from({ length: 16 }, (_, i) => ({ PutRequest: { Item: { PK, SK: `I#${i}` } } }))).catch((e: unknown) => e);
    expect(toPublicError(err)).toMatchObject({ code: 'unavailable' });
    const partial = await t.batchGet('batchGet', Array.from({ length: 16 }, (_, i) => ({ PK, SK: `I#${i}` })), { consistent: true, partial: true });
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(16);
    leaveUnprocessed = 0;
  });
});

describe('the DynamoDB client retries as the SDK\'s standard retry does', () => {
  let server: Awaited<ReturnType<typeof startScriptedServer>>;
  beforeAll(async () => {
    server = await startScriptedServer((res, status, type) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'req-1' });
      res.end(type ? JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `${type} here` }) : status === 200 ? '{"Item":{"PK":{"S":"x"}}}' : '<html>bad gateway</html>');
    });
  });
  afterAll(() => server.close());

  const waits: number[] = [];
  const run = (steps: readonly ScriptStep[], timeoutMs = 5_000) => {
    server.play(steps);
    waits.length = 0;
    return apiOf(server.url, { timeoutMs, sleep: async (ms) => void waits.push(ms) }).send('GetItem', '{}');
  };

  it('retries throttling, 500/502/503/504, a dropped socket and a silent one, up to 4 attempts in all, with jittered backoff', async () => {
    expect(await run([[400, 'ProvisionedThroughputExceededException'], [503], [400, 'ThrottlingException']])).toEqual({ Item: { PK: { S: 'x' } } });
    expect(server.requests).toBe(4);
    // Full jitter: under 1 s doubling when throttled, under 25 ms doubling otherwise.
    expect(waits[0]).toBeLessThan(1000);
    expect(waits[1]).toBeLessThan(50);
    expect(waits[2]).toBeLessThan(4000);
    expect(await run(['reset', 'hang'], 200)).toEqual({ Item: { PK: { S: 'x' } } });
    expect(server.requests).toBe(3);
    await expect(run([[500, 'InternalServerError'], [502], [504], [500, 'InternalServerError']])).rejects.toMatchObject({
      name: 'InternalServerError',
      message: 'InternalServerError here',
      $metadata: { httpStatusCode: 500, attempts: 4, requestId: 'req-1' },
    });
    expect(server.requests).toBe(4);
    await expect(run(['hang', 'hang', 'hang', 'hang'], 100)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(server.requests).toBe(4);
  });

  it('surfaces any other error at once, named as DynamoDB names it', async () => {
    await expect(run([[400, 'ValidationException']])).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400, attempts: 1 } });
    await expect(run([[400, 'TransactionConflictException']])).rejects.toMatchObject({ name: 'TransactionConflictException' });
    await expect(run([[501]])).rejects.toMatchObject({ name: 'Http501', message: 'HTTP 501' });
    expect(server.requests).toBe(1);
  });

  it('answers unavailable once the HTTP layer has spent its attempts, without retrying them again', async () => {
    server.play([[400, 'ThrottlingException'], [400, 'ThrottlingException'], [400, 'ThrottlingException'], [400, 'ThrottlingException']]);
    const client = new TableClient(apiOf(server.url, { sleep: async () => undefined }), 'throttled', undefined, async () => undefined);
    const err = await client.get('getRoom', { Key: { PK: 'x', SK: 'y' } }).catch((e: unknown) => e);
    expect(server.requests).toBe(4);
    expect(toPublicError(err)).toMatchObject({ code: 'unavailable', details: { retryAfter: 1 } });
    // A timeout spent the same way is the store being unavailable too, not an internal error.
    server.play(['hang', 'hang', 'hang', 'hang']);
    const slow = new TableClient(apiOf(server.url, { timeoutMs: 50, sleep: async () => undefined }), 'slow', undefined, async () => undefined);
    expect(toPublicError(await slow.get('getRoom', { Key: { PK: 'x', SK: 'y' } }).catch((e: unknown) => e))).toMatchObject({ code: 'unavailable' });
    expect(server.requests).toBe(4);
  });

  it('reads region and credentials from the environment as Lambda sets them, and needs them', () => {
    expect(() => new DynamoDbApi({ env: {} })).toThrow(/no region/);
    const unsigned = new DynamoDbApi({ endpoint: server.url, env: { AWS_REGION: 'eu-west-1' } });
    made.push(unsigned);
    return expect(unsigned.send('GetItem', '{}')).rejects.toThrow(/no AWS credentials/);
  });
});
