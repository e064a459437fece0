import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { apiOk, connect, createUser, eventually, type TestUser } from '#test/support/clients.ts';
import { plantStaleConnection } from '#test/support/stale-connection.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { connectionEntry, keys } from '#shared/adapters/dynamodb/entities/keys.ts';

/**
 * What a missing grant does, end to end: a runtime run without some grants, as if they had been
 * deleted from the stack. The fan-out without its presence grant is the failure a deployed
 * stack had before the table existed (the record fails and is retried; the user stays "online").
 */
const FANOUT_PRESENCE = 'stream-fanout: dynamodb:UpdateItem on table (LeadingKeys USER#*)';
const LIST_READS_FILES = 'http-list-messages: s3:GetObject on objects files/*';
const TYPING_GETS = 'ws-typing: dynamodb:GetItem on table';

let rt: Runtime;
let db: DynamoDBDocumentClient;
beforeAll(async () => {
  rt = await startRuntime({ PARLEY_IAM_REVOKE: [FANOUT_PRESENCE, LIST_READS_FILES, TYPING_GETS].join('\n'), PARLEY_SEND_RATE_LIMIT: '0', PARLEY_WRITE_RATE_LIMIT: '0' });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: rt.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
}, 120_000);
afterAll(async () => {
  db?.destroy();
  await rt?.stop();
});
const ok = (user: TestUser, method: string, path: string, body?: unknown) => apiOk(rt.httpUrl, user, method, path, body);

describe('a runtime missing grants', () => {
  it('refuses the fan-out\'s presence update after a 410 with AccessDenied: the batch fails and is retried, and the gone connection stays listed', async () => {
    const [ann, bo, cy] = (await Promise.all(['ann', 'bo', 'cy'].map((n) => createUser(rt.httpUrl, n)))) as [TestUser, TestUser, TestUser];
    const roomId = (await ok(ann, 'POST', '/rooms', { type: 'group', name: 'R', memberIds: [bo.userId, cy.userId] })).id;
    const stale = await plantStaleConnection(db, bo.userId, { item: { displayName: 'Bo' } });
    // The stale connection's own record (its greeting is answered 410) meets the refusal, and fails.
    // Awaited before Cy connects: Cy's presence fan-out would otherwise meet the stale connection
    // first, and presence is delivered best effort (a refusal there fails no record), after which
    // the connection's item is gone and its greeting has nothing to forget. Which of the two comes
    // first is a matter of timing (in AWS too: a second sandbox's cold start can hold one back).
    await eventually(() => {
      expect(rt.output()).toContain(`[iam] AccessDenied: parley-stream-fanout may not dynamodb:UpdateItem on arn:aws:dynamodb:${LOCAL_REGION}:000000000000:table/${TABLE.defaultName} (USER#${bo.userId} / PRESENCE)`);
      expect(rt.output()).toMatch(/Stream batch failed at \d+; retry 1 of 5/);
    }, 15_000);
    const cySocket = await connect(rt.wsUrl, cy);
    try {
      const sent = await ok(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'twice' });
      await cySocket.next((f) => f.type === 'message_new' && f.message.id === sent.id);
      // The stale entry stays: Bo looks online for as long as it does.
      const { Item } = await db.send(new GetCommand({ TableName: TABLE.defaultName, Key: keys.presence(bo.userId), ConsistentRead: true }));
      expect([...(Item?.conns ?? [])]).toContain(connectionEntry(stale));
    } finally {
      await cySocket.close();
    }
  });

  it('answers a presigned URL of a function that may not read the object with S3\'s 403 AccessDenied when it is used', async () => {
    const [ann] = (await Promise.all([createUser(rt.httpUrl, 'ann')])) as [TestUser];
    const roomId = (await ok(ann, 'POST', '/rooms', { type: 'group', name: 'Files', memberIds: [] })).id;
    const bytes = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(300, 0x20)]);
    const ticket = await ok(ann, 'POST', `/rooms/${roomId}/attachments`, { fileName: 'a.pdf', contentType: 'application/pdf', size: bytes.length });
    const { 'content-length': _l, ...headers } = ticket.uploadHeaders;
    expect((await fetch(ticket.uploadUrl, { method: 'PUT', headers, body: bytes })).status).toBe(200);
    const annSocket = await connect(rt.wsUrl, ann);
    let sent: { id: string };
    try {
      sent = await ok(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'file', attachmentIds: [ticket.attachmentId] });
      await annSocket.next((f) => f.type === 'message_new' && f.message.id === sent.id);
    } finally {
      await annSocket.close();
    }
    // Locally every function signs with the same key: a URL presigned in the same second by the send
    // or by the fan-out (both may read files/) would be the very same URL. A second after the
    // fan-out delivered it, it is the list's own.
    await new Promise((r) => setTimeout(r, 1100));

    const listed = (await ok(ann, 'GET', `/rooms/${roomId}/messages`)).items.find((m: { id: string }) => m.id === sent.id);
    const refused = await fetch(listed.attachments[0].url);
    expect(refused.status).toBe(403);
    const xml = await refused.text();
    expect(xml).toContain('<Code>AccessDenied</Code>');
    expect(xml).toContain('assumed-role/parley-http-list-messages-role/parley-http-list-messages is not authorized to perform: s3:GetObject on resource: &quot;arn:aws:s3:::');
    // A browser's CORS preflight of that URL is S3's to answer from the bucket's CORS rules, not IAM's.
    const preflight = await fetch(listed.attachments[0].url, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:3000', 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBeTruthy();
    // The same object through a function that may read it.
    const single = await ok(ann, 'GET', `/rooms/${roomId}/messages/${sent.id}`);
    expect((await fetch(single.attachments[0].url)).status).toBe(200);
  });

  it('refuses a function a read that other functions of the process made before it: each is a container of its own, as in Lambda', async () => {
    const [ann, bo] = (await Promise.all(['ann', 'bo'].map((n) => createUser(rt.httpUrl, n)))) as [TestUser, TestUser];
    const roomId = (await ok(ann, 'POST', '/rooms', { type: 'group', name: 'Typing', memberIds: [bo.userId] })).id;
    const [annSocket, boSocket] = await Promise.all([connect(rt.wsUrl, ann), connect(rt.wsUrl, bo)]);
    try {
      // The connects' presence changes and the message's fan-out have read the live lists' marker (a GetItem), each under its own grants.
      const sent = await ok(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'before typing' });
      await boSocket.next((f) => f.type === 'message_new' && f.message.id === sent.id);
      // The typing relay reads it too, with its own store: without its grant, that read is refused.
      expect(await annSocket.request({ type: 'typing', roomId, isTyping: true })).toMatchObject({ type: 'error', code: 'internal' });
      expect(rt.output()).toMatch(/\[iam\] AccessDenied: parley-ws-typing may not dynamodb:GetItem on arn:aws:dynamodb:[^ ]+:table\/[^ ]+ \(META#/);
      expect(boSocket.frames.filter((f) => f.type === 'user_typing')).toEqual([]);
    } finally {
      await Promise.all([annSocket.close(), boSocket.close()]);
    }
  });
});
