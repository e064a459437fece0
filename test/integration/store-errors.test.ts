import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { createTableInput } from '#infra/local/provision.ts';
import { TableClient } from '#shared/adapters/dynamodb/client.ts';
import { localDynamoDbApi } from '#test/support/table.ts';
import { StoreFault, classifyStoreError, withStoreRetries } from '#shared/adapters/dynamodb/store-errors.ts';
import { toPublicError } from '#shared/errors.ts';

// What DynamoDB Local really answers, through the one wrapper every adapter call goes through.
const client = new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
const raw = DynamoDBDocumentClient.from(client);
const api = localDynamoDbApi(inject('dynamoEndpoint'));
const table = `store-errors-${randomUUID()}`;

/**
 * Calls through the table client: a plain put and a transaction whose cancelled conditions the
 * client answers with; and, through the same retry and error decoding as its every call, a
 * two-item transaction as DynamoDB answers it.
 */
class Probe {
  readonly ops: string[] = [];
  private readonly tc = new TableClient(api, table, (op) => void this.ops.push(op));
  put(item: Record<string, unknown>) {
    return this.tc.put('probePut', { Item: item });
  }
  /** Bumps two items, the first only if it exists. */
  guardedBump(pk: string, other: string) {
    return withStoreRetries('probeGuarded', () =>
      raw.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: { TableName: table, Key: { PK: pk, SK: 'ITEM' }, UpdateExpression: 'ADD n :one', ConditionExpression: 'attribute_exists(PK)', ExpressionAttributeValues: { ':one': 1 } } },
            { Update: { TableName: table, Key: { PK: other, SK: 'ITEM' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } } },
          ],
        }),
      ),
    );
  }
  growBoth(pk: string, other: string, blob: string) {
    return this.tc.transact('probeGrow', growItems(pk, other, blob));
  }
}
const growItems = (pk: string, other: string, blob: string) => [
  { Update: { TableName: table, Key: { PK: pk, SK: 'ITEM' }, UpdateExpression: 'SET more = :b', ExpressionAttributeValues: { ':b': blob } } },
  { Update: { TableName: table, Key: { PK: other, SK: 'ITEM' }, UpdateExpression: 'SET more = :b', ExpressionAttributeValues: { ':b': 'small' } } },
];

beforeAll(async () => {
  await client.send(new CreateTableCommand(createTableInput(table)));
});
afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: table }));
  client.destroy();
  api.destroy();
});

describe('DynamoDB errors through the table client', () => {
  it('an item too large is a fault: no retry, no DynamoDB text for the client', async () => {
    const probe = new Probe();
    const big = { PK: 'BIG', SK: 'ITEM', blob: 'x'.repeat(420 * 1024) };
    const direct = await raw.send(new PutCommand({ TableName: table, Item: big })).catch((e: unknown) => e);
    expect((direct as Error).name).toBe('ValidationException');
    expect(classifyStoreError(direct)).toBe('fault');
    const err = await probe.put(big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreFault);
    expect((err as StoreFault).cause).toMatchObject({ name: 'ValidationException' });
    expect(toPublicError(err)).toEqual({ code: 'internal', message: 'Internal error' });
    expect((await raw.send(new GetCommand({ TableName: table, Key: { PK: 'BIG', SK: 'ITEM' } }))).Item).toBeUndefined();
  });

  it('a transaction cancelled by a failed condition comes back as the business outcome it is', async () => {
    const probe = new Probe();
    const pk = `COND#${randomUUID()}`;
    const err = await probe.guardedBump(pk, `${pk}#2`).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TransactionCanceledException');
    expect(classifyStoreError(err)).toBe('condition');
  });

  it('a transaction cancelled for another reason (an item grown too large) is a fault, never a failed condition', async () => {
    const probe = new Probe();
    const pk = `GROW#${randomUUID()}`;
    await probe.put({ PK: pk, SK: 'ITEM', big: 'x'.repeat(300 * 1024) });
    const grow = () => probe.growBoth(pk, `${pk}#2`, 'x'.repeat(200 * 1024));
    const direct = await raw.send(new TransactWriteCommand({ TransactItems: growItems(pk, `${pk}#2`, 'x'.repeat(200 * 1024)) })).catch((e: unknown) => e);
    expect((direct as Error).name).toBe('TransactionCanceledException');
    expect(classifyStoreError(direct)).toBe('fault');
    const err = await grow().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreFault);
    expect((err as Error).name).not.toBe('TransactionCanceledException');
    expect(toPublicError(err)).toEqual({ code: 'internal', message: 'Internal error' });
    // Nothing of it applied.
    expect((await raw.send(new GetCommand({ TableName: table, Key: { PK: `${pk}#2`, SK: 'ITEM' } }))).Item).toBeUndefined();
  });

  // DynamoDB Local runs transactions one at a time: concurrent ones on one item never conflict
  // there (measured: 30 racing transactions and 30 updates on one item, all applied). The retry
  // of conflicts and throttles is covered by test/unit/store-errors.test.ts on the SDK's errors.
});
