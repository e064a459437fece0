import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENTITY, TABLE } from '#shared/adapters/dynamodb/table.ts';
import { connectionEntry, keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { uniqueId } from './clients.ts';

/**
 * Stores a connection of `userId` whose `$disconnect` was lost an hour ago, as `$connect` stores
 * one (listed on the user's presence item first, then its own item): still listed, unknown to the
 * gateway. `id` defaults to a new one; `item` adds to or overrides the connection item.
 */
export async function plantStaleConnection(db: DynamoDBDocumentClient, userId: string, opts: { id?: string; item?: Record<string, unknown> } = {}): Promise<string> {
  const id = opts.id ?? Buffer.from(uniqueId('stale')).toString('base64');
  await db.send(
    new UpdateCommand({
      TableName: TABLE.defaultName,
      Key: keys.presence(userId),
      UpdateExpression: 'ADD conns :c SET userId = :u, onlineUntil = :until',
      ExpressionAttributeValues: { ':c': new Set([connectionEntry(id)]), ':u': userId, ':until': new Date(Date.now() + 3_600_000).toISOString() },
    }),
  );
  await db.send(
    new PutCommand({
      TableName: TABLE.defaultName,
      Item: { ...keys.connection(id), [TABLE.entityAttribute]: ENTITY.connection, connectionId: id, userId, displayName: 'Stale', connectedAt: new Date(Date.now() - 3_600_000).toISOString(), ...opts.item },
    }),
  );
  return id;
}
