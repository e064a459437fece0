import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PortTakenError, StartupError } from '#infra/local/errors.ts';
import { holdPort, probePort } from '#infra/local/ports.ts';
import { startDynamoDbLocal } from '#infra/local/services.ts';

const listenOn = (port: number, host = '127.0.0.1') =>
  new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
const close = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('the local runtime’s ports', () => {
  it('keeps a port chosen early from every other socket until it is released, then hands it over', async () => {
    const hold = await holdPort(0);
    expect(hold.port).toBeGreaterThan(0);
    await expect(listenOn(hold.port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await hold.release();
    await hold.release();
    const server = await listenOn(hold.port);
    await close(server);
  });

  it('says which port is taken when asked for one in use, and takes nothing', async () => {
    const other = await listenOn(0);
    const { port } = other.address() as net.AddressInfo;
    await expect(holdPort(port)).rejects.toThrow(StartupError);
    await expect(probePort(port)).rejects.toThrow(`port ${port} is already in use`);
    await close(other);
    expect(await probePort(port)).toBe(port);
  });

  it('tells a DynamoDB Local whose port was taken after it was chosen apart from one that failed otherwise', async () => {
    // Free on 127.0.0.1, where the port is chosen; taken on 127.0.0.2, so the JVM, which listens
    // on every address, cannot bind it: as when another socket takes it in the meantime.
    const other = await listenOn(0, '127.0.0.2');
    const { port } = other.address() as net.AddressInfo;
    try {
      await expect(startDynamoDbLocal({ port })).rejects.toThrow(PortTakenError);
    } finally {
      await close(other);
    }
  }, 30_000);
});
