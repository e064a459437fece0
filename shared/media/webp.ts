import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * WebP through libwebp's own decoder compiled to WebAssembly (the `webp.wasm` of `@cwasm/webp`),
 * driven directly rather than through that package's wrapper so that every image gets a fresh
 * instance: a hostile file can at worst corrupt a linear memory that is thrown away with it, and
 * nothing it did reaches the next image. Compiling happens once; an instance costs well under a
 * millisecond.
 *
 * Where the WebAssembly comes from: next to the bundle in Lambda (the thumbnail function's
 * bundling copies it there, see `BUNDLE_EXTRA_FILES`), else from the installed package.
 */
export const WEBP_WASM = { fileName: 'webp.wasm', packagePath: '@cwasm/webp/webp.wasm' } as const;

/** The decoder itself cannot be loaded: a packaging fault, not a bad image, so never an outcome of one. */
export class DecoderUnavailableError extends Error {
  override name = 'DecoderUnavailableError';
}

export interface WebpInfo {
  /** Canvas size: what the header states, the first frame's limit in an animation. */
  width: number;
  height: number;
  animated: boolean;
}

const fourcc = (b: Uint8Array, i: number) => String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
const le16 = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const le24 = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const le32 = (b: Uint8Array, i: number) => (le24(b, i) + b[i + 3]! * 0x1000000);

/**
 * The size a WebP file states, from its first chunk (RFC 9649): `VP8 ` (lossy: a key frame's
 * 14-bit sizes), `VP8L` (lossless: 14-bit sizes minus one after the 0x2F signature) or `VP8X`
 * (extended: 24-bit canvas sizes minus one, and the animation flag). Undefined when unreadable.
 */
export function webpInfo(b: Uint8Array): WebpInfo | undefined {
  if (b.length < 30 || fourcc(b, 0) !== 'RIFF' || fourcc(b, 8) !== 'WEBP') return undefined;
  const chunk = fourcc(b, 12);
  if (chunk === 'VP8 ') {
    // Frame tag (3 bytes) then the key frame start code 9D 01 2A.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
    return { width: le16(b, 26) & 0x3fff, height: le16(b, 28) & 0x3fff, animated: false };
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) return undefined;
    const bits = le32(b, 21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, animated: false };
  }
  if (chunk === 'VP8X') return { width: le24(b, 24) + 1, height: le24(b, 27) + 1, animated: (b[20]! & 0x02) !== 0 };
  return undefined;
}

export interface Chunk {
  id: string;
  /** The whole chunk: header, payload and padding. */
  bytes: Uint8Array;
  payload: Uint8Array;
}

/** The chunks in `b` from `at` on; throws where a stated size runs past the end. */
export function chunks(b: Uint8Array, at: number): Chunk[] {
  const out: Chunk[] = [];
  while (at + 8 <= b.length) {
    const size = le32(b, at + 4);
    const end = at + 8 + size;
    if (end > b.length) throw new Error('WebP chunk runs past the end of the file');
    const padded = Math.min(b.length, end + (size % 2));
    out.push({ id: fourcc(b, at), bytes: b.subarray(at, padded), payload: b.subarray(at + 8, end) });
    at = padded;
  }
  return out;
}

function riff(...parts: Uint8Array[]): Uint8Array {
  const length = 4 + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(8 + length);
  const view = new DataView(out.buffer);
  out.set([0x52, 0x49, 0x46, 0x46]); // RIFF
  view.setUint32(4, length, true);
  out.set([0x57, 0x45, 0x42, 0x50], 8); // WEBP
  let at = 12;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * An animation's first frame as a still WebP file: libwebp's simple decoding API refuses
 * animations, and a thumbnail shows the first frame (as for GIF). The frame's own image chunks
 * (`ALPH` if any, then `VP8 `/`VP8L`) go under a `VP8X` header whose canvas is the frame; the
 * decoder then checks the bitstream agrees with it. Stills are returned as they are.
 */
export function firstFrame(b: Uint8Array, info: WebpInfo): Uint8Array {
  if (!info.animated) return b;
  // The chunks after VP8X (its payload is 10 bytes; a larger one is skipped as stated).
  const afterHeader = 20 + le32(b, 16) + (le32(b, 16) % 2);
  const frame = chunks(b, afterHeader).find((c) => c.id === 'ANMF');
  if (!frame || frame.payload.length < 16) throw new Error('Animated WebP without a frame');
  const width = le24(frame.payload, 6) + 1;
  const height = le24(frame.payload, 9) + 1;
  if (width > info.width || height > info.height) throw new Error('WebP frame larger than its canvas');
  const image = chunks(frame.payload, 16).filter((c) => c.id === 'ALPH' || c.id === 'VP8 ' || c.id === 'VP8L');
  if (!image.some((c) => c.id !== 'ALPH')) throw new Error('WebP frame without an image');
  const vp8x = new Uint8Array(18);
  vp8x.set([0x56, 0x50, 0x38, 0x58, 10]); // "VP8X", payload size 10
  vp8x[8] = image.some((c) => c.id === 'ALPH') ? 0x10 : 0; // the alpha flag
  vp8x.set([(width - 1) & 0xff, ((width - 1) >> 8) & 0xff, (width - 1) >> 16], 12);
  vp8x.set([(height - 1) & 0xff, ((height - 1) >> 8) & 0xff, (height - 1) >> 16], 15);
  return riff(vp8x, ...image.map((c) => c.bytes));
}

let compiled: WebAssembly.Module | undefined;

function decoderModule(): WebAssembly.Module {
  if (compiled) return compiled;
  let file = fileURLToPath(new URL(`./${WEBP_WASM.fileName}`, import.meta.url));
  try {
    if (!existsSync(file)) file = createRequire(import.meta.url).resolve(WEBP_WASM.packagePath);
    compiled = new WebAssembly.Module(readFileSync(file));
  } catch (err) {
    throw new DecoderUnavailableError(`The WebP decoder (${WEBP_WASM.packagePath}) cannot be loaded: ${(err as Error).message}`);
  }
  return compiled;
}

interface DecoderExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  WebPDecodeRGBA(data: number, size: number, width: number, height: number): number;
}

/** The decoder may not touch files: its C library's stdio calls fail. */
const noFiles = () => {
  throw new Error('The WebP decoder has no file access');
};

/** RGBA pixels of a WebP still (or an animation's first frame); throws on anything malformed. */
export function decodeWebp(b: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const info = webpInfo(b);
  if (!info) throw new Error('Not a WebP header');
  const source = firstFrame(b, info);
  const imports = { wasi_snapshot_preview1: { fd_close: noFiles, fd_seek: noFiles, fd_write: noFiles } };
  const { memory, malloc, WebPDecodeRGBA } = new WebAssembly.Instance(decoderModule(), imports).exports as unknown as DecoderExports;
  // Nothing is freed: the instance and its memory go as a whole when this returns.
  const input = malloc(source.length);
  const size = malloc(8);
  if (!input || !size) throw new Error('WebP input does not fit the decoder');
  new Uint8Array(memory.buffer, input, source.length).set(source);
  const pixels = WebPDecodeRGBA(input, source.length, size, size + 4);
  if (!pixels) throw new Error('Not a decodable WebP image');
  // The memory may have grown while decoding: views are taken only now.
  const view = new DataView(memory.buffer);
  const width = view.getUint32(size, true);
  const height = view.getUint32(size + 4, true);
  if (pixels + width * height * 4 > memory.buffer.byteLength) throw new Error('WebP decoder returned pixels out of bounds');
  return { width, height, data: new Uint8Array(memory.buffer, pixels, width * height * 4).slice() };
}
