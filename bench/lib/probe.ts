import { PutItemCommand, QueryCommand, UpdateItemCommand, type ConsumedCapacity, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE, tableSchema } from '#shared/adapters/dynamodb/table.ts';

export interface ProbeResult {
  check: string;
  /** Units DynamoDB Local reported (table / GSI1), and what AWS charges for the same call. */
  local: string;
  aws: string;
  same: boolean;
}

const units = (c: ConsumedCapacity | undefined) =>
  c ? `${c.Table?.CapacityUnits ?? 0} table / ${c.GlobalSecondaryIndexes?.[TABLE.gsi1.name]?.CapacityUnits ?? 0} GSI1` : 'nothing reported';

/**
 * Asks DynamoDB Local what it charges for the calls whose AWS price is documented, so the report
 * says, from this very run, where Local's ConsumedCapacity can be trusted and where the bench
 * prices the AWS figure itself. The probe items carry no entity type: no stream filter wakes.
 */
export async function probeDynamoDbLocal(db: DynamoDBClient, TableName: string): Promise<ProbeResult[]> {
  const R = { TableName, ReturnConsumedCapacity: 'INDEXES' as const };
  const projection = tableSchema.globalSecondaryIndexes[0].Projection as { NonKeyAttributes?: readonly string[] };
  const projected = projection.NonKeyAttributes?.[0] ?? 'displayName';
  const indexed = { PK: { S: 'BENCH#probe' }, SK: { S: 'indexed' }, GSI1PK: { S: 'BENCH#probe' }, GSI1SK: { S: 'x' }, [projected]: { S: 'a' } };
  const results: ProbeResult[] = [];
  const check = (name: string, c: ConsumedCapacity | undefined, aws: string) => results.push({ check: name, local: units(c), aws, same: units(c) === aws });

  const big = await db.send(new PutItemCommand({ ...R, Item: { PK: { S: 'BENCH#probe' }, SK: { S: 'big' }, body: { S: 'x'.repeat(1024) } } }));
  check('PutItem of a 1.04 KB item, no index keys', big.ConsumedCapacity, '2 table / 0 GSI1');
  const put = await db.send(new PutItemCommand({ ...R, Item: indexed }));
  check('PutItem of a small item in GSI1', put.ConsumedCapacity, '1 table / 1 GSI1');
  const update = await db.send(
    new UpdateItemCommand({ ...R, Key: { PK: indexed.PK, SK: indexed.SK }, UpdateExpression: 'SET #a = :v', ExpressionAttributeNames: { '#a': projected }, ExpressionAttributeValues: { ':v': { S: 'b' } } }),
  );
  check(`UpdateItem of '${projected}' (projected into GSI1) on that item`, update.ConsumedCapacity, '1 table / 1 GSI1');
  const empty = await db.send(
    new QueryCommand({ ...R, IndexName: TABLE.gsi1.name, KeyConditionExpression: 'GSI1PK = :p', ExpressionAttributeValues: { ':p': { S: 'BENCH#nobody' } } }),
  );
  check('Query of GSI1 matching nothing', empty.ConsumedCapacity, '0 table / 0.5 GSI1');
  // A Query is charged on its items' summed size, rounded up to 4 KB once (two reads of 4 KB each
  // if rounded item by item): what lets one Query read a room with its newest message for half a unit.
  for (const sk of ['pair#1', 'pair#2']) await db.send(new PutItemCommand({ TableName, Item: { PK: { S: 'BENCH#probe' }, SK: { S: sk }, body: { S: 'x'.repeat(1536) } } }));
  const pair = await db.send(
    new QueryCommand({ ...R, KeyConditionExpression: 'PK = :p AND begins_with(SK, :s)', ExpressionAttributeValues: { ':p': { S: 'BENCH#probe' }, ':s': { S: 'pair#' } } }),
  );
  check('Query of two 1.5 KB items (3 KB summed), eventually consistent', pair.ConsumedCapacity, '0.5 table / 0 GSI1');
  try {
    await db.send(new PutItemCommand({ ...R, Item: indexed, ConditionExpression: 'attribute_not_exists(PK)' }));
  } catch (err) {
    check('PutItem refused by its condition', (err as { ConsumedCapacity?: ConsumedCapacity }).ConsumedCapacity, '1 table / 0 GSI1 (charged, not reported)');
  }
  return results;
}
