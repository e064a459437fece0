import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { DynamoDbApi } from '#shared/adapters/dynamodb/dynamodb-api.ts';

/** The environment a function's DynamoDB client reads locally: the local region and credentials. */
export const localAwsEnv = { AWS_REGION: LOCAL_REGION, AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey };

/** The functions' DynamoDB client on `endpoint` (DynamoDB Local), as a function in the local runtime has it. */
export function localDynamoDbApi(endpoint: string, opts: Omit<ConstructorParameters<typeof DynamoDbApi>[0] & object, 'endpoint'> = {}): DynamoDbApi {
  return new DynamoDbApi({ endpoint, env: localAwsEnv, ...opts });
}
