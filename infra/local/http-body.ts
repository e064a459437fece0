import type http from 'node:http';

/**
 * A request's whole body, or `undefined` once it passes `maxBytes` (read to the end anyway, so
 * the answer still gets through). Read by its events rather than `for await`: every post of a
 * fan-out passes here, and the async iterator's promises were a share of the emulator's own cost.
 */
export function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.once('end', () => resolve(size > maxBytes ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
    // A client gone before the end: nothing to answer.
    req.once('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
  });
}
