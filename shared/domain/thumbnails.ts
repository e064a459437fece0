import type { Deps } from '#shared/ports/runtime.ts';
import { FILES_PREFIX, THUMBNAIL_SOURCE_TYPES, thumbnailKey } from './attachments.ts';
import { THUMBNAIL_MAX_PIXELS, decodeImage, imageSize, thumbnailOf } from '#shared/media/images.ts';
import { DecoderUnavailableError } from '#shared/media/webp.ts';
import { orientationOf, orientedSize } from '#shared/media/exif.ts';
import type { ImageSize } from '#shared/ports/attachments.ts';

/** Larger sources are not read at all (the upload limit's default). */
export const THUMBNAIL_MAX_SOURCE_BYTES = 10 * 1024 * 1024;

export type ThumbnailOutcome =
  | 'made'
  /** Not an attached file, or one a thumbnail is not made of (PDF, DOCX, …). */
  | 'ignored'
  /** Too large in bytes or pixels, or a header that cannot be read: not decoded. */
  | 'refused'
  /** The decoder threw: a broken or hostile image. */
  | 'undecodable';

/**
 * An object landed under `files/` (S3 `ObjectCreated`): make its thumbnail if it is an attached
 * image, and record the image's displayed size (after EXIF orientation) with it. Sizes are checked
 * before decoding and a decoder's throw is an outcome, not an error, so a hostile image is not
 * retried. The record is marked only after the thumbnail is stored; if the
 * record went meanwhile (the send was refused, the message deleted), the thumbnail goes too.
 */
export async function makeThumbnail(deps: Pick<Deps, 'attachments'>, object: { key: string; size?: number }): Promise<ThumbnailOutcome> {
  const att = deps.attachments;
  if (!att) throw new Error('Attachments are not configured in this process');
  const [prefix, roomId, id, ...rest] = object.key.split('/');
  if (`${prefix}/` !== FILES_PREFIX || !roomId || !id || rest.length > 0) return 'ignored';
  const [record] = await att.store.getAttachments(roomId, [id]);
  if (!record || record.status !== 'attached' || !THUMBNAIL_SOURCE_TYPES.has(record.contentType)) return 'ignored';
  const maxBytes = Math.min(THUMBNAIL_MAX_SOURCE_BYTES, att.settings.maxBytes);
  if ((object.size ?? 0) > maxBytes) return 'refused';
  const bytes = await att.blobs.read(object.key, maxBytes);
  if (!bytes) return 'refused';
  const size = imageSize(record.contentType, bytes);
  if (!size || size.width < 1 || size.height < 1 || size.width * size.height > THUMBNAIL_MAX_PIXELS) return 'refused';
  let thumbnail: Uint8Array;
  let displayed: ImageSize;
  try {
    const image = decodeImage(record.contentType, bytes);
    // The decoder's own idea of the size must agree with the checked header.
    if (image.width * image.height > THUMBNAIL_MAX_PIXELS || image.data.length < image.width * image.height * 4) return 'undecodable';
    const orientation = orientationOf(record.contentType, bytes);
    thumbnail = thumbnailOf(image, orientation);
    displayed = orientedSize(image.width, image.height, orientation);
  } catch (err) {
    // A decoder that cannot load is this deployment's fault, not the image's: fail loudly, retry.
    if (err instanceof DecoderUnavailableError) throw err;
    return 'undecodable';
  }
  const key = thumbnailKey(roomId, id);
  await att.blobs.put(key, thumbnail, 'image/jpeg');
  // The measured size replaces the declared one, which was only the sender's word.
  if (await att.store.markThumbnail(roomId, id, displayed)) return 'made';
  await att.blobs.delete([key]);
  return 'ignored';
}
