import type { AttachmentDeps, ImageSize } from '#shared/ports/attachments.ts';
import type { AttachmentRecord, AttachmentRef, MessageRecord, User } from '#shared/model.ts';
import type { Deps } from '#shared/ports/runtime.ts';
import { AppError, conflict, forbidden, validationFailed } from '#shared/errors.ts';
import type { CreateAttachmentInput } from '#shared/schemas/attachments.ts';
import { requireMembership } from './access.ts';
import { limit } from './rate-limit.ts';
import { startsWith } from '#shared/media/bytes.ts';

/** Image types: a message of only these is an `image` message. */
const IMAGE_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
/**
 * Types a thumbnail is made of: every image type. Defined here rather than in images.ts, whose
 * decoders would otherwise land in every bundle.
 */
export const THUMBNAIL_SOURCE_TYPES = IMAGE_TYPES;

/**
 * Attachments never pass through a function: the client PUTs the file to a presigned URL (whose
 * signature binds type and length), then names its `attachmentId` in `message_send`. The send
 * copies the upload out of reach of that URL and checks the copy before the message refers to it.
 *
 * Keys are chosen by the server: `uploads/<roomId>/<attachmentId>` (the presigned PUT's target;
 * expires) and `files/<roomId>/<attachmentId>` (the attached copy; lives as long as its message).
 */
export const uploadKey = (roomId: string, attachmentId: string) => `uploads/${roomId}/${attachmentId}`;
export const fileKey = (roomId: string, attachmentId: string) => `files/${roomId}/${attachmentId}`;
/** The thumbnail of an attached image (made by `makeThumbnail`; always JPEG). */
export const thumbnailKey = (roomId: string, attachmentId: string) => `thumbs/${roomId}/${attachmentId}.jpg`;
export const UPLOADS_PREFIX = 'uploads/';
export const FILES_PREFIX = 'files/';
export const THUMBS_PREFIX = 'thumbs/';

