import { BenchSocket, createRoom, createUsers, inBatches, type TestUser } from './clients.ts';
import { closeAndForget, type Bench } from './harness.ts';
import { distribution, type Distribution } from './stats.ts';

/**
 * A user with a seat in many rooms: each connect lists the connection in every one of them before
 * it is greeted, and each disconnect takes it off again (shared/domain/live.ts). Their units are
 * rows of the operations table; this is the greeting's time against a user in one room.
 */
export interface WideConnect {
  rooms: number;
  /** Upgrade request → `connection_established`, one connect at a time, for the user in `rooms` rooms. */
  established: Distribution;
  /** The same for a user in one room, alternating with the other's connects. */
  establishedOneRoom: Distribution;
}

/** A new user in `rooms` rooms of two (each with a partner of its own, offline), and a new user in one. */
export async function createWideUsers(bench: Bench, rooms: number): Promise<{ wide: TestUser; narrow: TestUser }> {
  const { httpUrl } = bench.stack;
  const [wide, narrow, ...partners] = await createUsers(httpUrl, 'wide', rooms + 3);
  await inBatches(partners.slice(0, rooms), 5, (p) => createRoom(httpUrl, wide!, [p]));
  await createRoom(httpUrl, narrow!, [partners.at(-1)!]);
  await bench.settle();
  return { wide: wide!, narrow: narrow! };
}


/** `cycles` connects of each user, one at a time and alternating, each timed to its greeting and closed before the next. */
export async function measureWideConnects(bench: Bench, users: { wide: TestUser; narrow: TestUser }, rooms: number, cycles: number): Promise<WideConnect> {
  const times = { wide: [] as number[], narrow: [] as number[] };
  for (let i = 0; i < cycles; i++) {
    for (const which of ['wide', 'narrow'] as const) {
      const t0 = performance.now();
      const socket = await BenchSocket.open(bench.stack.wsUrl, users[which], 30_000);
      times[which].push(performance.now() - t0);
      await closeAndForget(bench, socket);
      await bench.settle();
    }
  }
  return { rooms, established: distribution(times.wide), establishedOneRoom: distribution(times.narrow) };
}
