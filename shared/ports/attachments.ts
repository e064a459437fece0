import type { AttachmentRecord } from '#shared/model.ts';
import type { BlobStore } from './blobs.ts';

/** An image's displayed size in pixels (after EXIF orientation). */
export interface ImageSize {
  width: number;
  height: number;
}

/** Upload slots: pending until a message claims them, then kept with the message. */
export interface AttachmentStore {
  /** Stores a pending upload that expires (TTL) at `expiresAt`. */
  putPending(a: AttachmentRecord, expiresAt: string): Promise<void>;
  getAttachments(roomId: string, ids: string[]): Promise<AttachmentRecord[]>;
  /**
   * Atomically marks the uploads attached (and no longer expiring), only if each is still pending
   * and the uploader's; false when any is not (used already, or not theirs).
   */
  claim(roomId: string, ids: string[], uploaderId: string, at: string): Promise<boolean>;
  /** Deletes the records; the attachment stream consumer then deletes their objects. */
  remove(roomId: string, ids: string[]): Promise<void>;
  /**
   * Records that the attached image's thumbnail exists, and the image's measured displayed size
   * (replacing a declared one) in the same write; false when the record is gone or not attached.
   */
  markThumbnail(roomId: string, id: string, size: ImageSize): Promise<boolean>;
  /**
   * The attachments among these whose thumbnail was recorded (eventually consistent), each with the
   * measured size recorded with it (an empty object for a thumbnail recorded before sizes were).
   */
  withThumbnails(refs: { roomId: string; id: string }[]): Promise<Map<string, Partial<ImageSize>>>;
}

export interface AttachmentSettings {
  maxBytes: number;
  /** Allowed content types (each must be one the server knows the signature of). */
  allowedTypes: string[];
  uploadUrlSeconds: number;
  downloadUrlSeconds: number;
  /** How long an upload that no message claims is kept. */
  unattachedSeconds: number;
}

export interface AttachmentDeps {
  store: AttachmentStore;
  blobs: BlobStore;
  settings: AttachmentSettings;
}
