import net from 'node:net';
import { StartupError } from './errors.ts';

/** A port kept taken by a listening socket of ours until `release()`. */
export interface PortHold {
  port: number;
  /** Frees the port (once; later calls do nothing), for the server that listens on it next. */
  release(): Promise<void>;
}

/**
 * Listens on `port` (0 = any free one) and keeps it: a port whose number is needed before its
 * server can start (URLs name it) stays ours meanwhile, where a port only probed could be taken
 * in between by any other socket, an outgoing connection's included.
 */
export function holdPort(port: number, host = '127.0.0.1'): Promise<PortHold> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new StartupError(`port ${port} is already in use: stop what uses it or pick another port with the matching PARLEY_*_PORT variable`)
          : err,
      );
    });
    server.listen(port, host, () => {
      const address = server.address();
      const got = typeof address === 'object' && address ? address.port : port;
      let released: Promise<void> | undefined;
      resolve({ port: got, release: () => (released ??= new Promise((done) => server.close(() => done()))) });
    });
  });
}

/** Listens on `port` (0 = any free one) to learn whether it is free; resolves with the port it got. */
export async function probePort(port: number, host = '127.0.0.1'): Promise<number> {
  const hold = await holdPort(port, host);
  await hold.release();
  return hold.port;
}

export const freePort = (): Promise<number> => probePort(0);
