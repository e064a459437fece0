import { describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY, TABLE } from '#shared/adapters/dynamodb/table.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { LOCAL_CREDENTIALS } from '#infra/local/services.ts';
import { createUser, TestSocket, type TestUser } from '#test/support/clients.ts';

const httpUrl = inject('httpUrl');
const wsUrl = inject('wsUrl');
const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1', credentials: LOCAL_CREDENTIALS }));

/** Opens a socket with a `?token=` and/or Authorization header of its own choosing: the upgrade's status and, when admitted, the socket. */
async function upgrade(opts: { query?: string[]; headers?: string[] }): Promise<{ status: number; socket?: TestSocket }> {
  const url = new URL(wsUrl);
  for (const t of opts.query ?? []) url.searchParams.append('token', t);
  const ws = new WebSocket(url, { headers: opts.headers?.length ? { authorization: opts.headers.length === 1 ? opts.headers[0]! : opts.headers } : {} } as WebSocket.ClientOptions);
  const socket = new TestSocket(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ status: 101, socket }));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    ws.once('error', reject);
  });
}

/** What the table holds of a user's connections: its presence item's list and its connection items. */
async function storedConnections(user: TestUser): Promise<string[]> {
  const { Item: presence } = await db.send(new GetCommand({ TableName: TABLE.defaultName, Key: keys.presence(user.userId) }));
  const items = await db.send(
    new ScanCommand({
      TableName: TABLE.defaultName,
      FilterExpression: '#e = :e AND userId = :u',
      ExpressionAttributeNames: { '#e': TABLE.entityAttribute },
      ExpressionAttributeValues: { ':e': ENTITY.connection, ':u': user.userId },
    }),
  );
  return [...((presence?.conns as Set<string> | undefined) ?? []), ...(items.Items ?? []).map((i) => String(i.connectionId))];
}

describe('WebSocket $connect: ?token= and the Authorization header', () => {
  it('refuses with 401 when the query token and the Bearer header disagree, and stores nothing', async () => {
    const [ann, bo] = await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'bo')]);
    // Both valid tokens, of two users: neither may win.
    expect((await upgrade({ query: [ann.token], headers: [`Bearer ${bo.token}`] })).status).toBe(401);
    // A valid token and garbage, either way round.
    expect((await upgrade({ query: [ann.token], headers: ['Bearer not-a-jwt'] })).status).toBe(401);
    expect((await upgrade({ query: ['not-a-jwt'], headers: [`Bearer ${ann.token}`] })).status).toBe(401);
    // An Authorization header that is not a Bearer token beside a valid query token.
    expect((await upgrade({ query: [ann.token], headers: ['Basic YW5uOnNlY3JldA=='] })).status).toBe(401);
    // The same user's token twice, but two different strings (an empty query token included).
    const ann2 = await fetch(new URL('dev/token', httpUrl), { method: 'POST', body: JSON.stringify({ userId: ann.userId }) }).then((r) => r.json() as Promise<{ token: string }>);
    if (ann2.token !== ann.token) expect((await upgrade({ query: [ann.token], headers: [`Bearer ${ann2.token}`] })).status).toBe(401);
    expect((await upgrade({ query: [''], headers: [`Bearer ${ann.token}`] })).status).toBe(401);
    // Repeated in one place with different values.
    expect((await upgrade({ query: [ann.token, bo.token] })).status).toBe(401);
    expect((await upgrade({ headers: [`Bearer ${ann.token}`, `Bearer ${bo.token}`] })).status).toBe(401);
    expect(await storedConnections(ann)).toEqual([]);
    expect(await storedConnections(bo)).toEqual([]);
  });

  it('connects with the same token in both, or in only one of them', async () => {
    const ann = await createUser(httpUrl, 'ann');
    for (const opts of [{ query: [ann.token], headers: [`Bearer ${ann.token}`] }, { query: [ann.token] }, { headers: [`Bearer ${ann.token}`] }, { headers: [`bearer  ${ann.token}`] }]) {
      const { status, socket } = await upgrade(opts);
      expect(status, JSON.stringify(Object.keys(opts))).toBe(101);
      try {
        expect(await socket!.next((f) => f.type === 'connection_established')).toMatchObject({ userId: ann.userId });
        expect((await socket!.request({ type: 'ping' })).type).toBe('pong');
      } finally {
        await socket!.close();
      }
    }
    // No token at all is still refused.
    expect((await upgrade({})).status).toBe(401);
  });
});
