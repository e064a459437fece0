/** pngjs's synchronous parser (`PNG.sync.read` without the rest of the package); @types/pngjs declares only the entry point. */
declare module 'pngjs/lib/parser-sync.js' {
  import type { PNGWithMetadata, ParserOptions } from 'pngjs';
  const readPng: (buffer: Buffer, options: ParserOptions) => PNGWithMetadata;
  export default readPng;
}
