import type { S3Event } from 'aws-lambda';
import { logger } from '#shared/logger.ts';
import { makeThumbnail } from '#shared/domain/thumbnails.ts';
import { getAttachmentDeps } from './lib/deps.ts';


/**
 * S3 `ObjectCreated` on `files/` → the image's thumbnail under `thumbs/`. A function of its own so
 * that a decoder choking on a hostile image takes nothing else with it; such an image is logged,
 * not retried. Storage errors throw (S3 retries the asynchronous invocation twice).
 */
export const handler = async (event: S3Event): Promise<void> => {
  for (const record of event.Records) {
    // S3 URL-encodes keys in notifications (a space as "+").
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    const outcome = await makeThumbnail(getAttachmentDeps(), { key, size: record.s3.object.size });
    if (outcome === 'refused' || outcome === 'undecodable') logger.warn('No thumbnail', { key, outcome });
  }
};
