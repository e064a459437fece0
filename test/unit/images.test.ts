import { describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { decodeImage, fitWithin, imageSize, resize, thumbnailOf, THUMBNAIL_MAX_SIDE, type Rgba } from '../../shared/domain/images.ts';

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
