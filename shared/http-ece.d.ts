// http_ece ships no types: the part of its API the Web Push adapter uses (RFC 8188 / 8291).
declare module 'http_ece' {
  import type { ECDH } from 'node:crypto';
  export function encrypt(
    buffer: Buffer,
    params: { version: 'aes128gcm'; dh: string; privateKey: ECDH; salt: string; authSecret: string; rs?: number },
  ): Buffer;
}
