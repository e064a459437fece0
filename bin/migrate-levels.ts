/**
 * `npm run migrate:levels -- <table name>`: gives member items written before they carried
 * copies of their members' notification preferences those copies (docs/operations.md, "Copies of
 * preferences"). Idempotent; safe while the functions serve; run after `npm run migrate:seats`.
 * The table is the stack's `TableName` output (or `PARLEY_TABLE_NAME`); credentials, region and
 * endpoint are the AWS SDK's usual ones (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`).
 */
import { migrateLevels } from '#shared/adapters/dynamodb/level-migration.ts';
import { runTableMigration } from './table-migration.ts';

await runTableMigration('migrate:levels', migrateLevels, (result, tableName) => [
  `Copies of preferences in ${tableName}: ${JSON.stringify(result)}`,
  ...(result.withoutSeat > 0 ? ['Some members have no seat yet: run npm run migrate:seats, then this again.'] : []),
]);
