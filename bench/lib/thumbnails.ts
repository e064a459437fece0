import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { GifWriter } from 'omggif';
import { decodeImage, imageSize, thumbnailOf, type Rgba } from '#shared/media/images.ts';
import { orientationOf } from '#shared/media/exif.ts';
import { encodeWebp } from '#test/support/webp.ts';
import { median } from './stats.ts';

export interface ThumbnailFigures {
  format: string;
  width: number;
  height: number;
  sourceBytes: number;
  /** Header read and decode to RGBA: median of `runs`. */
  decodeMs: number;
  /** Shrink to 320 px and JPEG encode: median. */
  thumbnailMs: number;
  thumbnailBytes: number;
  runs: number;
}

/** A photo stand-in: smooth gradients with grain, so no codec gets an unrealistically easy image. */
function photo(width: number, height: number): Rgba {
  const data = new Uint8Array(width * height * 4);
  let seed = 42;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const grain = (seed >>> 24) % 24;
      data.set([((x * 255) / width + grain) & 255, ((y * 255) / height + grain) & 255, (((x + y) * 128) / (width + height) + grain) & 255, 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

function gif(img: Rgba): Uint8Array {
  // 3-3-2 bit colour cube: every pixel maps to one of 256 palette entries.
  const palette = Array.from({ length: 256 }, (_, i) => (((i >> 5) * 36) << 16) | ((((i >> 2) & 7) * 36) << 8) | ((i & 3) * 85));
  const indexed = new Uint8Array(img.width * img.height);
  for (let i = 0; i < indexed.length; i++) indexed[i] = (img.data[i * 4]! & 0xe0) | ((img.data[i * 4 + 1]! >> 3) & 0x1c) | (img.data[i * 4 + 2]! >> 6);
  const buf = new Uint8Array(img.width * img.height * 2 + 10_000);
  const writer = new GifWriter(buf, img.width, img.height, { palette });
  // omggif only indexes the pixels; its types ask for an array.
  writer.addFrame(0, 0, img.width, img.height, indexed as unknown as number[]);
  return buf.subarray(0, writer.end());
}

/**
 * What the thumbnail function spends on one image, per source format: the same code it runs
 * (`imageSize`, `decodeImage`, `thumbnailOf`) on a `width` × `height` photo stand-in. Storage
 * round trips are not included.
 */
export async function measureThumbnails(opts: { width: number; height: number; runs: number }): Promise<ThumbnailFigures[]> {
  const img = photo(opts.width, opts.height);
  const sources: [string, string, Uint8Array][] = [
    ['JPEG (q 85)', 'image/jpeg', new Uint8Array(jpeg.encode({ width: img.width, height: img.height, data: img.data }, 85).data)],
    ['PNG', 'image/png', new Uint8Array(pngjs.PNG.sync.write(Object.assign(new pngjs.PNG({ width: img.width, height: img.height }), { data: Buffer.from(img.data) })))],
    ['GIF', 'image/gif', gif(img)],
    ['WebP lossy (q 75)', 'image/webp', await encodeWebp(img, { quality: 75 })],
    ['WebP lossless', 'image/webp', await encodeWebp(img, { lossless: true })],
  ];
  return sources.map(([format, type, bytes]) => {
    const decodeMs: number[] = [];
    const thumbnailMs: number[] = [];
    let thumbnail: Uint8Array = new Uint8Array();
    for (let run = 0; run < opts.runs; run++) {
      const t0 = performance.now();
      if (!imageSize(type, bytes)) throw new Error(`${format}: unreadable header`);
      const decoded = decodeImage(type, bytes);
      const t1 = performance.now();
      thumbnail = thumbnailOf(decoded, orientationOf(type, bytes));
      decodeMs.push(t1 - t0);
      thumbnailMs.push(performance.now() - t1);
    }
    return {
      format,
      width: img.width,
      height: img.height,
      sourceBytes: bytes.byteLength,
      decodeMs: median(decodeMs),
      thumbnailMs: median(thumbnailMs),
      thumbnailBytes: thumbnail.byteLength,
      runs: opts.runs,
    };
  });
}
