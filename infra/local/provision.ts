import {
  CreateTableCommand,
  DescribeTableCommand,
  PutItemCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { TABLE, tableSchema } from '#shared/adapters/dynamodb/table.ts';
import { liveListsMarker } from '#shared/adapters/dynamodb/connection-store.ts';

/** CreateTable input from the same definition the CDK stack uses. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...tableSchema.attributeDefinitions],
    KeySchema: [...tableSchema.keySchema],
    GlobalSecondaryIndexes: tableSchema.globalSecondaryIndexes.map((g) => ({
      ...g,
      KeySchema: [...g.KeySchema],
      Projection: { ...g.Projection, NonKeyAttributes: [...g.Projection.NonKeyAttributes] },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: tableSchema.streamViewType },
  };
}

/** Creates the table if it does not exist yet, and turns its TTL on. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  let created = false;
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    created = true;
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true } }),
    );
  } catch (err) {
    // Already enabled (a persisted table): nothing to do.
    if (!/already enabled|TimeToLive is already/i.test((err as Error).message)) throw err;
  }
  // A new table has no connection opened before the rooms' live lists were kept: they serve at
  // once. (A table that exists already is marked by its first connection listed.)
  if (created) {
    const marker = Object.fromEntries(Object.entries(liveListsMarker(new Date(0).toISOString())).map(([k, v]) => [k, { S: String(v) }]));
    await client.send(new PutItemCommand({ TableName: tableName, Item: marker }));
  }
}

/** Creates the attachments bucket with CORS for browser uploads, if it does not exist yet. */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
  await client.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PUT', 'HEAD'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3600 }],
      },
    }),
  );
}
