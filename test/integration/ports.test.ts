import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PortTakenError, StartupError } from '#infra/local/errors.ts';
import { freePort, holdPort, probePort } from '#infra/local/ports.ts';
import { DYNAMODB_LOCAL_JVM, startDynamoDbLocal } from '#infra/local/services.ts';

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

  it.runIf(process.platform === 'linux')('starts DynamoDB Local’s JVM with its options, or with the user’s own instead, and leaves the environment as it was', async () => {
    const before = process.env.JDK_JAVA_OPTIONS;
    /** Starts one with JDK_JAVA_OPTIONS as given (undefined: unset), and reads the options its JVM was started with. */
    const optionsOf = async (given: string | undefined) => {
      if (given === undefined) delete process.env.JDK_JAVA_OPTIONS;
      else process.env.JDK_JAVA_OPTIONS = given;
      const port = await freePort();
      let after: string | undefined;
      const db = await startDynamoDbLocal({ port }).finally(() => {
        after = process.env.JDK_JAVA_OPTIONS;
        if (before === undefined) delete process.env.JDK_JAVA_OPTIONS;
        else process.env.JDK_JAVA_OPTIONS = before;
      });
      try {
        expect(after).toBe(given);
        // The JVM listening on the port: its command line names it, its environment holds the options it started with.
        const pid = readdirSync('/proc').find((p) => {
          try {
            return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').includes(`DynamoDBLocal.jar -inMemory -port ${port} `);
          } catch {
            return false; // gone meanwhile
          }
        });
        expect(pid).toBeDefined();
        const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        return environ.find((e) => e.startsWith('JDK_JAVA_OPTIONS='))?.slice('JDK_JAVA_OPTIONS='.length);
      } finally {
        await db.stop();
      }
    };
    expect(await optionsOf(undefined)).toBe(DYNAMODB_LOCAL_JVM.join(' '));
    // Another collector beside ours would stop the JVM: the user's options alone, and it answers.
    expect(await optionsOf('-XX:+UseG1GC')).toBe('-XX:+UseG1GC');
  }, 60_000);
});