/** How much of a file the content check reads. */
const SNIFF_BYTES = 512;

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** Text: valid UTF-8 (a character cut at the end of the sample is fine), no NUL or other binary control bytes. */
function looksLikeText(b: Uint8Array): boolean {
  for (const x of b) if (x < 0x09 || (x > 0x0d && x < 0x20 && x !== 0x1b) || x === 0x7f) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** What the first bytes of each allowed type must be. */
const SIGNATURES = new Map<string, (b: Uint8Array) => boolean>(Object.entries({
  'image/jpeg': (b) => startsWith(b, [0xff, 0xd8, 0xff]),
  'image/png': (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  'image/gif': (b) => startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a')),
  'image/webp': (b) => startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8),
  'application/pdf': (b) => startsWith(b, ascii('%PDF-')),
  // OLE2 compound file (Word 97-2003).
  'application/msword': (b) => startsWith(b, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
  // A ZIP container (Office Open XML).
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': (b) => startsWith(b, [0x50, 0x4b, 0x03, 0x04]),
  'text/plain': looksLikeText,
}));

/** True when the first bytes of a file are those of `contentType`. */
export function matchesSignature(contentType: string, firstBytes: Uint8Array): boolean {
  return SIGNATURES.get(contentType)?.(firstBytes) ?? false;
}

export const isKnownContentType = (t: string) => SIGNATURES.has(t);

function requireAttachments(deps: Deps): AttachmentDeps {
  if (!deps.attachments) throw new Error('Attachments are not configured in this process');
  return deps.attachments;
}

export interface UploadTicket {
  attachmentId: string;
  uploadUrl: string;
  /** Send exactly these headers with the PUT (the signature covers them). */
  uploadHeaders: Record<string, string>;
  expiresAt: string;
}

/** `POST /rooms/{roomId}/attachments`: a presigned PUT for a key the server chooses. Members only. */
export async function createUpload(deps: Deps, actor: User, roomId: string, input: CreateAttachmentInput): Promise<UploadTicket> {
  const att = requireAttachments(deps);
  // A slot is a write (an item that lives until it expires): it counts against the write limit.
  const [{ room }] = await Promise.all([requireMembership(deps, roomId, actor.userId), limit(deps, actor.userId, 'write')]);
  if (room.archivedAt) throw conflict('The room is archived');
  const { settings } = att;
  if (!settings.allowedTypes.includes(input.contentType)) {
    throw validationFailed(`Files of type ${input.contentType} are not accepted`, {
      issues: [{ path: 'contentType', message: `one of ${settings.allowedTypes.join(', ')}` }],
    });
  }
  if (input.size > settings.maxBytes) {
    throw new AppError('payload_too_large', `Files may be at most ${settings.maxBytes} bytes`, { maxBytes: settings.maxBytes });
  }
  const now = deps.clock.now();
  const attachmentId = deps.ids.newId();
  const key = uploadKey(roomId, attachmentId);
  const expiresAt = new Date(now.getTime() + settings.uploadUrlSeconds * 1000).toISOString();
  const keepUntil = new Date(now.getTime() + Math.max(settings.unattachedSeconds, settings.uploadUrlSeconds) * 1000).toISOString();
  const record: AttachmentRecord = {
    id: attachmentId,
    roomId,
    uploaderId: actor.userId,
    key,
    name: input.fileName,
    size: input.size,
    contentType: input.contentType,
    ...(input.width !== undefined && { width: input.width, height: input.height }),
    createdAt: now.toISOString(),
    status: 'pending',
  };
  // Presign first: a record without a URL would only wait for its expiry.
  const put = await att.blobs.presignPut(key, { contentType: input.contentType, size: input.size, fileName: input.fileName, expiresInSeconds: settings.uploadUrlSeconds });
  await att.store.putPending(record, keepUntil);
  return { attachmentId, uploadUrl: put.url, uploadHeaders: put.headers, expiresAt };
}

const issue = (i: number, message: string) => ({ issues: [{ path: `attachmentIds.${i}`, message }] });

/**
 * The step of `sendMessage` that turns `attachmentIds` into the message's files: each must be a
 * pending upload of the sender in this room. Checks run on a copy the upload URL cannot overwrite:
 * it exists, its size and type are the declared ones, and its first bytes are those of the type.
 * Claims are atomic (each upload is used once); a file that fails the content check is deleted.
 */
export async function attachUploads(deps: Deps, actor: User, roomId: string, ids: string[]): Promise<{ refs: AttachmentRef[]; type: 'image' | 'file' }> {
  const att = requireAttachments(deps);
  if (new Set(ids).size !== ids.length) throw validationFailed('An attachment is named twice', { issues: [{ path: 'attachmentIds', message: 'duplicate id' }] });
  const found = new Map((await att.store.getAttachments(roomId, ids)).map((a) => [a.id, a]));
  const records = ids.map((id, i) => {
    const a = found.get(id);
    // Another room's upload is not found here: its key is in that room's partition.
    if (!a) throw validationFailed('No such upload in this room', issue(i, 'no such upload in this room'));
    if (a.uploaderId !== actor.userId) throw forbidden('Only the uploader can attach a file');
    if (a.status !== 'pending') throw conflict('An attachment was already sent with another message');
    return a;
  });
  // Cheap checks on the upload itself before anything is claimed.
  const heads = await Promise.all(records.map((a) => att.blobs.head(a.key)));
  heads.forEach((h, i) => {
    const a = records[i]!;
    if (!h) throw validationFailed('The file was not uploaded yet', issue(i, 'not uploaded'));
    if (h.size !== a.size || h.contentType !== a.contentType) throw validationFailed('The uploaded file is not the one declared', issue(i, 'size or type differs'));
  });
  if (!(await att.store.claim(roomId, ids, actor.userId, deps.clock.now().toISOString()))) {
    throw conflict('An attachment was already sent with another message');
  }
  // From here the uploads are claimed; a refused file is removed with its record.
  // The declared size rides on the message: its first readers see it before any thumbnail exists.
  const refs: AttachmentRef[] = records.map((a) => ({
    id: a.id,
    key: fileKey(roomId, a.id),
    name: a.name,
    size: a.size,
    contentType: a.contentType,
    ...(a.width && a.height && { width: a.width, height: a.height }),
  }));
  const verdicts = await Promise.all(
    refs.map(async (r, i) => {
      if (!(await att.blobs.copy(records[i]!.key, r.key))) return 'not uploaded';
      const [h, start] = await Promise.all([att.blobs.head(r.key), att.blobs.readStart(r.key, SNIFF_BYTES)]);
      if (!h || h.size !== r.size || h.contentType !== r.contentType) return 'size or type differs';
      return matchesSignature(r.contentType, start) ? undefined : `content is not ${r.contentType}`;
    }),
  );
  const refused = verdicts.findIndex((v) => v !== undefined);
  if (refused >= 0) {
    // Every claimed upload of this send goes (the clean-up consumer deletes both objects).
    await att.store.remove(roomId, ids);
    throw validationFailed(`Attachment ${refused + 1} was refused: ${verdicts[refused]}`, issue(refused, verdicts[refused]!));
  }
  // The copies are what messages serve; the uploads are no longer needed.
  await att.blobs.delete(records.map((a) => a.key));
  return { refs, type: refs.every((r) => IMAGE_TYPES.has(r.contentType)) ? 'image' : 'file' };
}

/**
 * Download URLs by attachment id; `thumbnails`: thumbnail URLs by id, for those that have one;
 * `sizes`: the measured size of those images, recorded with their thumbnail.
 */
export class AttachmentUrls extends Map<string, string> {
  readonly thumbnails = new Map<string, string>();
  readonly sizes = new Map<string, ImageSize>();
}

/**
 * Download URL per attachment id of these messages (deleted ones have none). Presigning makes no
 * request; whether an image's thumbnail exists is one eventually consistent BatchGet of its
 * attachment records (made only when the messages have images a thumbnail is made of).
 */
export async function attachmentUrls(deps: Deps, messages: MessageRecord[]): Promise<AttachmentUrls> {
  const urls = new AttachmentUrls();
  const att = deps.attachments;
  if (!att) return urls;
  const refs = messages.flatMap((m) => (m.deletedAt ? [] : (m.attachments ?? []).map((r) => ({ ...r, roomId: m.roomId }))));
  const images = refs.filter((r) => THUMBNAIL_SOURCE_TYPES.has(r.contentType));
  const sign = (key: string) => att.blobs.presignGet(key, { expiresInSeconds: att.settings.downloadUrlSeconds });
  const [signed, thumbed] = await Promise.all([
    Promise.all(refs.map((r) => sign(r.key))),
    images.length > 0 ? att.store.withThumbnails(images) : new Map<string, Partial<ImageSize>>(),
  ]);
  refs.forEach((r, i) => urls.set(r.id, signed[i]!));
  for (const [id, { width, height }] of thumbed) if (width && height) urls.sizes.set(id, { width, height });
  const withThumb = images.filter((r) => thumbed.has(r.id));
  const thumbs = await Promise.all(withThumb.map((r) => sign(thumbnailKey(r.roomId, r.id))));
  withThumb.forEach((r, i) => urls.thumbnails.set(r.id, thumbs[i]!));
  return urls;
}

/** With a message: its attachment records go, and the clean-up consumer deletes their objects. */
export async function removeAttachments(deps: Deps, m: MessageRecord): Promise<void> {
  const ids = (m.attachments ?? []).map((a) => a.id);
  if (ids.length > 0) await requireAttachments(deps).store.remove(m.roomId, ids);
}

/**
 * An attachment record is gone (an unclaimed upload expired, or its message was deleted): all of
 * its possible objects go, the thumbnail too. Deleting a missing object succeeds, so retries are harmless.
 */
export async function deleteAttachmentObjects(deps: Deps, a: Pick<AttachmentRecord, 'roomId' | 'id'>): Promise<void> {
  await requireAttachments(deps).blobs.delete([uploadKey(a.roomId, a.id), fileKey(a.roomId, a.id), thumbnailKey(a.roomId, a.id)]);
}
