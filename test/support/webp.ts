import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import encode, { init } from '@jsquash/webp/encode.js';

/**
 * WebP encoding for tests and the bench (libwebp's encoder through @jsquash/webp). Parley itself
 * only decodes WebP; this makes the files it is fed.
 */
let ready: Promise<unknown> | undefined;

function loadEncoder(): Promise<unknown> {
  // In Node the Emscripten glue cannot fetch its .wasm: it is compiled here and handed over.
  const wasm = createRequire(import.meta.url).resolve('@jsquash/webp/codec/enc/webp_enc.wasm');
  return (ready ??= (init as (module: WebAssembly.Module) => Promise<unknown>)(new WebAssembly.Module(readFileSync(wasm))));
}

export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A WebP of `image`: lossy at `quality` (0–100), or lossless. */
export async function encodeWebp(image: RgbaImage, options: { quality?: number; lossless?: boolean } = {}): Promise<Uint8Array> {
  await loadEncoder();
  const data = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  // The library types its input as the DOM's ImageData, which is this shape.
  const input = { data, width: image.width, height: image.height, colorSpace: 'srgb' } as unknown as Parameters<typeof encode>[0];
  const out = await encode(input, {
    quality: options.quality ?? 75,
    lossless: options.lossless ? 1 : 0,
    // Fastest method: the bench encodes 12-megapixel sources.
    method: 0,
  });
  return new Uint8Array(out);
}

const le = (n: number, bytes: number) => Uint8Array.from({ length: bytes }, (_, i) => Math.floor(n / 256 ** i) & 0xff);
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const chunk = (id: string, payload: Uint8Array) => concat(ascii(id), le(payload.length, 4), payload, new Uint8Array(payload.length % 2));
/** A still's image chunks (`ALPH`, `VP8 `/`VP8L`), after the RIFF header and any `VP8X`. */
const imageChunks = (still: Uint8Array) => still.subarray(String.fromCharCode(...still.subarray(12, 16)) === 'VP8X' ? 30 : 12);

/**
 * An animation of equally sized stills (RFC 9649 §2.7: `VP8X` with the animation flag, `ANIM`,
 * then one `ANMF` per frame at 0,0, 100 ms each). libwebp's encoder makes stills only.
 */
export function animateWebp(width: number, height: number, frames: Uint8Array[]): Uint8Array {
  const vp8x = chunk('VP8X', concat(Uint8Array.of(0x12, 0, 0, 0), le(width - 1, 3), le(height - 1, 3)));
  const anim = chunk('ANIM', concat(le(0xffffffff, 4), le(0, 2)));
  const anmf = frames.map((f) => chunk('ANMF', concat(le(0, 3), le(0, 3), le(width - 1, 3), le(height - 1, 3), le(100, 3), Uint8Array.of(0), imageChunks(f))));
  const body = concat(ascii('WEBP'), vp8x, anim, ...anmf);
  return concat(ascii('RIFF'), le(body.length, 4), body);
}

/** A still with an `EXIF` chunk (RFC 9649 §2.7: `VP8X` with the EXIF flag, the image, then `EXIF`). */
export function webpWithExif(width: number, height: number, still: Uint8Array, tiff: Uint8Array): Uint8Array {
  const vp8x = chunk('VP8X', concat(Uint8Array.of(0x08, 0, 0, 0), le(width - 1, 3), le(height - 1, 3)));
  const body = concat(ascii('WEBP'), vp8x, imageChunks(still), chunk('EXIF', tiff));
  return concat(ascii('RIFF'), le(body.length, 4), body);
}
