import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AttachmentDeps, AttachmentSettings } from '#shared/ports.ts';
import { capacitySink } from '#shared/adapters/dynamodb/capacity.ts';
import { DynamoAttachmentStore } from '#shared/adapters/dynamodb/attachment-store.ts';
import { S3BlobStore } from '#shared/adapters/s3/blob-store.ts';
import { isKnownContentType } from '#shared/domain/attachments.ts';
import { ENV, intSetting, requireEnv } from '#shared/env.ts';
import { ATTACHMENT_LIMITS, KNOWN_CONTENT_TYPES } from '#shared/schemas/attachments.ts';

/** Attachment settings from the environment; an unknown content type is a deployment error. */
export function attachmentSettings(env: NodeJS.ProcessEnv = process.env): AttachmentSettings {
  const raw = env[ENV.attachmentTypes];
  const allowedTypes = raw ? raw.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean) : [...KNOWN_CONTENT_TYPES];
  const unknown = allowedTypes.filter((t) => !isKnownContentType(t));
  if (unknown.length > 0) throw new Error(`${ENV.attachmentTypes}: the server cannot verify ${unknown.join(', ')}; known: ${KNOWN_CONTENT_TYPES.join(', ')}`);
  return {
    maxBytes: intSetting(ENV.attachmentMaxBytes, ATTACHMENT_LIMITS.maxBytes),
    allowedTypes,
    uploadUrlSeconds: Math.max(1, intSetting(ENV.attachmentUploadUrlSeconds, ATTACHMENT_LIMITS.uploadUrlSeconds)),
    downloadUrlSeconds: Math.max(1, intSetting(ENV.attachmentDownloadUrlSeconds, ATTACHMENT_LIMITS.downloadUrlSeconds)),
    unattachedSeconds: intSetting(ENV.attachmentUnattachedSeconds, ATTACHMENT_LIMITS.unattachedSeconds),
  };
}

/**
 * The attachment ports: S3 for the files, the table for upload slots. Undefined when the process
 * has no bucket configured. Path-style addressing when an endpoint override (the local S3 store)
 * is set; the checksum the SDK would add to a presigned PUT is turned off (it would sign an empty body's).
 */
export function createAttachmentDeps(dynamo: DynamoDBClient): AttachmentDeps | undefined {
  const bucket = process.env[ENV.bucketName];
  if (!bucket) return undefined;
  const local = Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL);
  return {
    store: new DynamoAttachmentStore(dynamo, requireEnv(ENV.tableName), capacitySink),
    blobs: new S3BlobStore({ forcePathStyle: local, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }, bucket),
    settings: attachmentSettings(),
  };
}

/** `{attachments}` for the composition root, or nothing where no bucket is configured. */
export function attachmentPorts(dynamo: DynamoDBClient): { attachments?: AttachmentDeps } {
  const attachments = createAttachmentDeps(dynamo);
  return attachments ? { attachments } : {};
}
