import type { AttachmentRecord } from '#shared/model.ts';
import type { BlobStore } from './blobs.ts';

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
  /** Records that the attached file's thumbnail exists; false when the record is gone or not attached. */
  markThumbnail(roomId: string, id: string): Promise<boolean>;
  /** The ids among these attachments whose thumbnail was recorded (eventually consistent). */
  withThumbnails(refs: { roomId: string; id: string }[]): Promise<Set<string>>;
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
