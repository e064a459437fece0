/** A TIFF structure (EXIF's container) whose IFD0 holds one entry: Orientation = `orientation`. */
export function exifTiff(orientation: number, byteOrder: 'II' | 'MM' = 'II'): Uint8Array {
  const little = byteOrder === 'II';
  const b = new Uint8Array(8 + 2 + 12 + 4);
  const view = new DataView(b.buffer);
  b.set([byteOrder.charCodeAt(0), byteOrder.charCodeAt(1)]);
  view.setUint16(2, 42, little);
  view.setUint32(4, 8, little); // IFD0 right after the header
  view.setUint16(8, 1, little); // one entry
  view.setUint16(10, 0x0112, little); // Orientation
  view.setUint16(12, 3, little); // SHORT
  view.setUint32(14, 1, little); // one value
  view.setUint16(18, orientation, little);
  view.setUint32(22, 0, little); // no next IFD
  return b;
}

/** `jpeg` with an APP1 Exif segment holding `tiff`, right after its start-of-image marker. */
export function jpegWithExif(jpeg: Uint8Array, tiff: Uint8Array): Uint8Array {
  const payload = Uint8Array.from([0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]); // "Exif\0\0"
  const length = payload.length + 2;
  return Uint8Array.from([0xff, 0xd8, 0xff, 0xe1, length >> 8, length & 0xff, ...payload, ...jpeg.subarray(2)]);
}
