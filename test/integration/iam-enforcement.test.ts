import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pngjs from 'pngjs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { installIam, runAs, runAsService } from '#infra/local/iam.ts';
import { ConnectionsApi } from '#shared/adapters/apigw/connections-api.ts';
import { LOCAL_ACCOUNT, type IamRequest } from '#infra/local/iam-policy.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { BUCKET } from '#shared/adapters/s3/bucket.ts';
import { eventually, uniqueId } from '#test/support/clients.ts';
import { allGrantLabels } from '#infra/permissions.ts';
import { DynamoAttachmentStore } from '#shared/adapters/dynamodb/attachment-store.ts';
import { S3BlobStore } from '#shared/adapters/s3/blob-store.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { TableClient } from '#shared/adapters/dynamodb/client.ts';
import { copyRoomPreference, copyUserLevel } from '#shared/adapters/dynamodb/level-copies.ts';
import { localDynamoDbApi } from '#test/support/table.ts';
import { makeThumbnail } from '#shared/domain/thumbnails.ts';
import { attachmentSettings } from '#functions/lib/config.ts';
import type { Deps } from '#shared/ports/runtime.ts';

/**
 * The check itself, on real SDK clients against the real local services: this test process
 * installs it as `npm start` does and calls as one function or another. (The shared runtime
 * checks every handler's calls the same way; the other iam-*.test.ts files go through it.)
 */
const denied: { fn: string; request: IamRequest }[] = [];
const iam = installIam({
  names: { region: LOCAL_REGION, account: LOCAL_ACCOUNT, apiId: 'local', stage: 'local' },
  tableName: TABLE.defaultName,
  bucket: BUCKET.localName,
  onDenied: (fn, request) => denied.push({ fn, request }),
});

const config = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 };
const dynamo = new DynamoDBClient({ ...config, endpoint: inject('dynamoEndpoint') });
const db = DynamoDBDocumentClient.from(dynamo);
const s3 = new S3Client({ ...config, endpoint: inject('s3Endpoint'), forcePathStyle: true });
const connections = new ApiGatewayManagementApiClient({ ...config, endpoint: inject('callbackUrl') });
/** The functions' own DynamoDB client (not an SDK client). */
const tableApi = localDynamoDbApi(inject('dynamoEndpoint'));
afterAll(() => {
  [db, s3, connections, tableApi].forEach((c) => c.destroy());
  // The grants used here count for the run's coverage like a runtime's (global-setup.ts).
  const dir = process.env.PARLEY_IAM_USAGE_DIR;
  if (dir) writeFileSync(path.join(dir, `${randomUUID()}.json`), JSON.stringify({ grants: allGrantLabels(), used: Object.fromEntries(iam.usage()) }));
});

