import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { EventType as S3EventType, type Bucket } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { attachmentCleanupFilterPatterns } from '#shared/adapters/dynamodb/stream-filters.ts';
import { FILES_PREFIX, THUMBS_PREFIX, UPLOADS_PREFIX } from '#shared/domain/attachments.ts';
import { attachmentStreamFn, streamFn, thumbnailFn } from '#infra/routes.ts';
import { findingId } from './nag.ts';

/** The route that presigns uploads: the only function whose role may put into `uploads/`. */
export const PRESIGN_FN = 'http-create-attachment';
/** Sends verify and copy uploads into `files/` (CopyObject: read the source, put the copy). */
export const ATTACHING_FNS = ['http-send-message', 'ws-message-send'] as const;
/**
 * Functions that return or deliver message views, whose download URLs they presign: a presigned
 * GET works only if the signer may read the object (`files/`, and `thumbs/` for thumbnails). A new
 * function that returns messages must be added here, or its URLs answer 403.
 */
export const MESSAGE_VIEW_FNS = [
  ...ATTACHING_FNS,
  'http-list-rooms',
  'http-list-messages',
  'http-search',
  'http-get-message',
  'http-edit-message',
  'http-add-reaction',
  'http-remove-reaction',
  'http-list-changes',
  'ws-message-edit',
  'ws-reaction-add',
  'ws-reaction-remove',
  streamFn,
] as const;

/** Unclaimed uploads are deleted by the TTL of their record after a day; this rule catches what that missed. */
export const UPLOAD_EXPIRY_DAYS = 2;

/**
 * Attachments in AWS: least-privilege S3 grants per function (by key prefix), the lifecycle rule on
 * `uploads/`, the clean-up consumer of the table's stream (removed attachment record → its
 * objects are deleted) with its DLQ and alarm, and the thumbnail function fed by S3 notifications.
 */
export class AttachmentPipeline extends Construct {
  readonly failures: Queue;

  constructor(scope: Construct, id: string, props: { bucket: Bucket; table: ITable; functions: ReadonlyMap<string, NodejsFunction> }) {
    super(scope, id);
    const { bucket, table, functions } = props;
    const uploads = bucket.arnForObjects(`${UPLOADS_PREFIX}*`);
    const files = bucket.arnForObjects(`${FILES_PREFIX}*`);
    const thumbs = bucket.arnForObjects(`${THUMBS_PREFIX}*`);
    const fn = (name: string) => {
      const f = functions.get(name);
      if (!f) throw new Error(`No function ${name}`);
      return f;
    };
    const grant = (name: string, actions: string[], resources: string[]) => {
      const handler = fn(name);
      handler.addToRolePolicy(new PolicyStatement({ actions, resources }));
      for (const resource of resources) {
        Validations.of(handler).acknowledge({
          id: findingId(handler, 'AwsSolutions-IAM5', 'Resource', resource),
          reason: 'Object keys are attachment ids made at runtime; the grant is limited to one key prefix of the attachments bucket.',
        });
      }
    };

    grant(PRESIGN_FN, ['s3:PutObject'], [uploads]);
    for (const name of ATTACHING_FNS) {
      grant(name, ['s3:GetObject'], [uploads, files]);
      grant(name, ['s3:PutObject'], [files]);
      grant(name, ['s3:DeleteObject'], [uploads]);
    }
    for (const name of MESSAGE_VIEW_FNS.filter((n) => !(ATTACHING_FNS as readonly string[]).includes(n))) {
      if (functions.has(name)) grant(name, ['s3:GetObject'], [files]);
    }
    // Views presign thumbnail URLs too (whether one exists is on the attachment record they read).
    for (const name of MESSAGE_VIEW_FNS) if (functions.has(name)) grant(name, ['s3:GetObject'], [thumbs]);
    grant(attachmentStreamFn, ['s3:DeleteObject'], [uploads, files, thumbs]);

    // Thumbnails: a function of its own, so a decoder failing on a hostile image harms nothing
    // else. It reads attached files, writes (and, when the file's record went meanwhile, deletes)
    // thumbnails, and reads/marks attachment records; nothing more.
    const thumbnailer = fn(thumbnailFn);
    grant(thumbnailFn, ['s3:GetObject'], [files]);
    grant(thumbnailFn, ['s3:PutObject', 's3:DeleteObject'], [thumbs]);
    // The attachment items themselves: not the indexes (table.grant would add them).
    thumbnailer.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'], resources: [table.tableArn] }));
    bucket.addEventNotification(S3EventType.OBJECT_CREATED, new LambdaDestination(thumbnailer), { prefix: FILES_PREFIX });
    // A hostile or broken image is an outcome, not an error: errors are storage failing or the
    // decoder not loading, which S3's two retries will not cure.
    thumbnailer.metricErrors({ period: Duration.minutes(5) }).createAlarm(this, 'ThumbnailErrorsAlarm', {
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: 'The thumbnail function failed: images are going without thumbnails (storage errors or a decoder that cannot load).',
    });
    // CDK configures the notification through a stack-wide custom resource with a function of its own.
    const stack = Stack.of(this);
    const notifier = stack.node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
    if (notifier) {
      Validations.of(notifier).acknowledge({
        id: findingId(notifier, 'AwsSolutions-IAM4', 'Policy', ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole').managedPolicyArn),
        reason: 'The CDK-provided handler that sets the bucket notification only writes its own CloudWatch logs with this managed policy.',
      });
    }

    bucket.addLifecycleRule({ id: 'ExpireUnclaimedUploads', prefix: UPLOADS_PREFIX, expiration: Duration.days(UPLOAD_EXPIRY_DAYS) });

    this.failures = new Queue(this, 'Failures', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    Validations.of(this.failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter destination of the clean-up event source mapping; nothing consumes it automatically.',
    });
    const cleanup = fn(attachmentStreamFn);
    cleanup.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: StartingPosition.LATEST,
        batchSize: 100,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 10,
        onFailure: new SqsDlq(this.failures),
        filters: attachmentCleanupFilterPatterns.map((pattern) => FilterCriteria.filter(pattern)),
      }),
    );
    Validations.of(cleanup).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dynamodb:ListStreams, granted by the event source mapping, has no resource-level permissions.',
    });
    this.failures
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) })
      .createAlarm(this, 'FailuresAlarm', {
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: 'Attachment clean-up gave up on records: some deleted or expired files were not removed from S3.',
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
  }
}
