import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobStore } from '../../ports.ts';

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

/**
 * The attachments bucket. Presigning is a local computation (no request): the signature of a PUT
 * covers `content-type` and `content-length`, so the client can only upload what it declared.
 * The client must be built with `requestChecksumCalculation: 'WHEN_REQUIRED'`, or the presigned PUT
 * would also sign a checksum of an empty body.
 */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /**
   * The file name travels as the object's stored Content-Disposition, signed into the PUT, rather
   * than as a `response-content-disposition` override on each GET: the same result in AWS, and the
   * local store (s3rver) mis-verifies query values containing `'` or `*`, which RFC 6266 needs.
   */
  async presignPut(key: string, o: { contentType: string; size: number; fileName: string; expiresInSeconds: number }) {
    const disposition = contentDisposition(o.fileName);
    const url = await getSignedUrl(
      this.s3,
      new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: o.contentType, ContentLength: o.size, ContentDisposition: disposition }),
      { expiresIn: o.expiresInSeconds, signableHeaders: new Set(['content-type', 'content-length', 'content-disposition']) },
    );
    return { url, headers: { 'content-type': o.contentType, 'content-length': String(o.size), 'content-disposition': disposition } };
  }

  presignGet(key: string, o: { expiresInSeconds: number }): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: o.expiresInSeconds });
  }

  async head(key: string) {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: out.ContentLength ?? 0, ...(out.ContentType && { contentType: out.ContentType }) };
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (isMissing(e)) return undefined;
      throw err;
    }
  }

  async copy(fromKey: string, toKey: string): Promise<boolean> {
    try {
      await this.s3.send(new CopyObjectCommand({ Bucket: this.bucket, Key: toKey, CopySource: `${this.bucket}/${fromKey}` }));
      return true;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (isMissing(e)) return false;
      throw err;
    }
  }

  async readStart(key: string, bytes: number): Promise<Uint8Array> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${bytes - 1}` }));
    const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    return body.subarray(0, bytes);
  }

  async read(key: string, maxBytes: number): Promise<Uint8Array | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if ((out.ContentLength ?? 0) > maxBytes) {
        out.Body?.transformToWebStream().cancel().catch(() => undefined);
        return undefined;
      }
      const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
      return body.length > maxBytes ? undefined : body;
    } catch (err) {
      if (isMissing(err as { name?: string; $metadata?: { httpStatusCode?: number } })) return undefined;
      throw err;
    }
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  /**
   * One DeleteObject per key rather than DeleteObjects: a message has at most 10 files, and
   * DeleteObjects is a bucket-level request that s3rver mis-verifies locally.
   */
  async delete(keys: string[]): Promise<void> {
    await Promise.all(keys.map((Key) => this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }))));
  }
}
