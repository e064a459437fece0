import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { decodeImage, fitWithin, imageSize, resize, thumbnailOf, THUMBNAIL_MAX_SIDE, type Rgba } from '#shared/media/images.ts';
import { firstFrame, webpInfo, WEBP_WASM } from '#shared/media/webp.ts';
import { animateWebp, encodeWebp, webpWithExif } from '#test/support/webp.ts';
import { exifTiff, jpegWithExif } from '#test/support/exif.ts';
import { orient, orientationOf, orientedSize } from '#shared/media/exif.ts';

const solid = (w: number, h: number, px: number[]): Rgba => ({ width: w, height: h, data: Uint8Array.from({ length: w * h * 4 }, (_, i) => px[i % 4]!) });

describe('fitWithin', () => {
  it('fits the long side to the limit, keeps the aspect, never enlarges', () => {
    expect(fitWithin(1000, 500, 320)).toEqual({ width: 320, height: 160 });
    expect(fitWithin(500, 1000, 320)).toEqual({ width: 160, height: 320 });
    expect(fitWithin(200, 100, 320)).toEqual({ width: 200, height: 100 });
    expect(fitWithin(10_000, 1, 320)).toEqual({ width: 320, height: 1 });
  });
});

describe('resize', () => {
  it('averages the area each target pixel covers', () => {
    // Two columns, black and white: halved, they are grey.
    const src: Rgba = { width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 255, 255, 255, 255, 255]) };
    expect([...resize(src, 1, 1).data]).toEqual([128, 128, 128, 255]);
  });

  it('weights fractional edges (3 → 2 pixels)', () => {
    const src: Rgba = { width: 3, height: 1, data: Uint8Array.from([0, 0, 0, 255, 90, 90, 90, 255, 180, 180, 180, 255]) };
    // First target pixel covers 1 and a half source pixels: (0 + 0.5·90) / 1.5 = 30.
    expect([...resize(src, 2, 1).data]).toEqual([30, 30, 30, 255, 150, 150, 150, 255]);
  });

  it('does not let fully transparent pixels bleed their colour', () => {
    const src: Rgba = { width: 2, height: 1, data: Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 0]) };
    expect([...resize(src, 1, 1).data]).toEqual([255, 0, 0, 128]);
  });

  it('keeps a solid image solid', () => {
    const out = resize(solid(97, 41, [10, 20, 30, 255]), 13, 7);
    expect(new Set(out.data)).toEqual(new Set([10, 20, 30, 255]));
  });
});

