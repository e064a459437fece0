/**
 * `npm run migrate:seats -- <table name>`: gives every member of a table written before seats
 * their seat, and removes seats whose member is gone (docs/operations.md, "Seats"). Idempotent;
 * safe while the functions serve. The table is the stack's `TableName` output (or
 * `PARLEY_TABLE_NAME`); credentials, region and endpoint are the AWS SDK's usual ones
 * (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { migrateSeats } from '#shared/adapters/dynamodb/seat-migration.ts';
import { ENV } from '#shared/env.ts';

const tableName = process.argv[2] ?? process.env[ENV.tableName];
if (!tableName) {
  console.error('Usage: npm run migrate:seats -- <table name>   (the stack output TableName, or PARLEY_TABLE_NAME)');
  process.exit(2);
}
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
try {
  const result = await migrateSeats(doc, tableName);
  console.log(`Seats of ${tableName}: ${JSON.stringify(result)}`);
  if (result.skipped > 0) console.log('Some items changed while they were migrated: run the command again to settle them.');
} finally {
  doc.destroy();
}
