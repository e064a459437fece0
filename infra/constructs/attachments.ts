import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { EventType as S3EventType, type Bucket } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { attachmentCleanupFilterPatterns } from '#shared/adapters/dynamodb/stream-filters.ts';
import { FILES_PREFIX, UPLOADS_PREFIX } from '#shared/domain/attachments.ts';
import { attachmentStreamFn, thumbnailFn } from '#infra/routes.ts';
import { findingId } from './nag.ts';
import { alarmOnAny } from './alarms.ts';
import { consumeTableStream } from './stream-consumer.ts';

/** Unclaimed uploads are deleted by the TTL of their record after a day; this rule catches what that missed. */
export const UPLOAD_EXPIRY_DAYS = 2;

/**
 * Attachments in AWS: the lifecycle rule on `uploads/`, the clean-up consumer of the table's stream (removed attachment record → its
 * objects are deleted) with its DLQ and alarm, and the thumbnail function fed by S3 notifications.
 */
export class AttachmentPipeline extends Construct {
  readonly failures: Queue;

  constructor(scope: Construct, id: string, props: { bucket: Bucket; table: ITable; functions: ReadonlyMap<string, NodejsFunction> }) {
    super(scope, id);
    const { bucket, table, functions } = props;
    const fn = (name: string) => {
      const f = functions.get(name);
      if (!f) throw new Error(`No function ${name}`);
      return f;
    };
    // Thumbnails: a function of its own, so a decoder failing on a hostile image harms nothing
    // else. Its grants, like every function's, are in the permission table.
    const thumbnailer = fn(thumbnailFn);
    bucket.addEventNotification(S3EventType.OBJECT_CREATED, new LambdaDestination(thumbnailer), { prefix: FILES_PREFIX });
    // A hostile or broken image is an outcome, not an error: errors are storage failing or the
    // decoder not loading, which S3's two retries will not cure.
    alarmOnAny(
      this,
      'ThumbnailErrorsAlarm',
      thumbnailer.metricErrors({ period: Duration.minutes(5) }),
      'The thumbnail function failed: images are going without thumbnails (storage errors or a decoder that cannot load).',
    );
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

    this.failures = consumeTableStream(this, {
      table,
      handler: fn(attachmentStreamFn),
      name: 'the clean-up',
      filterPatterns: attachmentCleanupFilterPatterns,
      mapping: { batchSize: 100, bisectBatchOnError: true, retryAttempts: 10 },
      givenUp: 'Attachment clean-up gave up on records: some deleted or expired files were not removed from S3.',
    });
  }
}
