import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { api, connect, createUser, eventually } from '#test/support/clients.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-stop-'));
const started: Runtime[] = [];
afterAll(async () => {
  await Promise.all(started.map((r) => r.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});
const inDataDir = async () => {
  const rt = await startRuntime({ PARLEY_IN_MEMORY: '', PARLEY_DATA_DIR: dataDir });
  started.push(rt);
  return rt;
};
/** The items whose partition key starts with `prefix`, as stored. */
async function scan(rt: Runtime, prefix: string): Promise<Record<string, { S?: string; SS?: string[] }>[]> {
  const db = new DynamoDBClient({ endpoint: rt.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const { Items = [] } = await db.send(
      new ScanCommand({ TableName: TABLE.defaultName, FilterExpression: 'begins_with(PK, :c)', ExpressionAttributeValues: { ':c': { S: prefix } }, ConsistentRead: true }),
    );
    return Items as Record<string, { S?: string; SS?: string[] }>[];
  } finally {
    db.destroy();
  }
}
const connectionItems = (rt: Runtime) => scan(rt, 'CONN#');

describe('npm start, stopped with Ctrl-C', () => {
  it('closes the sockets (each gets its $disconnect) before the stream consumers and the services: no error output, no connection left in the data dir', async () => {
    const rt = await inDataDir();
    const ann = await createUser(rt.httpUrl, 'ann');
    const bo = await createUser(rt.httpUrl, 'bo');
    const room = await api(rt.httpUrl, 'POST', '/rooms', { token: ann.token, body: { type: 'group', name: 'Stop', memberIds: [bo.userId] } });
    const sockets = await Promise.all([connect(rt.wsUrl, ann), connect(rt.wsUrl, bo), connect(rt.wsUrl, bo)]);
    await eventually(async () => expect(await connectionItems(rt)).toHaveLength(3));
    // Work in flight as the signal comes: a send whose fan-out is still to run.
    await api(rt.httpUrl, 'POST', `/rooms/${room.body.id}/messages`, { token: ann.token, body: { content: 'last words' } });

    expect(await rt.stop('SIGINT')).toBe(0);
    expect(await Promise.all(sockets.map((s) => s.closed))).toEqual([1001, 1001, 1001]);
    expect(rt.errors()).toBe('');
    expect(rt.output()).toContain('SIGINT: stopping');

    const again = await inDataDir();
    expect(await connectionItems(again)).toEqual([]);
    // Nor on the presence items: everyone went offline.
    const presence = await scan(again, 'USER#');
    expect(presence.filter((p) => p.SK?.S === 'PRESENCE' && (p.conns?.SS?.length ?? 0) > 0)).toEqual([]);
  }, 120_000);
});
