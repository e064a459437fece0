import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allWirings, createDeps, withAttachments, withConnections, withWorkers } from '#functions/lib/compose.ts';
import type { DepsConfig } from '#functions/lib/config.ts';
import { configureDeps, containersBy, getDeps, withCursors, withTyping } from '#functions/lib/deps.ts';
import { ENV } from '#shared/env.ts';
import { RATE_DEFAULTS } from '#shared/domain/rate-limit.ts';

/**
 * The composition root builds a function's optional ports only where its handler passes their
 * wiring (no request is made here: the stores are built, not called).
 */

const config = (extra: Partial<DepsConfig> = {}): DepsConfig => ({
  tableName: 'parley-test',
  wsCallbackUrl: 'http://127.0.0.1:1',
  settings: { maxContentLength: 4000, editWindowSeconds: 0, maxReactionsPerMessage: 50, searchScanBudget: 100, rateLimits: RATE_DEFAULTS },
  cursorKey: async () => new Uint8Array(32),
  ...extra,
});
const bucket: Pick<DepsConfig, 'attachments'> = {
  attachments: {
    bucketName: 'parley-test',
    pathStyle: true,
    settings: { maxBytes: 1, allowedTypes: ['image/png'], uploadUrlSeconds: 1, downloadUrlSeconds: 1, unattachedSeconds: 1 },
  },
};

describe('composition', () => {
  const saved = { ...process.env };
  // The functions' own DynamoDB client wants a region to be built (it makes no request here).
  beforeEach(() => void (process.env.AWS_REGION = 'us-east-1'));
  afterEach(() => {
    configureDeps({});
    process.env = { ...saved };
  });

  it('gives a port the function did not compose as one that throws at its first use, naming it', () => {
    const { deps, clients } = createDeps(config(bucket));
    try {
      expect(() => deps.connections.getPresence(['ann'])).toThrow(/The connections port is not composed for this function/);
      expect(() => deps.typing.listTyping('r')).toThrow(/The typing port is not composed/);
      expect(() => deps.broadcaster.disconnect('c')).toThrow(/The broadcaster port is not composed/);
      expect(() => deps.cursorKey()).toThrow(/The cursorKey port is not composed/);
      // Only the functions that add members write copies of their preferences.
      expect(() => deps.levelCopies.sources('r', ['ann'], { withRoom: true })).toThrow(/The levelCopies port is not composed/);
      // Only the routes that take a write or search budget: a send's rides on the seat.
      expect(() => deps.rateLimiter.take('ann', 'write', { limit: 1, windowSeconds: 1 })).toThrow(/The rateLimiter port is not composed/);
      // Configured (a bucket) but not composed: the first read of it throws, rather than a message losing its URLs quietly.
      expect(() => deps.attachments!.blobs).toThrow(/The attachments port is not composed/);
      // Core ports are always there.
      expect(typeof deps.rooms.getRoom).toBe('function');
      expect(typeof deps.messages.listMessages).toBe('function');
    } finally {
      clients.dynamo.destroy();
    }
  });

  it('builds what the wirings name, and leaves absent what the deployment does not configure', () => {
    const composed = createDeps(config(bucket), {}, undefined, [withConnections, withAttachments]);
    const bare = createDeps(config({ fanoutWorkers: { functionName: 'w', chunkSize: 10 } }), {}, undefined, [withAttachments]);
    const all = createDeps(config({ ...bucket, fanoutWorkers: { functionName: 'w', chunkSize: 10 } }), {}, undefined, allWirings);
    try {
      expect(typeof composed.deps.connections.getPresence).toBe('function');
      expect(typeof composed.deps.attachments!.blobs.presignGet).toBe('function');
      expect(() => composed.deps.typing.listTyping('r')).toThrow(/typing port/);
      // No bucket: no attachments, as before (sends with attachments are refused); no workers unless composed.
      expect(bare.deps.attachments).toBeUndefined();
      expect(bare.deps.workers).toBeUndefined();
      expect(all.deps.workers?.chunkSize).toBe(10);
      for (const port of ['connections', 'typing', 'broadcaster', 'attachments', 'levelCopies', 'rateLimiter'] as const) expect(() => Object.keys(all.deps[port]!)).not.toThrow();
    } finally {
      for (const { clients } of [composed, bare, all]) clients.dynamo.destroy();
    }
  });

  describe('getDeps', () => {
    it('gives each function exactly the ports its handler asks for, also when functions share one process', async () => {
      process.env[ENV.tableName] = 'parley-test';
      process.env[ENV.wsCallbackUrl] = 'http://127.0.0.1:1';
      configureDeps({});
      const typing = getDeps(withTyping);
      const plain = getDeps();
      // Composed once per set of wirings (a container reuses it), the order of the wirings aside.
      expect(getDeps(withTyping)).toBe(typing);
      expect(getDeps(withConnections, withTyping)).toBe(getDeps(withTyping, withConnections));
      // The parts and core are shared within a container, whatever composes them.
      expect(getDeps(withConnections, withTyping).typing).toBe(typing.typing);
      expect(plain.rooms).toBe(typing.rooms);
      // A function composed without typing does not get another's.
      expect(() => plain.typing.listTyping('r')).toThrow(/typing port/);
      expect(getDeps(withWorkers).workers).toBeUndefined();
      // The cursor key of a function that pages: the environment's, read on first use.
      process.env[ENV.cursorKey] = Buffer.alloc(32, 1).toString('base64url');
      expect(Buffer.from(await getDeps(withCursors).cursorKey())).toEqual(Buffer.alloc(32, 1));
    });

    it('gives each container its own ports, where a host runs several functions in one process', () => {
      process.env[ENV.tableName] = 'parley-test';
      process.env[ENV.wsCallbackUrl] = 'http://127.0.0.1:1';
      let running: string | undefined = 'ws-typing';
      containersBy(() => running);
      try {
        const typing = getDeps(withConnections, withTyping);
        expect(getDeps(withTyping, withConnections) === typing).toBe(true);
        running = 'ws-connect';
        const connect = getDeps(withConnections);
        // As in Lambda, what one function's stores keep (the live lists' marker, member ids) is not another's.
        expect(connect.connections).not.toBe(typing.connections);
        expect(connect.rooms).not.toBe(typing.rooms);
        // (Compared as booleans: printing a composition reads its absent ports, which throw.)
        expect(getDeps(withConnections, withTyping) === typing).toBe(false);
        running = 'ws-typing';
        expect(getDeps(withConnections, withTyping) === typing).toBe(true);
        // The host's own calls (no invocation running) have a container too.
        running = undefined;
        expect(getDeps(withConnections).connections).not.toBe(connect.connections);
        // configureDeps drops every container's ports.
        running = 'ws-typing';
        configureDeps({});
        expect(getDeps(withConnections, withTyping) === typing).toBe(false);
      } finally {
        containersBy(() => undefined);
      }
    });
  });
});