describe('imageSize (read before anything is decoded)', () => {
  it('reads PNG, JPEG and GIF headers', () => {
    const p = new pngjs.PNG({ width: 7, height: 3 });
    expect(imageSize('image/png', pngjs.PNG.sync.write(p))).toEqual({ width: 7, height: 3 });
    const j = jpeg.encode({ width: 9, height: 5, data: Buffer.alloc(9 * 5 * 4, 200) }, 50).data;
    expect(imageSize('image/jpeg', j)).toEqual({ width: 9, height: 5 });
    expect(imageSize('image/gif', Buffer.from([...Buffer.from('GIF89a'), 0x10, 0x01, 0x20, 0x00]))).toEqual({ width: 272, height: 32 });
  });

  it('gives nothing for a header it cannot read', () => {
    expect(imageSize('image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined();
    expect(imageSize('image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00]))).toBeUndefined();
    expect(imageSize('image/webp', Buffer.from('RIFF....WEBP'))).toBeUndefined();
  });
});

describe('thumbnailOf', () => {
  it('makes a JPEG at most 320 px on the long side; transparency becomes white', () => {
    const thumb = jpeg.decode(thumbnailOf(solid(1000, 400, [0, 0, 0, 0])), { useTArray: true });
    expect([thumb.width, thumb.height]).toEqual([THUMBNAIL_MAX_SIDE, 128]);
    expect(thumb.data[0]).toBeGreaterThan(250);
  });

  it('throws on a truncated file rather than returning garbage', () => {
    const p = new pngjs.PNG({ width: 200, height: 200 });
    const bytes = pngjs.PNG.sync.write(p).subarray(0, 60);
    expect(() => decodeImage('image/png', bytes)).toThrow();
  });
});

describe('WebP (libwebp in WebAssembly, a fresh instance per image)', () => {
  /** Red grows left to right, green top to bottom; with `cutout`, the left half is transparent. */
  const gradient = (width: number, height: number, cutout = false): Rgba => {
    const data = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) data.set([Math.round((255 * x) / (width - 1)), Math.round((255 * y) / (height - 1)), 96, cutout && x < width / 2 ? 0 : 255], (y * width + x) * 4);
    return { width, height, data };
  };
  const fill = (width: number, height: number, px: number[], cutout = false): Rgba => {
    const img = solid(width, height, px);
    if (cutout) for (let i = 0; i < width * height; i++) if (i % width < width / 2) img.data[i * 4 + 3] = 0;
    return img;
  };
  let lossy: Uint8Array, lossless: Uint8Array, lossyAlpha: Uint8Array, animated: Uint8Array;
  beforeAll(async () => {
    lossy = await encodeWebp(gradient(400, 300), { quality: 60 });
    lossless = await encodeWebp(gradient(64, 48, true), { lossless: true });
    lossyAlpha = await encodeWebp(gradient(200, 100, true), { quality: 60 });
    // Frame 1 red with a transparent left half (lossy + ALPH), frame 2 blue (lossless).
    animated = animateWebp(120, 90, [await encodeWebp(fill(120, 90, [220, 30, 30, 255], true), { quality: 70 }), await encodeWebp(fill(120, 90, [30, 30, 220, 255]), { lossless: true })]);
  });
  const pixel = (img: Rgba, x: number, y: number) => [...img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4)];

  it('reads the size from each kind of header: lossy, lossless, extended, animated', () => {
    expect(imageSize('image/webp', lossy)).toEqual({ width: 400, height: 300 });
    expect(imageSize('image/webp', lossless)).toEqual({ width: 64, height: 48 });
    expect(imageSize('image/webp', lossyAlpha)).toEqual({ width: 200, height: 100 });
    expect(webpInfo(animated)).toEqual({ width: 120, height: 90, animated: true });
  });

  it('decodes lossy, lossless and lossy-with-alpha stills', () => {
    const a = decodeImage('image/webp', lossy);
    expect([a.width, a.height, a.data.length]).toEqual([400, 300, 400 * 300 * 4]);
    // A gradient: red grows left to right, green top to bottom (lossy: within a margin).
    expect(pixel(a, 399, 0)[0]).toBeGreaterThan(200);
    expect(pixel(a, 0, 299)[1]).toBeGreaterThan(200);
    const b = decodeImage('image/webp', lossless);
    expect([b.width, b.height]).toEqual([64, 48]);
    expect(pixel(b, 0, 0)[3]).toBe(0);
    expect(pixel(b, 63, 47)).toEqual([255, 255, 96, 255]);
    const c = decodeImage('image/webp', lossyAlpha);
    expect([c.width, c.height, pixel(c, 0, 50)[3], pixel(c, 199, 50)[3]]).toEqual([200, 100, 0, 255]);
  });

  it('decodes the first frame of an animation, alpha included', () => {
    const still = firstFrame(animated, webpInfo(animated)!);
    expect(webpInfo(still)).toEqual({ width: 120, height: 90, animated: false });
    const img = decodeImage('image/webp', animated);
    expect([img.width, img.height]).toEqual([120, 90]);
    // Frame 1 is red with a transparent left half; frame 2 (blue) is not what a thumbnail shows.
    expect(pixel(img, 10, 45)[3]).toBe(0);
    const [r, g, b, a] = pixel(img, 110, 45);
    expect(r).toBeGreaterThan(180);
    expect([g! < 80, b! < 80, a]).toEqual([true, true, 255]);
  });

  it('makes a thumbnail of a WebP', () => {
    const thumb = jpeg.decode(thumbnailOf(decodeImage('image/webp', lossy)), { useTArray: true });
    expect([thumb.width, thumb.height]).toEqual([320, 240]);
  });

  it('refuses truncated, corrupted and lying files with a throw, and the next image still decodes', () => {
    const corrupt = lossy.slice();
    corrupt.fill(0xa5, 40, 400);
    // A VP8L header claiming 16384 × 16384 followed by nothing.
    const huge = lossless.slice(0, 30);
    huge.set([0xff, 0xff, 0xff, 0xff], 21);
    // An animation whose frame says it is larger than the canvas.
    const oversizedFrame = animated.slice();
    const anmf = Buffer.from(oversizedFrame).indexOf('ANMF');
    oversizedFrame.set([0xff, 0xff, 0x00], anmf + 8 + 6);
    // A chunk whose size runs past the end of the file.
    const runaway = animated.slice();
    runaway.set([0xff, 0xff, 0xff, 0x7f], anmf + 4);
    for (const bad of [lossy.subarray(0, 600), corrupt, huge, oversizedFrame, runaway, Buffer.from('RIFF\0\0\0\0WEBPVP8 garbage garbage garbage')]) {
      expect(() => decodeImage('image/webp', bad)).toThrow();
    }
    expect(imageSize('image/webp', huge)).toEqual({ width: 16384, height: 16384 });
    expect(decodeImage('image/webp', lossless).width).toBe(64);
  });

  it('says so when the decoder itself cannot load, rather than blaming the image', async () => {
    // A copy of the module bundled as a Lambda function is, with neither the .wasm beside it nor
    // node_modules above it: it must throw DecoderUnavailableError, which makeThumbnail rethrows.
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-webp-'));
    try {
      const entry = fileURLToPath(new URL('../../shared/media/webp.ts', import.meta.url));
      await build({ entryPoints: [entry], outfile: path.join(dir, 'index.mjs'), bundle: true, format: 'esm', platform: 'node', minify: true, logLevel: 'silent' });
      const bundled = (await import(pathToFileURL(path.join(dir, 'index.mjs')).href)) as typeof import('#shared/media/webp.ts');
      expect(() => bundled.decodeWebp(lossless)).toThrow(bundled.DecoderUnavailableError);
      // With the file copied next to the bundle, as the thumbnail function's bundling does, it decodes.
      copyFileSync(createRequire(import.meta.url).resolve(WEBP_WASM.packagePath), path.join(dir, WEBP_WASM.fileName));
      expect(bundled.decodeWebp(lossless).width).toBe(64);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('EXIF orientation', () => {
  // 3 × 2, every pixel its own red value: where each lands shows how the image was turned.
  //   0 1 2
  //   3 4 5
  const grid: Rgba = { width: 3, height: 2, data: Uint8Array.from({ length: 24 }, (_, i) => (i % 4 === 0 ? i / 4 : i % 4 === 3 ? 255 : 0)) };
  const reds = (img: Rgba) => Array.from({ length: img.height }, (_, y) => Array.from({ length: img.width }, (_, x) => img.data[(y * img.width + x) * 4]));

  it.each([
    [1, [[0, 1, 2], [3, 4, 5]]],
    [2, [[2, 1, 0], [5, 4, 3]]],
    [3, [[5, 4, 3], [2, 1, 0]]],
    [4, [[3, 4, 5], [0, 1, 2]]],
    [5, [[0, 3], [1, 4], [2, 5]]],
    [6, [[3, 0], [4, 1], [5, 2]]],
    [7, [[5, 2], [4, 1], [3, 0]]],
    [8, [[2, 5], [1, 4], [0, 3]]],
  ] as const)('turns orientation %i upright', (orientation, expected) => {
    expect(reds(orient(grid, orientation))).toEqual(expected);
  });

  it('gives the displayed size of each orientation: 5 to 8 swap the sides, as turning the pixels does', () => {
    for (const o of [1, 2, 3, 4, 5, 6, 7, 8] as const) {
      const turned = orient(grid, o);
      expect(orientedSize(3, 2, o), String(o)).toEqual({ width: turned.width, height: turned.height });
    }
    expect(orientedSize(1000, 500, 6)).toEqual({ width: 500, height: 1000 });
    expect(orientedSize(1000, 500, 3)).toEqual({ width: 1000, height: 500 });
  });

  const photo = new Uint8Array(jpeg.encode({ width: 40, height: 20, data: Buffer.alloc(40 * 20 * 4, 128) }, 80).data);

  it('reads the tag from a JPEG in either byte order, and from a WebP EXIF chunk', async () => {
    expect(orientationOf('image/jpeg', photo)).toBe(1);
    expect(orientationOf('image/jpeg', jpegWithExif(photo, exifTiff(6)))).toBe(6);
    expect(orientationOf('image/jpeg', jpegWithExif(photo, exifTiff(8, 'MM')))).toBe(8);
    const still = await encodeWebp({ width: 40, height: 20, data: new Uint8Array(40 * 20 * 4).fill(200) });
    const tagged = webpWithExif(40, 20, still, exifTiff(3));
    expect(orientationOf('image/webp', tagged)).toBe(3);
    // The EXIF chunk does not get in the decoder's way.
    expect(decodeImage('image/webp', tagged).width).toBe(40);
  });

  it('takes anything else as upright: a missing, bad or out-of-range tag, other formats', () => {
    expect(orientationOf('image/jpeg', jpegWithExif(photo, exifTiff(9)))).toBe(1);
    expect(orientationOf('image/jpeg', jpegWithExif(photo, Uint8Array.from([0x49, 0x49, 0x2a, 0, 0xff, 0xff, 0, 0])))).toBe(1);
    expect(orientationOf('image/jpeg', jpegWithExif(photo, new Uint8Array(3)))).toBe(1);
    expect(orientationOf('image/png', jpegWithExif(photo, exifTiff(6)))).toBe(1);
  });

  it('turns the thumbnail, so a portrait photo stored sideways comes out portrait', () => {
    const thumb = jpeg.decode(thumbnailOf(solid(1000, 500, [10, 20, 30, 255]), 6), { useTArray: true });
    expect([thumb.width, thumb.height]).toEqual([160, 320]);
  });
});
