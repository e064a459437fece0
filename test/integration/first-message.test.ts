import { describe, expect, inject, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { LOCAL_CREDENTIALS } from '#infra/local/services.ts';
import { api, connect, createUser, eventually, type TestSocket } from '#test/support/clients.ts';
import { plantStaleConnection } from '#test/support/stale-connection.ts';

const httpUrl = inject('httpUrl');
const wsUrl = inject('wsUrl');

describe('a first message, end to end', () => {
  it('GET /health answers without auth', async () => {
    const res = await api(httpUrl, 'GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /me tells who the token belongs to; no token or a bad one is 401', async () => {
    const ann = await createUser(httpUrl, 'ann');
    const me = await api(httpUrl, 'GET', '/me', { token: ann.token });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ userId: ann.userId, displayName: 'Ann' });
    expect((await api(httpUrl, 'GET', '/me')).status).toBe(401);
    expect((await api(httpUrl, 'GET', '/me', { token: `${ann.token.slice(0, -4)}AAAA` })).status).toBe(401);
  });

  it('delivers message_new through the stream to every connection of every member, and to nobody else', async () => {
    const [ann, bo, cy, eve] = await Promise.all(['ann', 'bo', 'cy', 'eve'].map((n) => createUser(httpUrl, n)));
    const created = await api(httpUrl, 'POST', '/rooms', {
      token: ann!.token,
      body: { type: 'group', name: 'Launch', memberIds: [bo!.userId, cy!.userId] },
    });
    expect(created.status).toBe(201);
    const roomId: string = created.body.id;
    expect(created.body).toMatchObject({ type: 'group', name: 'Launch', memberCount: 3, visibility: 'private', maxMembers: 100 });

    const listed = await api(httpUrl, 'GET', '/rooms', { token: bo!.token });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((i: { room: { id: string } }) => i.room.id)).toContain(roomId);

    const sockets: TestSocket[] = await Promise.all([
      connect(wsUrl, ann),
      connect(wsUrl, ann, { viaHeader: true }), // the sender's second device
      connect(wsUrl, bo),
      connect(wsUrl, cy),
      connect(wsUrl, eve), // not a member
    ]);
    try {
      const [annPhone, annLaptop, boSocket, cySocket, eveSocket] = sockets as [TestSocket, TestSocket, TestSocket, TestSocket, TestSocket];
      const established = annPhone.frames.find((f) => f.type === 'connection_established')!;
      expect(established).toMatchObject({ userId: ann!.userId, connectionId: expect.any(String), serverTime: expect.any(String) });

      const pong = await annPhone.request({ type: 'ping' });
      expect(pong.type).toBe('pong');

      const ack = await annPhone.request({ type: 'message_send', roomId, content: 'hello, world' });
      expect(ack.type).toBe('ack');
      const message = ack.result;
      expect(message).toMatchObject({
        roomId,
        seq: 1,
        senderId: ann!.userId,
        sender: { id: ann!.userId, displayName: 'Ann' },
        type: 'text',
        content: 'hello, world',
        mentions: [],
        attachments: [],
        reactions: [],
      });

      for (const s of [annPhone, annLaptop, boSocket, cySocket]) {
        const got = await s.next((f) => f.type === 'message_new' && f.message.id === message.id);
        expect(got.message).toEqual(message);
      }
      // Give a stray delivery every chance to arrive before asserting there is none.
      await boSocket.request({ type: 'ping' });
      expect(eveSocket.frames.filter((f) => f.type === 'message_new')).toEqual([]);

      const history = await api(httpUrl, 'GET', `/rooms/${roomId}/messages`, { token: cy!.token });
      expect(history.status).toBe(200);
      expect(history.body.items).toEqual([message]);
    } finally {
      await Promise.all(sockets.map((s) => s.close()));
    }
  });

  it('refuses non-members: 403 on reading and sending, an error frame over WebSocket', async () => {
    const [ann, eve] = await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'eve')]);
    const { body: room } = await api(httpUrl, 'POST', '/rooms', { token: ann.token, body: { type: 'group', name: 'Private', memberIds: [] } });
    const read = await api(httpUrl, 'GET', `/rooms/${room.id}/messages`, { token: eve.token });
    expect(read.status).toBe(403);
    expect(read.body.error.code).toBe('forbidden');
    const post = await api(httpUrl, 'POST', `/rooms/${room.id}/messages`, { token: eve.token, body: { content: 'let me in' } });
    expect(post.status).toBe(403);
    const socket = await connect(wsUrl, eve);
    try {
      const refused = await socket.request({ type: 'message_send', roomId: room.id, content: 'let me in' });
      expect(refused).toMatchObject({ type: 'error', code: 'forbidden' });
    } finally {
      await socket.close();
    }
    const history = await api(httpUrl, 'GET', `/rooms/${room.id}/messages`, { token: ann.token });
    expect(history.body.items).toEqual([]);
  });

  it('answers invalid JSON, an unknown type and a missing field with an error frame, and keeps the connection open', async () => {
    const ann = await createUser(httpUrl, 'ann');
    const socket = await connect(wsUrl, ann);
    try {
      socket.send('{not json');
      expect(await socket.next((f) => f.type === 'error' && /JSON/.test(f.message))).toMatchObject({ code: 'validation_failed' });
      const unknown = await socket.request({ type: 'teleport' });
      expect(unknown).toMatchObject({ type: 'error', code: 'validation_failed' });
      expect(unknown.message).toContain('teleport');
      const missing = await socket.request({ type: 'message_send', content: 'where to?' });
      expect(missing).toMatchObject({ type: 'error', code: 'validation_failed' });
      expect(JSON.stringify(missing.details)).toContain('roomId');
      expect((await socket.request({ type: 'ping' })).type).toBe('pong');
      expect(socket.closeCode).toBeUndefined();
    } finally {
      await socket.close();
    }
  });

  it('refuses a WebSocket upgrade without a valid token with 401', async () => {
    await expect(connect(wsUrl, undefined)).rejects.toMatchObject({ status: 401 });
    const ann = await createUser(httpUrl, 'ann');
    await expect(connect(wsUrl, { ...ann, token: 'not-a-jwt' })).rejects.toMatchObject({ status: 401 });
  });

  it('scopes a ?roomId= connection to that room, and refuses it for a non-member with 403', async () => {
    const [ann, bo] = await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'bo')]);
    const mk = async (name: string, members: string[]) =>
      (await api(httpUrl, 'POST', '/rooms', { token: ann.token, body: { type: 'group', name, memberIds: members } })).body.id as string;
    const [roomA, roomB] = await Promise.all([mk('A', [bo.userId]), mk('B', [bo.userId])]);
    const onlyA = await connect(wsUrl, bo, { roomId: roomA });
    try {
      await api(httpUrl, 'POST', `/rooms/${roomB}/messages`, { token: ann.token, body: { content: 'in B' } });
      const inA = await api(httpUrl, 'POST', `/rooms/${roomA}/messages`, { token: ann.token, body: { content: 'in A' } });
      await onlyA.next((f) => f.type === 'message_new' && f.message.id === inA.body.id);
      expect(onlyA.frames.filter((f) => f.type === 'message_new').map((f) => f.message.content)).toEqual(['in A']);
    } finally {
      await onlyA.close();
    }
    const eve = await createUser(httpUrl, 'eve');
    await expect(connect(wsUrl, eve, { roomId: roomA })).rejects.toMatchObject({ status: 403 });
  });

  it('removes a connection found stale by a 410, from the table and from its user\'s presence', async () => {
    const [ann, bo] = await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'bo')]);
    const { body: room } = await api(httpUrl, 'POST', '/rooms', { token: ann.token, body: { type: 'group', name: 'R', memberIds: [bo.userId] } });
    // A connection whose $disconnect was lost an hour ago: still listed for Bo, but API Gateway no longer knows it.
    const staleId = 'c3RhbGUvY29ubj0='; // '/' and '=' exercise the id's URL encoding
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1', credentials: LOCAL_CREDENTIALS }));
    await plantStaleConnection(db, bo.userId, { id: staleId, item: { displayName: 'Bo' } });
    const live = await connect(wsUrl, bo);
    try {
      const sent = await api(httpUrl, 'POST', `/rooms/${room.id}/messages`, { token: ann.token, body: { content: 'one' } });
      await live.next((f) => f.type === 'message_new' && f.message.id === sent.body.id);
      await eventually(async () => {
        const { Item } = await db.send(new GetCommand({ TableName: TABLE.defaultName, Key: keys.connection(staleId) }));
        expect(Item).toBeUndefined();
        const { Item: presence } = await db.send(new GetCommand({ TableName: TABLE.defaultName, Key: keys.presence(bo.userId) }));
        expect([...(presence?.conns ?? [])]).toHaveLength(1); // the live one only
        expect([...(presence?.conns ?? [])]).not.toContain(staleId);
      });
    } finally {
      await live.close();
    }
  });
});