const TABLE_ARN = `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${TABLE.defaultName}`;
const role = (fn: string) => `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/parley-${fn}-role/parley-${fn}`;
const accessDenied = (fn: string, action: string, resource = TABLE_ARN) => ({
  name: 'AccessDeniedException',
  $metadata: expect.objectContaining({ httpStatusCode: 400 }),
  message: `User: ${role(fn)} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
});
/** Reads behind the check (outside any function). */
const item = async (PK: string, SK: string) => (await db.send(new GetCommand({ TableName: TABLE.defaultName, Key: { PK, SK }, ConsistentRead: true }))).Item;
const seed = (PK: string, SK: string, extra: Record<string, unknown> = {}) => db.send(new PutCommand({ TableName: TABLE.defaultName, Item: { PK, SK, ...extra } }));

describe('IAM enforcement of handlers\' AWS calls', () => {
  it('refuses a call outside the function\'s grants before it reaches DynamoDB, with AWS\'s AccessDeniedException (400), and logs function, action and key', async () => {
    const room = `ROOM#${uniqueId('iam')}`;
    await seed(room, 'ROOM', { name: 'before' });
    denied.length = 0;
    const rename = new UpdateCommand({ TableName: TABLE.defaultName, Key: { PK: room, SK: 'ROOM' }, UpdateExpression: 'SET #n = :n', ExpressionAttributeNames: { '#n': 'name' }, ExpressionAttributeValues: { ':n': 'after' } });
    // A read-only route may not write.
    await expect(runAs('http-get-room', () => db.send(rename))).rejects.toMatchObject(accessDenied('http-get-room', 'dynamodb:UpdateItem'));
    expect(await item(room, 'ROOM')).toMatchObject({ name: 'before' });
    expect(denied).toEqual([{ fn: 'http-get-room', request: expect.objectContaining({ action: 'dynamodb:UpdateItem', detail: `${room} / ROOM` }) }]);
    // The function whose grant it is may.
    await runAs('http-update-room', () => db.send(rename));
    expect(await item(room, 'ROOM')).toMatchObject({ name: 'after' });
  });

  it('holds every key of a call to the grant\'s leading keys: single items, each item of a batch, each item of a transaction', async () => {
    const user = `USER#${uniqueId('iam')}`;
    const room = `ROOM#${uniqueId('iam')}`;
    const setOnline = (PK: string) =>
      new UpdateCommand({ TableName: TABLE.defaultName, Key: { PK, SK: 'PRESENCE' }, UpdateExpression: 'SET onlineUntil = :t', ExpressionAttributeValues: { ':t': 'later' } });
    // The fan-out may update presence items (USER#…), and nothing in a room's partition.
    await runAs('stream-fanout', () => db.send(setOnline(user)));
    expect(await item(user, 'PRESENCE')).toMatchObject({ onlineUntil: 'later' });
    await expect(runAs('stream-fanout', () => db.send(setOnline(room)))).rejects.toMatchObject(accessDenied('stream-fanout', 'dynamodb:UpdateItem'));
    expect(await item(room, 'PRESENCE')).toBeUndefined();

    // A delete writes its room's items in a batch: one key elsewhere refuses the whole batch.
    const batch = (PKs: string[]) => new BatchWriteCommand({ RequestItems: { [TABLE.defaultName]: PKs.map((PK) => ({ PutRequest: { Item: { PK, SK: 'BATCH' } } })) } });
    await expect(runAs('http-delete-message', () => db.send(batch([room, user])))).rejects.toMatchObject(accessDenied('http-delete-message', 'dynamodb:BatchWriteItem'));
    expect(await item(room, 'BATCH')).toBeUndefined();
    await runAs('http-delete-message', () => db.send(batch([room])));
    expect(await item(room, 'BATCH')).toBeDefined();

    // A transaction is authorized item by item, each by its own action.
    const transaction = (second: Record<string, unknown>) =>
      new TransactWriteCommand({ TransactItems: [{ Put: { TableName: TABLE.defaultName, Item: { PK: room, SK: 'TX' } } }, second] });
    const putUser = { Put: { TableName: TABLE.defaultName, Item: { PK: user, SK: 'TX' } } };
    await expect(runAs('http-send-message', () => db.send(transaction(putUser)))).rejects.toMatchObject(accessDenied('http-send-message', 'dynamodb:PutItem'));
    const deleteInRoom = { Delete: { TableName: TABLE.defaultName, Key: { PK: room, SK: 'BATCH' } } };
    await expect(runAs('http-send-message', () => db.send(transaction(deleteInRoom)))).rejects.toMatchObject(accessDenied('http-send-message', 'dynamodb:DeleteItem'));
    expect(await item(room, 'TX')).toBeUndefined();
    expect(await item(room, 'BATCH')).toBeDefined();
  });

  it('lets only the functions that keep seats write them: the send and receipts update theirs, the fan-out removes one; edits, events and presence cannot', async () => {
    const user = uniqueId('iam');
    const room = uniqueId('iam');
    const seat = keys.seat(user, room);
    await seed(seat.PK, seat.SK, { lastReadSeq: 0 });
    const mark = () => new UpdateCommand({ TableName: TABLE.defaultName, Key: seat, UpdateExpression: 'SET lastReadSeq = :s', ExpressionAttributeValues: { ':s': 2 } });
    await runAs('http-mark-read', () => db.send(mark()));
    await runAs('ws-message-send', () => db.send(mark()));
    for (const fn of ['http-edit-message', 'http-add-reaction', 'stream-events', 'ws-presence-set', 'http-set-room-preferences']) {
      await expect(runAs(fn, () => db.send(mark())), fn).rejects.toMatchObject(accessDenied(fn, 'dynamodb:UpdateItem'));
    }
    // A receipt writes its seat only: nothing in the room's partition any more.
    const memberMark = new UpdateCommand({ TableName: TABLE.defaultName, Key: keys.member(room, user), UpdateExpression: 'SET lastReadSeq = :s', ExpressionAttributeValues: { ':s': 2 } });
    await expect(runAs('http-mark-read', () => db.send(memberMark))).rejects.toMatchObject(accessDenied('http-mark-read', 'dynamodb:UpdateItem'));
    // A seat is put by who adds members, removed by who removes them; a send cannot remove one.
    const drop = new DeleteCommand({ TableName: TABLE.defaultName, Key: seat });
    await expect(runAs('http-send-message', () => db.send(drop))).rejects.toMatchObject(accessDenied('http-send-message', 'dynamodb:DeleteItem'));
    await expect(runAs('http-add-member', () => db.send(drop))).rejects.toMatchObject(accessDenied('http-add-member', 'dynamodb:DeleteItem'));
    expect(await item(seat.PK, seat.SK)).toMatchObject({ lastReadSeq: 2 });
    await runAs('stream-fanout', () => db.send(drop));
    expect(await item(seat.PK, seat.SK)).toBeUndefined();
  });

  it('lets the preference routes copy onto member items only: seats listed, not other partitions queried; nothing but room items updated; the level no longer put', async () => {
    const user = uniqueId('iam');
    const room = uniqueId('iam');
    const memberKey = keys.member(room, user);
    await seed(memberKey.PK, memberKey.SK, { userId: user });
    const copy = (Key: { PK: string; SK: string }) => new UpdateCommand({ TableName: TABLE.defaultName, Key, UpdateExpression: 'SET userNotify = :n', ExpressionAttributeValues: { ':n': 'all' } });
    for (const fn of ['http-set-preferences', 'http-set-room-preferences']) await runAs(fn, () => db.send(copy(memberKey)));
    expect(await item(memberKey.PK, memberKey.SK)).toMatchObject({ userNotify: 'all' });
    // Rooms' partitions only: no seat, no connection item.
    for (const key of [keys.seat(user, room), keys.connection(uniqueId('conn'))]) {
      for (const fn of ['http-set-preferences', 'http-set-room-preferences']) await expect(runAs(fn, () => db.send(copy(key))), `${fn} ${key.PK}`).rejects.toMatchObject(accessDenied(fn, 'dynamodb:UpdateItem'));
      expect(await item(key.PK, key.SK)).toBeUndefined();
    }
    // The level's route lists the user's seats, and queries nothing else (a room's members, a user's items).
    const query = (PK: string) => new QueryCommand({ TableName: TABLE.defaultName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': PK } });
    await runAs('http-set-preferences', () => db.send(query(keys.seatsOf(user).PK)));
    for (const PK of [`ROOM#${room}`, `USER#${user}`]) await expect(runAs('http-set-preferences', () => db.send(query(PK))), PK).rejects.toMatchObject(accessDenied('http-set-preferences', 'dynamodb:Query'));
    // It updates its item (counting versions) where it used to put it: a put is refused.
    await expect(runAs('http-set-preferences', () => db.send(new PutCommand({ TableName: TABLE.defaultName, Item: { PK: `USER#${user}`, SK: 'NOTIFY', notify: 'all' } })))).rejects.toMatchObject(
      accessDenied('http-set-preferences', 'dynamodb:PutItem'),
    );
    // Room creation reads its members' preference items in a batch; the room read cannot.
    const batch = () => new BatchGetCommand({ RequestItems: { [TABLE.defaultName]: { Keys: [{ PK: `USER#${user}`, SK: 'NOTIFY' }] } } });
    for (const fn of ['http-create-room', 'service-create-room']) await runAs(fn, () => db.send(batch()));
    await expect(runAs('http-get-room', () => db.send(batch()))).rejects.toMatchObject(accessDenied('http-get-room', 'dynamodb:BatchGetItem'));
  });

  it('lets the preference routes change only the level copies of a room item: another attribute, a condition on one, or the whole item returned is refused', async () => {
    const user = uniqueId('iam');
    const room = uniqueId('iam');
    const memberKey = keys.member(room, user);
    const messageKey = keys.message(room, 1);
    await seed(memberKey.PK, memberKey.SK, { userId: user, role: 'member', displayName: 'Ann', readSource: 'receipt' });
    await seed(messageKey.PK, messageKey.SK, { content: 'hello', senderId: user });
    // The copies as the routes write them, through the functions' own client.
    const table = new TableClient(tableApi, TABLE.defaultName, () => undefined, async () => undefined);
    expect(await runAs('http-set-preferences', () => copyUserLevel(table, room, user, { notify: 'mentions', v: 1 }))).toBe(true);
    expect(await runAs('http-set-room-preferences', () => copyRoomPreference(table, room, user, { pref: { notify: 'none', mutedUntil: '2030-01-01T00:00:00.000Z' }, v: 1 }))).toBe(true);
    const copied = { userNotify: 'mentions', userPrefV: 1, roomNotify: 'none', roomMutedUntil: '2030-01-01T00:00:00.000Z', roomPrefV: 1, role: 'member', displayName: 'Ann' };
    expect(await item(memberKey.PK, memberKey.SK)).toEqual({ ...memberKey, userId: user, ...copied });

    const update = (Key: { PK: string; SK: string }, expression: string, more: Record<string, unknown> = {}) =>
      new UpdateCommand({ TableName: TABLE.defaultName, Key, UpdateExpression: expression, ...more });
    const outside = [
      update(memberKey, 'SET #r = :r', { ExpressionAttributeNames: { '#r': 'role' }, ExpressionAttributeValues: { ':r': 'admin' } }),
      update(memberKey, 'SET userNotify = :n, displayName = :d', { ExpressionAttributeValues: { ':n': 'all', ':d': 'Mallory' } }),
      update(messageKey, 'SET content = :c', { ExpressionAttributeValues: { ':c': 'rewritten' } }),
      // A copy conditioned on another attribute would read it.
      update(memberKey, 'SET userNotify = :n', { ConditionExpression: '#r = :admin', ExpressionAttributeNames: { '#r': 'role' }, ExpressionAttributeValues: { ':n': 'all', ':admin': 'member' } }),
      // A copy that returns the whole item would read it all.
      update(memberKey, 'SET userNotify = :n', { ExpressionAttributeValues: { ':n': 'all' }, ReturnValues: 'ALL_NEW' }),
    ];
    for (const fn of ['http-set-preferences', 'http-set-room-preferences']) {
      for (const command of outside) {
        denied.length = 0;
        await expect(runAs(fn, () => db.send(command)), `${fn} ${command.input.UpdateExpression}`).rejects.toMatchObject(accessDenied(fn, 'dynamodb:UpdateItem'));
        expect(denied).toEqual([{ fn, request: expect.objectContaining({ action: 'dynamodb:UpdateItem', detail: `${String(command.input.Key!.PK)} / ${String(command.input.Key!.SK)}` }) }]);
      }
    }
    // Nothing changed; the same role change is what a member's admin route may make.
    expect(await item(memberKey.PK, memberKey.SK)).toEqual({ ...memberKey, userId: user, ...copied });
    expect(await item(messageKey.PK, messageKey.SK)).toMatchObject({ content: 'hello' });
    await runAs('http-update-member', () => db.send(outside[0]!));
    expect(await item(memberKey.PK, memberKey.SK)).toMatchObject({ role: 'admin' });
    // The updated attributes may come back.
    const back = await runAs('http-set-preferences', () => db.send(update(memberKey, 'SET userNotify = :n', { ExpressionAttributeValues: { ':n': 'all' }, ReturnValues: 'UPDATED_NEW' })));
    expect(back.Attributes).toEqual({ userNotify: 'all' });
  });

  it('refuses the functions\' own DynamoDB client (not an SDK client) outside the function\'s grants, with AWS\'s AccessDeniedException, before it reaches DynamoDB', async () => {
    const table = new TableClient(tableApi, TABLE.defaultName, () => undefined, async () => undefined);
    const room = `ROOM#${uniqueId('iam')}`;
    const user = `USER#${uniqueId('iam')}`;
    await seed(room, 'ROOM', { name: 'before' });
    denied.length = 0;
    const rename = () => table.update('renameRoom', { Key: { PK: room, SK: 'ROOM' }, UpdateExpression: 'SET #n = :n', ExpressionAttributeNames: { '#n': 'name' }, ExpressionAttributeValues: { ':n': 'after' } });
    // The store sees AWS's refusal as a fault (no DynamoDB text for a client), not retried.
    const err = await runAs('http-get-room', rename).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'StoreFault', cause: { ...accessDenied('http-get-room', 'dynamodb:UpdateItem'), $metadata: expect.objectContaining({ httpStatusCode: 400, attempts: 1 }) } });
    expect(denied).toEqual([{ fn: 'http-get-room', request: expect.objectContaining({ action: 'dynamodb:UpdateItem', detail: `${room} / ROOM` }) }]);
    expect(await item(room, 'ROOM')).toMatchObject({ name: 'before' });
    await runAs('http-update-room', rename);
    expect(await item(room, 'ROOM')).toMatchObject({ name: 'after' });

    // Every key of a batch and every item of a transaction, from the marshalled request it sends.
    await expect(runAs('http-delete-message', () => table.batchWrite('purge', [{ PutRequest: { Item: { PK: room, SK: 'LEAN' } } }, { PutRequest: { Item: { PK: user, SK: 'LEAN' } } }]))).rejects.toMatchObject({
      cause: accessDenied('http-delete-message', 'dynamodb:BatchWriteItem'),
    });
    await expect(
      runAs('http-send-message', () => table.transact('send', [{ Put: { TableName: TABLE.defaultName, Item: { PK: room, SK: 'LEAN' } } }, { Put: { TableName: TABLE.defaultName, Item: { PK: user, SK: 'LEAN' } } }])),
    ).rejects.toMatchObject({ cause: accessDenied('http-send-message', 'dynamodb:PutItem') });
    expect(await item(room, 'LEAN')).toBeUndefined();
    const query = (IndexName?: string) =>
      table.query('list', { ...(IndexName && { IndexName }), KeyConditionExpression: IndexName ? 'GSI1PK = :pk' : 'PK = :pk', ExpressionAttributeValues: { ':pk': user } });
    await runAs('http-list-public-rooms', () => query(TABLE.gsi1.name));
    await expect(runAs('http-list-public-rooms', () => query())).rejects.toMatchObject({ cause: accessDenied('http-list-public-rooms', 'dynamodb:Query') });
  });

  it('checks a Query against the table or the index it names', async () => {
    const query = (IndexName?: string) =>
      new QueryCommand({
        TableName: TABLE.defaultName,
        ...(IndexName && { IndexName }),
        KeyConditionExpression: IndexName ? 'GSI1PK = :pk' : 'PK = :pk',
        ExpressionAttributeValues: { ':pk': `USER#${uniqueId('iam')}` },
      });
    // The public listing reads rooms through GSI1, never the table by query.
    await runAs('http-list-public-rooms', () => db.send(query(TABLE.gsi1.name)));
    await expect(runAs('http-list-public-rooms', () => db.send(query()))).rejects.toMatchObject(accessDenied('http-list-public-rooms', 'dynamodb:Query'));
    await expect(runAs('http-get-room', () => db.send(query(TABLE.gsi1.name)))).rejects.toMatchObject(
      accessDenied('http-get-room', 'dynamodb:Query', `${TABLE_ARN}/index/${TABLE.gsi1.name}`),
    );
  });

  it('refuses an object outside the function\'s prefixes with S3\'s 403 AccessDenied, presigned URLs when they are used', async () => {
    const key = `files/${uniqueId('iam')}/f`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET.localName, Key: key, Body: 'x' }));
    const refused = {
      name: 'AccessDenied',
      $metadata: expect.objectContaining({ httpStatusCode: 403 }),
      message: `User: ${role('http-create-attachment')} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::${BUCKET.localName}/${key}" because no identity-based policy allows the s3:GetObject action`,
    };
    await expect(runAs('http-create-attachment', () => s3.send(new GetObjectCommand({ Bucket: BUCKET.localName, Key: key })))).rejects.toMatchObject(refused);
    const read = await runAs('s3-thumbnail', () => s3.send(new GetObjectCommand({ Bucket: BUCKET.localName, Key: key })));
    expect(await read.Body!.transformToString()).toBe('x');
    // Presigning never fails (it is local arithmetic); the refusal comes when the URL is used (iam-routes.test.ts).
    const url = await runAs('http-create-attachment', () => getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET.localName, Key: key })));
    expect(url).toContain('X-Amz-Signature=');
  });

  it('refuses @connections to a function without execute-api:ManageConnections with 403', async () => {
    await expect(
      runAs('ws-message-send', () => connections.send(new PostToConnectionCommand({ ConnectionId: 'Zm9vYmFyYmF6cXV4=', Data: 'x' }))),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: expect.objectContaining({ httpStatusCode: 403 }),
      message: expect.stringContaining(`${role('ws-message-send')} is not authorized to perform: execute-api:ManageConnections on resource: arn:aws:execute-api:`),
    });
    // The fan-out may: the endpoint itself answers (410: no such connection).
    await expect(
      runAs('stream-fanout', () => connections.send(new PostToConnectionCommand({ ConnectionId: 'Zm9vYmFyYmF6cXV4=', Data: 'x' }))),
    ).rejects.toMatchObject({ name: 'GoneException' });
  });

  it('refuses the functions\' own @connections client (not an SDK client) to a function without execute-api:ManageConnections with 403', async () => {
    const env = { AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey, AWS_REGION: LOCAL_REGION };
    const poster = new ConnectionsApi(inject('callbackUrl'), { maxSockets: 2, env });
    const body = ConnectionsApi.body('x');
    try {
      denied.length = 0;
      for (const call of [(): Promise<unknown> => poster.post('Zm9vYmFyYmF6cXV4=', body), () => poster.delete('Zm9vYmFyYmF6cXV4=')]) {
        await expect(runAs('ws-message-send', call)).rejects.toMatchObject({
          name: 'AccessDeniedException',
          $metadata: expect.objectContaining({ httpStatusCode: 403 }),
          message: expect.stringContaining(`${role('ws-message-send')} is not authorized to perform: execute-api:ManageConnections on resource: arn:aws:execute-api:`),
        });
      }
      expect(denied.map((d) => [d.fn, d.request.action, d.request.resource.split('/').slice(-3, -1).join('/')])).toEqual([
        ['ws-message-send', 'execute-api:ManageConnections', 'POST/@connections'],
        ['ws-message-send', 'execute-api:ManageConnections', 'DELETE/@connections'],
      ]);
      // The fan-out may: the endpoint itself answers (410: no such connection).
      expect(await runAs('stream-fanout', () => poster.post('Zm9vYmFyYmF6cXV4=', body))).toBe('gone');
    } finally {
      poster.destroy();
    }
  });

  it('lets the thumbnail function delete the thumbnail it made when the attachment record went meanwhile', async () => {
    // The real thumbnail use-case on the real store and bucket; the record is deleted right after
    // the thumbnail is stored, where a message deleted during decoding would remove it.
    const roomId = uniqueId('room');
    const id = uniqueId('att');
    const p = new pngjs.PNG({ width: 40, height: 30 });
    p.data = Buffer.alloc(40 * 30 * 4, 0x60);
    const bytes = pngjs.PNG.sync.write(p);
    const fileKey = `files/${roomId}/${id}`;
    const record = { roomId, id, key: fileKey, name: 'p.png', size: bytes.length, contentType: 'image/png', uploaderId: 'ann', createdAt: new Date().toISOString(), status: 'attached' };
    await db.send(new PutCommand({ TableName: TABLE.defaultName, Item: { ...keys.attachment(roomId, id), [TABLE.entityAttribute]: ENTITY.attachment, ...record } }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET.localName, Key: fileKey, Body: bytes, ContentType: 'image/png' }));
    const s3Config = { ...config, endpoint: inject('s3Endpoint'), forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } as const;
    class RecordGoesAfterPut extends S3BlobStore {
      override async put(key: string, body: Uint8Array, contentType: string) {
        await super.put(key, body, contentType);
        await runAsService(() => db.send(new DeleteCommand({ TableName: TABLE.defaultName, Key: keys.attachment(roomId, id) })));
      }
    }
    const deps = { attachments: { store: new DynamoAttachmentStore(new TableClient(tableApi, TABLE.defaultName)), blobs: new RecordGoesAfterPut(s3Config, BUCKET.localName), settings: attachmentSettings() } } as unknown as Deps;
    expect(await runAs('s3-thumbnail', () => makeThumbnail(deps, { key: fileKey, size: bytes.length }))).toBe('ignored');
    // (The shared runtime's own thumbnailer sees the file too; whichever stores a thumbnail last finds the record gone and deletes it.)
    await eventually(() => expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET.localName, Key: `thumbs/${roomId}/${id}.jpg` }))).rejects.toMatchObject({ name: 'NotFound' }));
  });
});
