import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  type Attribute,
} from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { tableSchema, TABLE } from '#shared/adapters/dynamodb/table.ts';

const ATTRIBUTE_TYPES = { S: AttributeType.STRING, N: AttributeType.NUMBER, B: AttributeType.BINARY } as const;

type KeySchema = readonly { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];

function attribute(name: string): Attribute {
  const definition = tableSchema.attributeDefinitions.find((d) => d.AttributeName === name);
  if (!definition) throw new Error(`No attribute definition for key ${name} in tableSchema`);
  return { name, type: ATTRIBUTE_TYPES[definition.AttributeType] };
}

function keys(schema: KeySchema): { partitionKey: Attribute; sortKey?: Attribute } {
  const named = (type: 'HASH' | 'RANGE') => schema.find((k) => k.KeyType === type)?.AttributeName;
  const partitionKey = named('HASH');
  const sortKey = named('RANGE');
  if (partitionKey === undefined) throw new Error('tableSchema key without a HASH attribute');
  return { partitionKey: attribute(partitionKey), sortKey: sortKey === undefined ? undefined : attribute(sortKey) };
}

/** The one table, built from the same schema the local runtime creates its table with. */
export function createTable(scope: Construct): Table {
  const table = new Table(scope, 'Table', {
    ...keys(tableSchema.keySchema),
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    stream: StreamViewType[tableSchema.streamViewType],
    timeToLiveAttribute: TABLE.ttlAttribute,
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const index of tableSchema.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.IndexName,
      ...keys(index.KeySchema),
      projectionType: ProjectionType[index.Projection.ProjectionType],
      nonKeyAttributes: [...index.Projection.NonKeyAttributes],
    });
  }
  return table;
}

/** Private attachment store: objects are only reached through presigned URLs issued by the API. */
export function createAttachmentsBucket(scope: Construct, corsOrigins: string[]): Bucket {
  const accessLogs = new Bucket(scope, 'AttachmentsAccessLogs', {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    // Server access logging can only deliver to SSE-S3 buckets.
    encryption: BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [{ expiration: Duration.days(365) }],
  });

  return new Bucket(scope, 'Attachments', {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    encryption: BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.RETAIN,
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: 'attachments/',
    cors: [
      {
        allowedMethods: [HttpMethods.PUT, HttpMethods.GET],
        allowedOrigins: corsOrigins,
        // What a browser may send is bounded by the presigned URL's signed headers, not by CORS.
        allowedHeaders: ['*'],
        exposedHeaders: ['ETag'],
        maxAge: 3600,
      },
    ],
    lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
  });
}
