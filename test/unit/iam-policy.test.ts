import { describe, expect, it } from 'vitest';
import { marshall } from '@aws-sdk/util-dynamodb';
import { allowingStatement, assertEvaluable, connectionRequests, deniedMessage, dynamoRequests, expressionAttributes, s3Requests, sessionArn } from '#infra/local/iam-policy.ts';
import { localArns } from '#infra/local/iam.ts';
import { NARROW_RETURN_VALUES, PERMISSIONS, policyOf, statementOf, type Grant } from '#infra/permissions.ts';
import { allFunctions } from '#infra/routes.ts';
import { copyRoomPreference, copyUserLevel, type CopyTable } from '#shared/adapters/dynamodb/level-copies.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { COPY_ATTRIBUTES } from '#shared/adapters/dynamodb/entities/member.ts';

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

  describe('dynamodb:Attributes', () => {
    const update = (input: Record<string, unknown>) => dynamoRequests(names, 'UpdateItemCommand', { TableName: 'parley', ...input });
    const member = keys.member('r1', 'ann');
    const setUserNotify = { Key: member, UpdateExpression: 'SET userNotify = :n', ExpressionAttributeValues: { ':n': 'all' } };

    it('names every top-level attribute of an expression: placeholders resolved, paths by their first name, functions by their arguments', () => {
      expect(expressionAttributes('SET #v = if_not_exists(#v, :zero) + :one, a.b[0].c = :x, #m.#k = :y REMOVE readSource, #r0', { '#v': 'userPrefV', '#m': 'map', '#k': 'role', '#r0': 'roomNotify' })).toEqual([
        'userPrefV',
        'userPrefV',
        'a',
        'map',
        'readSource',
        'roomNotify',
      ]);
      expect(expressionAttributes('attribute_exists(PK) AND (attribute_not_exists(#v) OR #v < :v) AND size ( tags ) > :n AND x BETWEEN :a AND :b', { '#v': 'roomPrefV' })).toEqual(['PK', 'roomPrefV', 'roomPrefV', 'tags', 'x']);
      // The context of an update: its key attributes, its update's and its condition's, and ReturnValues (NONE unless asked).
      const [request] = update({ ...setUserNotify, ConditionExpression: 'attribute_exists(PK) AND #r = :admin', ExpressionAttributeNames: { '#r': 'role' } });
      expect(request!.context).toEqual({ 'dynamodb:LeadingKeys': ['ROOM#r1'], 'dynamodb:Attributes': ['PK', 'SK', 'userNotify', 'role'], 'dynamodb:ReturnValues': ['NONE'] });
    });

    it('lets the preference routes make the copies as level-copies.ts writes them, and nothing else of a room item', async () => {
      // What the copies send, captured from the code that sends them.
      const sent: Record<string, unknown>[] = [];
      const table: CopyTable = { update: async (_op, input) => (sent.push({ TableName: 'parley', ...input }), {}) as never, batchGet: async () => [] };
      await copyUserLevel(table, 'r1', 'ann', { notify: 'mentions', v: 3 });
      await copyUserLevel(table, 'r1', 'ann', { v: 4 });
      await copyRoomPreference(table, 'r1', 'ann', { pref: { notify: 'none', mutedUntil: '2030-01-01T00:00:00.000Z' }, v: 2 });
      await copyRoomPreference(table, 'r1', 'ann', { pref: {}, v: 3 });
      expect(sent).toHaveLength(4);
      for (const fn of ['http-set-preferences', 'http-set-room-preferences']) {
        const statements = policyOf(fn, arns);
        for (const input of sent) expect(allowed(statements, dynamoRequests(names, 'UpdateItemCommand', input)), `${fn} ${String(input.UpdateExpression)}`).toBe(true);
        expect(allowed(statements, update(setUserNotify))).toBe(true);
        // Another attribute of a member item, of a message, of the room: refused, set or removed.
        expect(allowed(statements, update({ Key: member, UpdateExpression: 'SET #r = :r', ExpressionAttributeNames: { '#r': 'role' }, ExpressionAttributeValues: { ':r': 'admin' } }))).toBe(false);
        expect(allowed(statements, update({ Key: keys.message('r1', 7), UpdateExpression: 'SET content = :c', ExpressionAttributeValues: { ':c': 'rewritten' } }))).toBe(false);
        expect(allowed(statements, update({ Key: keys.room('r1'), UpdateExpression: 'REMOVE archivedAt' }))).toBe(false);
        expect(allowed(statements, update({ Key: member, UpdateExpression: 'SET userNotify = :n, displayName = :d', ExpressionAttributeValues: { ':n': 'all', ':d': 'Mallory' } }))).toBe(false);
        // The legacy form of an update is held to the same list.
        expect(allowed(statements, update({ Key: member, AttributeUpdates: { role: { Action: 'PUT', Value: 'admin' } } }))).toBe(false);
        // A condition on another attribute reads it: refused, though the update itself is a copy.
        expect(allowed(statements, update({ ...setUserNotify, ConditionExpression: '#r = :admin', ExpressionAttributeNames: { '#r': 'role' }, ExpressionAttributeValues: { ':n': 'all', ':admin': 'admin' } }))).toBe(false);
        expect(allowed(statements, update({ ...setUserNotify, Expected: { role: { Value: 'admin' } } }))).toBe(false);
        // Returning the whole item would read what the list hides; the updated attributes only may come back.
        for (const ReturnValues of ['ALL_NEW', 'ALL_OLD']) expect(allowed(statements, update({ ...setUserNotify, ReturnValues })), ReturnValues).toBe(false);
        for (const ReturnValues of ['NONE', 'UPDATED_NEW', 'UPDATED_OLD']) expect(allowed(statements, update({ ...setUserNotify, ReturnValues })), ReturnValues).toBe(true);
        // A put or a delete replaces the whole item: not granted in rooms at all.
        expect(allowed(statements, dynamoRequests(names, 'PutItemCommand', { TableName: 'parley', Item: { ...member, userNotify: 'all' } }))).toBe(false);
        expect(allowed(statements, dynamoRequests(names, 'DeleteItemCommand', { TableName: 'parley', Key: member }))).toBe(false);
      }
      // The same role change is what a function with a plain room grant may do.
      expect(allowed(policyOf('http-update-member', arns), update({ Key: member, UpdateExpression: 'SET #r = :r', ExpressionAttributeNames: { '#r': 'role' }, ExpressionAttributeValues: { ':r': 'admin' } }))).toBe(true);
    });

    it('counts the key attributes: a list without them allows no update', () => {
      const withoutKey = role({ actions: ['dynamodb:UpdateItem'], on: { kind: 'table' }, attributes: ['userNotify'] });
      const withKey = role({ actions: ['dynamodb:UpdateItem'], on: { kind: 'table' }, attributes: ['PK', 'SK', 'userNotify'] });
      expect(allowed(withoutKey, update(setUserNotify))).toBe(false);
      expect(allowed(withKey, update(setUserNotify))).toBe(true);
      expect(allowed(withKey, update({ ...setUserNotify, ConditionExpression: 'attribute_exists(PK)' }))).toBe(true);
    });

    it('is a statement with the attributes, StringEquals on ReturnValues and the leading keys, for UpdateItem on the table only', () => {
      const copies = PERMISSIONS['http-set-preferences']!.find((g) => g.attributes)!;
      expect(statementOf(copies, arns)).toEqual({
        Effect: 'Allow',
        Action: ['dynamodb:UpdateItem'],
        Resource: [TABLE_ARN],
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ROOM#*'] },
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['PK', 'SK', ...COPY_ATTRIBUTES] },
          StringEquals: { 'dynamodb:ReturnValues': [...NARROW_RETURN_VALUES] },
        },
      });
      expect(() => statementOf({ actions: ['dynamodb:UpdateItem', 'dynamodb:PutItem'], on: { kind: 'table' }, attributes: ['PK'] }, arns)).toThrow(/UpdateItem on table items only/);
      expect(() => statementOf({ actions: ['dynamodb:UpdateItem'], on: { kind: 'index', index: 'GSI1' }, attributes: ['PK'] }, arns)).toThrow(/UpdateItem on table items only/);
    });

    it('never lets a condition through that it cannot evaluate: an unknown key or operator, a read\'s attributes, a transaction item\'s ReturnValues', () => {
      const withCondition = (Condition: Record<string, Record<string, string[]>>, Action = ['dynamodb:UpdateItem']) => [{ Effect: 'Allow' as const, Action, Resource: [TABLE_ARN], Condition }];
      // ForAllValues over a key the check never fills would hold vacuously: it throws instead, up front and per call.
      const unknownKey = withCondition({ 'ForAllValues:StringEquals': { 'dynamodb:EnclosingOperation': ['TransactWriteItems'] } });
      expect(() => assertEvaluable(unknownKey)).toThrow(/condition key dynamodb:EnclosingOperation/);
      expect(() => allowingStatement(unknownKey, update(setUserNotify)[0]!)).toThrow(/condition key dynamodb:EnclosingOperation/);
      const unknownOperator = withCondition({ StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] } });
      expect(() => allowingStatement(unknownOperator, update(setUserNotify)[0]!)).toThrow(/condition operator StringEqualsIfExists/);
      expect(() => assertEvaluable(policyOf('http-set-preferences', arns))).not.toThrow();

      // The attributes of a read are not worked out here.
      const readAttributes = withCondition({ 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['PK', 'SK'] } }, ['dynamodb:GetItem', 'dynamodb:Query']);
      expect(() => allowingStatement(readAttributes, dynamoRequests(names, 'GetItemCommand', { TableName: 'parley', Key: member })[0]!)).toThrow(/cannot tell the dynamodb:Attributes of dynamodb:GetItem/);
      expect(() =>
        allowingStatement(readAttributes, dynamoRequests(names, 'QueryCommand', { TableName: 'parley', KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': 'ROOM#r1' } })[0]!),
      ).toThrow(/cannot tell the dynamodb:Attributes/);

      // A transaction's update in a room, under the copies' grant: whether AWS gives it a ReturnValues is not guessed.
      const statements = policyOf('http-set-preferences', arns);
      const transact = (Key: Record<string, string>) => dynamoRequests(names, 'TransactWriteItemsCommand', { TransactItems: [{ Update: { TableName: 'parley', ...setUserNotify, Key } }] });
      expect(() => allowed(statements, transact(member))).toThrow(/cannot tell the dynamodb:ReturnValues/);
      // Unless another part of the condition refuses it anyway (a seat is no room item), or the attributes do.
      expect(allowed(statements, transact(keys.seat('ann', 'r1')))).toBe(false);
      expect(
        allowed(statements, dynamoRequests(names, 'TransactWriteItemsCommand', { TransactItems: [{ Update: { TableName: 'parley', Key: member, UpdateExpression: 'SET #r = :r', ExpressionAttributeNames: { '#r': 'role' }, ExpressionAttributeValues: { ':r': 'admin' } } }] })),
      ).toBe(false);
    });
  });
});
