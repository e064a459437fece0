import jpeg from 'jpeg-js';
// pngjs's synchronous parser alone: its entry point also carries the encoder and the streaming API (15 KB of 30).
import readPng from 'pngjs/lib/parser-sync.js';
import { GifReader } from 'omggif';
import { decodeWebp, webpInfo } from './webp.ts';
import { orient, type Orientation } from './exif.ts';
import type { Rgba } from './bytes.ts';

/**
 * Thumbnails without native code: decode PNG, JPEG, GIF (first frame) in JS or WebP (first frame)
 * in WebAssembly, shrink by area averaging, encode JPEG. Every input is treated as hostile: the
 * header's dimensions are read and limited before anything is decoded, and decoders' throws are
 * the caller's to catch.
 */
export const THUMBNAIL_MAX_SIDE = 320;
/** Above this a source is not decoded (RGBA at 40 MP is 160 MB). */
export const THUMBNAIL_MAX_PIXELS = 40_000_000;
export const THUMBNAIL_QUALITY = 80;

export type { Rgba };

const be16 = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const be32 = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!;

/** Width and height as the file's header states them, or undefined when the header is not readable. */
export function imageSize(contentType: string, b: Uint8Array): { width: number; height: number } | undefined {
  if (contentType === 'image/png') {
    // Signature (8), then the IHDR chunk: length (4), "IHDR" (4), width (4), height (4).
    if (b.length < 24 || String.fromCharCode(...b.subarray(12, 16)) !== 'IHDR') return undefined;
    return { width: be32(b, 16), height: be32(b, 20) };
  }
  if (contentType === 'image/gif') {
    if (b.length < 10) return undefined;
    return { width: b[6]! | (b[7]! << 8), height: b[8]! | (b[9]! << 8) };
  }
  if (contentType === 'image/jpeg') {
    // Walk the marker segments to the first start-of-frame (SOF0–SOF15 but DHT, JPG and DAC).
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return undefined;
      const marker = b[i + 1]!;
      if (marker === 0xff) { i++; continue; }
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: be16(b, i + 7), height: be16(b, i + 5) };
      }
      i += 2 + be16(b, i + 2);
    }
    return undefined;
  }
  if (contentType === 'image/webp') {
    const info = webpInfo(b);
    return info && { width: info.width, height: info.height };
  }
  return undefined;
}

/** The source's pixels; throws on anything malformed. Call only after `imageSize` was checked. */
export function decodeImage(contentType: string, b: Uint8Array): Rgba {
  if (contentType === 'image/png') {
    const png = readPng(Buffer.from(b.buffer, b.byteOffset, b.byteLength), {});
    return { width: png.width, height: png.height, data: png.data };
  }
  if (contentType === 'image/jpeg') {
    const maxResolutionInMP = THUMBNAIL_MAX_PIXELS / 1_000_000;
    const img = jpeg.decode(b, { useTArray: true, formatAsRGBA: true, maxResolutionInMP, maxMemoryUsageInMB: 512 });
    return { width: img.width, height: img.height, data: img.data };
  }
  if (contentType === 'image/gif') {
    const gif = new GifReader(b);
    const data = new Uint8Array(gif.width * gif.height * 4);
    gif.decodeAndBlitFrameRGBA(0, data);
    return { width: gif.width, height: gif.height, data };
  }
  if (contentType === 'image/webp') return decodeWebp(b);
  throw new Error(`No decoder for ${contentType}`);
}

/** Dimensions that fit `maxSide` on the long side, keeping the aspect (never enlarged, at least 1 px). */
export function fitWithin(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Area-averaging downscale: each target pixel is the mean of the source pixels it covers
 * (fractional at the edges). Colour is weighted by alpha so transparent pixels do not bleed.
 */
export function resize(src: Rgba, width: number, height: number): Rgba {
  const out = new Uint8Array(width * height * 4);
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    const y0 = y * sy;
    const y1 = y0 + sy;
    for (let x = 0; x < width; x++) {
      const x0 = x * sx;
      const x1 = x0 + sx;
      let r = 0, g = 0, b = 0, a = 0, area = 0;
      for (let yy = Math.floor(y0); yy < Math.min(Math.ceil(y1), src.height); yy++) {
        const wy = Math.min(yy + 1, y1) - Math.max(yy, y0);
        for (let xx = Math.floor(x0); xx < Math.min(Math.ceil(x1), src.width); xx++) {
          const w = wy * (Math.min(xx + 1, x1) - Math.max(xx, x0));
          const i = (yy * src.width + xx) * 4;
          const wa = w * src.data[i + 3]!;
          r += src.data[i]! * wa;
          g += src.data[i + 1]! * wa;
          b += src.data[i + 2]! * wa;
          a += wa;
          area += w;
        }
      }
      const o = (y * width + x) * 4;
      if (a > 0) {
        out[o] = Math.round(r / a);
        out[o + 1] = Math.round(g / a);
        out[o + 2] = Math.round(b / a);
      }
      out[o + 3] = area > 0 ? Math.round(a / area) : 0;
    }
  }
  return { width, height, data: out };
}

/** JPEG has no alpha: transparent areas are flattened onto white, as most viewers show them. */
export function encodeJpeg(img: Rgba, quality = THUMBNAIL_QUALITY): Uint8Array {
  const data = Buffer.alloc(img.data.length);
  for (let i = 0; i < img.data.length; i += 4) {
    const a = img.data[i + 3]! / 255;
    for (let c = 0; c < 3; c++) data[i + c] = Math.round(img.data[i + c]! * a + 255 * (1 - a));
    data[i + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ width: img.width, height: img.height, data }, quality).data);
}

/**
 * The thumbnail (JPEG, at most `THUMBNAIL_MAX_SIDE` on the long side) of a decoded image, turned
 * upright as its EXIF orientation says (after shrinking: turning 320 px is cheaper than 12 MP).
 */
export function thumbnailOf(img: Rgba, orientation: Orientation = 1): Uint8Array {
  const size = fitWithin(img.width, img.height, THUMBNAIL_MAX_SIDE);
  return encodeJpeg(orient(size.width === img.width && size.height === img.height ? img : resize(img, size.width, size.height), orientation));
}
