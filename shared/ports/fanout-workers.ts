/**
 * One worker's share of a fan-out: distinct frames, serialized once, and the connections to post
 * them to (`[connectionId, userId, index into frames]`).
 */
export interface FanOutChunk {
  frames: string[];
  targets: [connectionId: string, userId: string, frame: number][];
}

/** Parallel workers a large fan-out is split across (a function invoked once per chunk, in AWS). */
export interface FanOutWorkers {
  /** Connections one delivery posts to itself; beyond, it is split into chunks of this many. */
  chunkSize: number;
  /** Runs every chunk at once and resolves when all are posted; rejects when one failed. */
  run(chunks: FanOutChunk[]): Promise<{ sent: number; gone: number }[]>;
}
