import { describe, expect, it } from 'vitest';
import { marshall } from '@aws-sdk/util-dynamodb';
import { allowingStatement, connectionRequests, deniedMessage, dynamoRequests, s3Requests, sessionArn } from '#infra/local/iam-policy.ts';
import { localArns } from '#infra/local/iam.ts';
import { PERMISSIONS, policyOf, statementOf, type Grant } from '#infra/permissions.ts';
import { allFunctions } from '#infra/routes.ts';

const names = { region: 'us-east-1', account: '000000000000', apiId: 'local', stage: 'local' };
const arns = localArns(names, 'parley', 'bucket');
const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/parley';

/** A role with the given grants, evaluated like the local runtime does. */
const role = (...grants: Grant[]) => grants.map((g) => statementOf(g, arns));
const userItems: Grant = { actions: ['dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem'], on: { kind: 'table' }, leadingKeys: ['USER#*'] };
const allowed = (statements: ReturnType<typeof role>, requests: ReturnType<typeof dynamoRequests>) => requests.every((r) => allowingStatement(statements, r) >= 0);

describe('the local IAM check', () => {
  it('narrows by dynamodb:LeadingKeys: a key outside the patterns is refused, in a single call, a batch and a transaction', () => {
    const statements = role(userItems);
    const update = (pk: string) => dynamoRequests(names, 'UpdateItemCommand', { TableName: 'parley', Key: { PK: pk, SK: 'PRESENCE' } });
    expect(allowed(statements, update('USER#ann'))).toBe(true);
    expect(allowed(statements, update('ROOM#r1'))).toBe(false);
    // Marshalled (the DocumentClient's input on the wire) or not, the same keys.
    expect(allowed(statements, dynamoRequests(names, 'UpdateItemCommand', { TableName: 'parley', Key: marshall({ PK: 'ROOM#r1', SK: 'ROOM' }) }))).toBe(false);

    const batch = (pks: string[]) =>
      dynamoRequests(names, 'BatchWriteItemCommand', { RequestItems: { parley: pks.map((PK) => ({ PutRequest: { Item: { PK, SK: 'X' } } })) } });
    expect(allowed(statements, batch(['USER#a', 'USER#b']))).toBe(true);
    expect(allowed(statements, batch(['USER#a', 'CONN#c']))).toBe(false);

    const transaction = (second: Record<string, unknown>) =>
      dynamoRequests(names, 'TransactWriteItemsCommand', {
        TransactItems: [{ Put: { TableName: 'parley', Item: { PK: 'USER#a', SK: 'X' } } }, second],
      });
    expect(allowed(statements, transaction({ Update: { TableName: 'parley', Key: { PK: 'USER#b', SK: 'Y' } } }))).toBe(true);
    // Each item by its own action: the delete is not granted at all, the update is outside the keys.
    expect(allowed(statements, transaction({ Delete: { TableName: 'parley', Key: { PK: 'USER#b', SK: 'Y' } } }))).toBe(false);
    expect(allowed(statements, transaction({ Update: { TableName: 'parley', Key: { PK: 'ROOM#r', SK: 'Y' } } }))).toBe(false);
  });

  it('compares a Query\'s partition key value with the leading keys; an index is its own resource', () => {
    const statements = role({ actions: ['dynamodb:Query'], on: { kind: 'table' }, leadingKeys: ['ROOM#*'] });
    const query = (value: string, names_?: Record<string, string>, IndexName?: string) =>
      dynamoRequests(names, 'QueryCommand', {
        TableName: 'parley',
        ...(IndexName && { IndexName }),
        KeyConditionExpression: names_ ? '#pk = :pk AND begins_with(SK, :p)' : 'PK = :pk AND begins_with(SK, :p)',
        ...(names_ && { ExpressionAttributeNames: names_ }),
        ExpressionAttributeValues: { ':pk': value, ':p': 'MSG#' },
      });
    expect(allowed(statements, query('ROOM#r1'))).toBe(true);
    expect(allowed(statements, query('ROOM#r1', { '#pk': 'PK' }))).toBe(true);
    expect(allowed(statements, query('USER#ann'))).toBe(false);
    expect(query('ROOM#r1', undefined, 'GSI1')[0]!.resource).toBe(`${TABLE_ARN}/index/GSI1`);
    expect(allowed(statements, query('ROOM#r1', undefined, 'GSI1'))).toBe(false);
  });

  it('grants objects by key prefix, and a copy needs a read of its source and a write of its target', () => {
    const statements = role({ actions: ['s3:GetObject'], on: { kind: 'objects', prefix: 'uploads/' } }, { actions: ['s3:PutObject'], on: { kind: 'objects', prefix: 'files/' } });
    const copy = (from: string, to: string) => s3Requests('CopyObjectCommand', { Bucket: 'bucket', Key: to, CopySource: `bucket/${from}` });
    expect(copy('uploads/a', 'files/a').map((r) => [r.action, r.resource])).toEqual([
      ['s3:GetObject', 'arn:aws:s3:::bucket/uploads/a'],
      ['s3:PutObject', 'arn:aws:s3:::bucket/files/a'],
    ]);
    expect(allowed(statements, copy('uploads/a', 'files/a'))).toBe(true);
    expect(allowed(statements, copy('files/a', 'files/b'))).toBe(false);
    expect(allowed(statements, copy('uploads/a', 'thumbs/a'))).toBe(false);
    expect(allowed(statements, s3Requests('HeadObjectCommand', { Bucket: 'bucket', Key: 'uploads/x' }))).toBe(true);
    expect(allowed(statements, s3Requests('DeleteObjectCommand', { Bucket: 'bucket', Key: 'uploads/x' }))).toBe(false);
  });

  it('names the @connections route of each call', () => {
    const [post] = connectionRequests(names, 'PostToConnectionCommand', { ConnectionId: 'abc=' });
    expect(post).toMatchObject({ action: 'execute-api:ManageConnections', resource: 'arn:aws:execute-api:us-east-1:000000000000:local/local/POST/@connections/abc=' });
    expect(allowingStatement(role({ actions: ['execute-api:ManageConnections'], on: { kind: 'connections' } }), post!)).toBe(0);
    expect(allowingStatement(role(userItems), post!)).toBe(-1);
  });

  it('words a refusal as AWS does', () => {
    const [request] = dynamoRequests(names, 'UpdateItemCommand', { TableName: 'parley', Key: { PK: 'USER#a', SK: 'PRESENCE' } });
    expect(deniedMessage(sessionArn('000000000000', 'stream-fanout'), request!)).toBe(
      'User: arn:aws:sts::000000000000:assumed-role/parley-stream-fanout-role/parley-stream-fanout is not authorized to perform: dynamodb:UpdateItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/parley because no identity-based policy allows the dynamodb:UpdateItem action',
    );
  });

  it('has an entry only for functions that exist, and names each action of a grant once', () => {
    const fns = new Set(allFunctions());
    for (const [fn, grants] of Object.entries(PERMISSIONS)) {
      expect(fns.has(fn), fn).toBe(true);
      for (const g of grants) expect(new Set(g.actions).size, fn).toBe(g.actions.length);
      expect(policyOf(fn, arns)).toHaveLength(grants.length);
    }
  });
});
