/** The object store, reached by the domain only through presigned URLs and a few checks. */
export interface BlobStore {
  /**
   * A presigned PUT whose signature covers content-type, content-length and a content-disposition
   * naming `fileName` (stored with the object: downloads keep the original name).
   */
  presignPut(key: string, o: { contentType: string; size: number; fileName: string; expiresInSeconds: number }): Promise<{ url: string; headers: Record<string, string> }>;
  /** A presigned GET. */
  presignGet(key: string, o: { expiresInSeconds: number }): Promise<string>;
  /** Size and content type of a stored object, or undefined if there is none. */
  head(key: string): Promise<{ size: number; contentType?: string } | undefined>;
  /** Server-side copy; false when the source does not exist. */
  copy(fromKey: string, toKey: string): Promise<boolean>;
  /** The first `bytes` bytes of an object. */
  readStart(key: string, bytes: number): Promise<Uint8Array>;
  /** A whole object, or undefined when there is none or it is larger than `maxBytes`. */
  read(key: string, maxBytes: number): Promise<Uint8Array | undefined>;
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  delete(keys: string[]): Promise<void>;
}
