import { createRequire } from 'node:module';
import type * as Zlib from 'node:zlib';

/**
 * How a message's text is stored: short text as the string attribute `content`, as it always
 * was; long text as the binary attribute `contentZ` (Brotli of its UTF-8), with no `content`.
 * An item holds exactly one of the two, so every item, written before or after, reads one way.
 *
 * DynamoDB bills a write per 1 KB of item begun and a read per 4 KB. A message item's other
 * attributes (keys, ids, sender, time, mentions, a clientMessageId) measure 235 bytes for a send
 * over WebSocket in test/integration/message-storage.test.ts (user ids of 12 characters there; a
 * Cognito `sub` adds 24), so text of 1,024 bytes made a 2-unit item, and text up to about 760 bytes
 * a 1-unit one. Below `COMPRESS_FROM_BYTES` (512) compression could lower a write unit only for an
 * item carrying some 250 bytes more (a reply's excerpt, metadata, files), and saves a message read
 * tens of bytes: not worth its CPU, nor an item no one can read in the console. From there on, text
 * is compressed when that saves at least an eighth of it: 1,024 bytes of ordinary prose come to
 * about 510 (an item of 740-770 bytes as the ids run, the room's member version and type (`mv`,
 * `rt`: 11 bytes) included, 1 unit; prose stays a 1-unit item up to about 1.6 KB), random base64
 * to about 790 (77%: stored compressed, in an item of about 1,020-1,045 bytes, 1 or 2 units as
 * the ids and a clientMessageId fall).
 *
 * Brotli at quality 5 in text mode, measured on Node 20 (2 cores, under load ~1.5) on 1-4 KB of
 * English: 1,024 bytes of prose come to 507 bytes in ~23 µs, where deflate-raw (any level) makes
 * 550 in ~11 µs and Brotli's 9 and up take 1 ms or more; quality 4 gives 556. Decompression takes
 * ~6 µs either way. The smaller items (a tenth more text fits in a 1-unit item, and a history page
 * reads that much less) are worth ~12 µs on a send that takes milliseconds.
 * Setting the window size or a size hint changed neither size nor time at these lengths.
 *
 * Text that is not well-formed Unicode (a lone surrogate, which the API keeps as sent) stays a
 * string: UTF-8 cannot carry it.
 */
export const COMPRESS_FROM_BYTES = 512;

/** A compressed form is kept only when at least this share of the text's bytes is saved. */
const MIN_SAVING = 1 / 8;

/** No text of a message is longer (its item could not hold it): a corrupt stream stops here. */
const MAX_TEXT_BYTES = 400 * 1024;

const LONE_SURROGATE = /\p{Cs}/u;

// Loaded on first use: a function that never writes or reads a long text skips its load (half a
// millisecond of a cold start), and most functions load this module with the stores.
let loaded: typeof Zlib | undefined;
const zlib = (): typeof Zlib => (loaded ??= createRequire(import.meta.url)('node:zlib') as typeof Zlib);

/** The attribute that holds a message's text in its item: exactly one of the two. */
export type StoredContent = { content: string; contentZ?: never } | { contentZ: Uint8Array; content?: never };

/** The attribute a message's `content` is stored as: compressed where that pays, else the text itself. */
export function storedContent(content: string): StoredContent {
  if (content.length * 3 < COMPRESS_FROM_BYTES) return { content };
  const raw = Buffer.from(content, 'utf8');
  if (raw.byteLength < COMPRESS_FROM_BYTES || LONE_SURROGATE.test(content)) return { content };
  const z = zlib();
  const packed = z.brotliCompressSync(raw, {
    params: {
      [z.constants.BROTLI_PARAM_QUALITY]: 5,
      [z.constants.BROTLI_PARAM_MODE]: z.constants.BROTLI_MODE_TEXT,
    },
  });
  if (packed.byteLength > raw.byteLength * (1 - MIN_SAVING)) return { content };
  return { contentZ: new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength) };
}

/**
 * The text of `contentZ` as read: bytes from the table client, or a base64 string where the item
 * comes from a stream record (Lambda hands binary attributes as base64 in its JSON event).
 */
export function contentFromStored(contentZ: Uint8Array | string): string {
  const packed = typeof contentZ === 'string' ? Buffer.from(contentZ, 'base64') : contentZ;
  return zlib().brotliDecompressSync(packed, { maxOutputLength: MAX_TEXT_BYTES }).toString('utf8');
}
