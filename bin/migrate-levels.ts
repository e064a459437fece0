/**
 * `npm run migrate:levels -- <table name>`: gives member items written before they carried
 * copies of their members' notification preferences those copies (docs/operations.md, "Copies of
 * preferences"). Idempotent; safe while the functions serve; run after `npm run migrate:seats`.
 * The table is the stack's `TableName` output (or `PARLEY_TABLE_NAME`); credentials, region and
 * endpoint are the AWS SDK's usual ones (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { migrateLevels } from '#shared/adapters/dynamodb/level-migration.ts';
import { ENV } from '#shared/env.ts';

const tableName = process.argv[2] ?? process.env[ENV.tableName];
if (!tableName) {
  console.error('Usage: npm run migrate:levels -- <table name>   (the stack output TableName, or PARLEY_TABLE_NAME)');
  process.exit(2);
}
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
try {
  const result = await migrateLevels(doc, tableName);
  console.log(`Copies of preferences in ${tableName}: ${JSON.stringify(result)}`);
  if (result.withoutSeat > 0) console.log('Some members have no seat yet: run npm run migrate:seats, then this again.');
} finally {
  doc.destroy();
}
