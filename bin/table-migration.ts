import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '#shared/env.ts';

/**
 * What an operator's migration command shares (`npm run migrate:<name> -- <table name>`): the
 * table from the argument or `PARLEY_TABLE_NAME`, a document client on the AWS SDK's usual
 * credentials, region and endpoint, the migration's result printed, and the client closed.
 */
export async function runTableMigration<R>(command: string, migrate: (doc: DynamoDBDocumentClient, tableName: string) => Promise<R>, report: (result: R, tableName: string) => string[]): Promise<void> {
  const tableName = process.argv[2] ?? process.env[ENV.tableName];
  if (!tableName) {
    console.error(`Usage: npm run ${command} -- <table name>   (the stack output TableName, or PARLEY_TABLE_NAME)`);
    process.exit(2);
  }
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  try {
    for (const line of report(await migrate(doc, tableName), tableName)) console.log(line);
  } finally {
    doc.destroy();
  }
}
