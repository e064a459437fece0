/**
 * `npm run migrate:seats -- <table name>`: gives every member of a table written before seats
 * their seat, and removes seats whose member is gone (docs/operations.md, "Seats"). Idempotent;
 * safe while the functions serve. The table is the stack's `TableName` output (or
 * `PARLEY_TABLE_NAME`); credentials, region and endpoint are the AWS SDK's usual ones
 * (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local).
 */
import { migrateSeats } from '#shared/adapters/dynamodb/seat-migration.ts';
import { runTableMigration } from './table-migration.ts';

await runTableMigration('migrate:seats', migrateSeats, (result, tableName) => [
  `Seats of ${tableName}: ${JSON.stringify(result)}`,
  ...(result.skipped > 0 ? ['Some items changed while they were migrated: run the command again to settle them.'] : []),
]);
