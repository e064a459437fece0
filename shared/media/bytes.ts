/** An image in memory: 4 bytes (RGBA) a pixel, row by row. */
export interface Rgba {
  width: number;
  height: number;
  /** 4 bytes a pixel, row by row. */
  data: Uint8Array;
}

/** Whether `b` holds the bytes of `sig` at `at`. */
export function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  return b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);
}
