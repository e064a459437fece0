import { startsWith, type Rgba } from './bytes.ts';
import { chunks } from './webp.ts';

/**
 * EXIF orientation: phones store photos as the sensor saw them and record in the EXIF `Orientation`
 * tag (0x0112) how to turn them for display. A thumbnail that ignored it would show a portrait
 * photo lying on its side.
 */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

const ORIENTATION_TAG = 0x0112;
const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"

/** The Orientation tag of a TIFF structure (EXIF's container): IFD0's entries only. 1 when absent or unreadable. */
function tiffOrientation(b: Uint8Array): Orientation {
  if (b.length < 8) return 1;
  const little = b[0] === 0x49 && b[1] === 0x49; // "II"
  if (!little && !(b[0] === 0x4d && b[1] === 0x4d)) return 1; // nor "MM"
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (view.getUint16(2, little) !== 42) return 1;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > b.length) return 1;
  const entries = view.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const at = ifd + 2 + i * 12;
    if (at + 12 > b.length) return 1;
    if (view.getUint16(at, little) !== ORIENTATION_TAG) continue;
    // Type SHORT (3), one value, held in the entry itself.
    const value = view.getUint16(at + 2, little) === 3 ? view.getUint16(at + 8, little) : 1;
    return value >= 1 && value <= 8 ? (value as Orientation) : 1;
  }
  return 1;
}

/** A JPEG's APP1 Exif segment, looked for among the segments before the image data. */
function jpegExif(b: Uint8Array): Uint8Array | undefined {
  let i = 2;
  while (i + 4 <= b.length && b[i] === 0xff) {
    const marker = b[i + 1]!;
    if (marker === 0xda || marker === 0xd9) return undefined; // start of scan, end of image
    const length = (b[i + 2]! << 8) | b[i + 3]!;
    if (marker === 0xe1 && startsWith(b, EXIF_HEADER, i + 4)) return b.subarray(i + 10, Math.min(b.length, i + 2 + length));
    i += 2 + length;
  }
  return undefined;
}

/**
 * A WebP's `EXIF` chunk (extended format only); some writers keep the "Exif\0\0" prefix in it. A
 * file whose chunks run past its end has none to read.
 */
function webpExif(b: Uint8Array): Uint8Array | undefined {
  let payload: Uint8Array | undefined;
  try {
    payload = chunks(b, 12).find((c) => c.id === 'EXIF')?.payload;
  } catch {
    return undefined;
  }
  return payload && startsWith(payload, EXIF_HEADER) ? payload.subarray(6) : payload;
}

/** How the image must be turned for display; 1 (as stored) for formats without EXIF, or none found. */
export function orientationOf(contentType: string, b: Uint8Array): Orientation {
  const exif = contentType === 'image/jpeg' ? jpegExif(b) : contentType === 'image/webp' ? webpExif(b) : undefined;
  return exif ? tiffOrientation(exif) : 1;
}

/** The size an image of `width` × `height` as stored is displayed at: orientations 5–8 swap the sides. */
export function orientedSize(width: number, height: number, orientation: Orientation): { width: number; height: number } {
  return orientation >= 5 ? { width: height, height: width } : { width, height };
}

/** The image turned and mirrored as `orientation` says (5–8 swap width and height). */
export function orient(img: Rgba, orientation: Orientation): Rgba {
  if (orientation === 1) return img;
  const { width: w, height: h } = img;
  const { width, height } = orientedSize(w, h, orientation);
  const out = new Uint8Array(width * height * 4);
  // For each displayed pixel (x, y), the stored pixel it comes from.
  const source: Record<Exclude<Orientation, 1>, (x: number, y: number) => [number, number]> = {
    2: (x, y) => [w - 1 - x, y],
    3: (x, y) => [w - 1 - x, h - 1 - y],
    4: (x, y) => [x, h - 1 - y],
    5: (x, y) => [y, x],
    6: (x, y) => [y, h - 1 - x],
    7: (x, y) => [w - 1 - y, h - 1 - x],
    8: (x, y) => [w - 1 - y, x],
  };
  const from = source[orientation];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = from(x, y);
      const s = (sy * w + sx) * 4;
      out.set(img.data.subarray(s, s + 4), (y * width + x) * 4);
    }
  }
  return { width, height, data: out };
}
