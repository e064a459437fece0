import net from 'node:net';
import { StartupError } from './errors.ts';

/** Listens on `port` (0 = any free one) to learn whether it is free; resolves with the port it got. */
export function probePort(port: number, host = '127.0.0.1'): Promise<number> {
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
      server.close(() => resolve(got));
    });
  });
}

export const freePort = (): Promise<number> => probePort(0);
