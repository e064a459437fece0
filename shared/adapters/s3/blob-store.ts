import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { BlobStore } from '#shared/ports/blobs.ts';

/** The S3 SDK, loaded on first use (see `S3BlobStore`). */
interface S3Sdk {
  s3: S3Client;
  commands: typeof import('@aws-sdk/client-s3');
  getSignedUrl: typeof import('@aws-sdk/s3-request-presigner').getSignedUrl;
}

/** `attachment; filename="ascii fallback"; filename*=UTF-8''<exact name>` (RFC 6266). */
export function contentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * A missing object. Functions may read objects but not list the bucket (least privilege), and
 * without s3:ListBucket S3 answers a missing key with 403 rather than 404.
 */
function isMissing(e: { name?: string; $metadata?: { httpStatusCode?: number } }): boolean {
  const status = e.$metadata?.httpStatusCode;
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.name === 'AccessDenied' || e.name === 'Forbidden' || status === 404 || status === 403;
}

/** `op`'s result, or `undefined` where the object is missing. */
async function unlessMissing<T>(op: () => Promise<T>): Promise<T | undefined> {
  try {
    return await op();
  } catch (err) {
    if (isMissing(err as { name?: string; $metadata?: { httpStatusCode?: number } })) return undefined;
    throw err;
  }
}

/**
 * The attachments bucket. Presigning is a local computation (no request): the signature of a PUT
 * covers `content-type` and `content-length`, so the client can only upload what it declared.
 * The client must be built with `requestChecksumCalculation: 'WHEN_REQUIRED'`, or the presigned PUT
 * would also sign a checksum of an empty body.
 *
 * The S3 SDK is imported on the first call, not with the module: most invocations never touch a
 * file (no attachment in the message), and loading it would add to every function's cold start
 * (docs/performance.md §3).
 */
export class S3BlobStore implements BlobStore {
  private sdk: Promise<S3Sdk> | undefined;

  constructor(
    private readonly config: S3ClientConfig,
    private readonly bucket: string,
  ) {}

  private load(): Promise<S3Sdk> {
    this.sdk ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]).then(
      ([commands, presigner]) => ({ s3: new commands.S3Client(this.config), commands, getSignedUrl: presigner.getSignedUrl }),
      (err: unknown) => {
        this.sdk = undefined;
        throw err;
      },
    );
    return this.sdk;
  }

  /**
   * The file name travels as the object's stored Content-Disposition, signed into the PUT, rather
   * than as a `response-content-disposition` override on each GET: the same result in AWS, and the
   * local store (s3rver) mis-verifies query values containing `'` or `*`, which RFC 6266 needs.
   */
  async presignPut(key: string, o: { contentType: string; size: number; fileName: string; expiresInSeconds: number }) {
    const { s3, commands, getSignedUrl } = await this.load();
    const disposition = contentDisposition(o.fileName);
    const url = await getSignedUrl(
      s3,
      new commands.PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: o.contentType, ContentLength: o.size, ContentDisposition: disposition }),
      { expiresIn: o.expiresInSeconds, signableHeaders: new Set(['content-type', 'content-length', 'content-disposition']) },
    );
    return { url, headers: { 'content-type': o.contentType, 'content-length': String(o.size), 'content-disposition': disposition } };
  }

  async presignGet(key: string, o: { expiresInSeconds: number }): Promise<string> {
    const { s3, commands, getSignedUrl } = await this.load();
    return getSignedUrl(s3, new commands.GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: o.expiresInSeconds });
  }

  async head(key: string) {
    const { s3, commands } = await this.load();
    return unlessMissing(async () => {
      const out = await s3.send(new commands.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: out.ContentLength ?? 0, ...(out.ContentType && { contentType: out.ContentType }) };
    });
  }

  async copy(fromKey: string, toKey: string): Promise<boolean> {
    const { s3, commands } = await this.load();
    const copied = await unlessMissing(() => s3.send(new commands.CopyObjectCommand({ Bucket: this.bucket, Key: toKey, CopySource: `${this.bucket}/${fromKey}` })));
    return copied !== undefined;
  }

  async readStart(key: string, bytes: number): Promise<Uint8Array> {
    const { s3, commands } = await this.load();
    const out = await s3.send(new commands.GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${bytes - 1}` }));
    const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    return body.subarray(0, bytes);
  }

  async read(key: string, maxBytes: number): Promise<Uint8Array | undefined> {
    const { s3, commands } = await this.load();
    return unlessMissing(async () => {
      const out = await s3.send(new commands.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if ((out.ContentLength ?? 0) > maxBytes) {
        out.Body?.transformToWebStream().cancel().catch(() => undefined);
        return undefined;
      }
      const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
      return body.length > maxBytes ? undefined : body;
    });
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    const { s3, commands } = await this.load();
    await s3.send(new commands.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  /**
   * One DeleteObject per key rather than DeleteObjects: a message has at most 10 files, and
   * DeleteObjects is a bucket-level request that s3rver mis-verifies locally.
   */
  async delete(keys: string[]): Promise<void> {
    const { s3, commands } = await this.load();
    await Promise.all(keys.map((Key) => s3.send(new commands.DeleteObjectCommand({ Bucket: this.bucket, Key }))));
  }
}
