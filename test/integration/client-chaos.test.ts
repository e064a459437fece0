import { describe, expect, inject, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import { api, createUser, eventually } from '#test/support/clients.ts';
import { LossyNetwork } from '#test/support/lossy-network.ts';
import { Recorder, roomHistory, sdkClient, sleep } from '#test/support/sdk.ts';

const httpUrl = inject('httpUrl');
const wsUrl = inject('wsUrl');

const CLIENTS = 30;
const SENDS_EACH = 4;
/** Sends are spread over this window, sockets cut every CUT_EVERY_MS until the last is stored. */
const CHAOS_MS = 5_000;
const CUT_EVERY_MS = 400;
/** `PARLEY_CHAOS_RUNS=20` repeats the test (fresh users and room each time) against one runtime. */
const RUNS = Number(process.env.PARLEY_CHAOS_RUNS ?? 1);

describe('SDK chaos', () => {
  it.each(Array.from({ length: RUNS }, (_, i) => i + 1))(
    `run %i: ${CLIENTS} clients send while their sockets are cut at random and a tenth of sends or answers are lost: 0 lost, 0 doubled, in order, every stream equals the room's history`,
    async (run) => {
      const users = await Promise.all(Array.from({ length: CLIENTS }, () => createUser(httpUrl, 'chaos')));
      const created = await api(httpUrl, 'POST', '/rooms', { token: users[0]!.token, body: { type: 'group', name: 'chaos', memberIds: users.slice(1).map((u) => u.userId) } });
      expect(created.status).toBe(201);
      const roomId: string = created.body.id;

      const net = await new LossyNetwork(httpUrl, wsUrl).start();
      net.lossyRequest = (method, path) => method === 'POST' && path.includes('/messages');
      net.loseRequest = 0.1;
      net.loseResponse = 0.1;
      const clients: ParleyClient[] = [];
      const recorders: Recorder[] = [];
      let chaos: ReturnType<typeof setInterval> | undefined;
      try {
        for (const user of users) {
          const c = sdkClient(user, net, { backoff: { baseMs: 100, capMs: 1_000 }, recheckIntervalMs: 2_000 });
          clients.push(c);
          recorders.push(new Recorder(c));
        }
        await Promise.all(clients.map((c) => c.connect()));

        const started = Date.now();
        let kills = 0;
        chaos = setInterval(() => {
          if (net.killOne()) kills++;
        }, CUT_EVERY_MS);
        const outs = clients.map((c, i) =>
          (async () => {
            const mine = [];
            for (let n = 0; n < SENDS_EACH; n++) {
              await sleep(Math.random() * (CHAOS_MS / SENDS_EACH));
              mine.push(c.send(roomId, { content: `${i}:${n}` }));
            }
            return Promise.all(mine.map((o) => o.sent.then((m) => ({ cmid: o.clientMessageId, id: m.id }))));
          })(),
        );
        const sent = (await Promise.all(outs)).flat();
        clearInterval(chaos);
        const sentAt = Date.now() - started;
        const total = CLIENTS * SENDS_EACH;

        const history = await roomHistory(httpUrl, users[0]!.token, roomId);
        // 0 lost, 0 doubled: exactly one stored message per send, seqs 1…N without holes.
        expect(history.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, k) => k + 1));
        expect(new Set(history.map((m) => m.clientMessageId)).size).toBe(total);
        expect(new Set(sent.map((s) => s.cmid))).toEqual(new Set(history.map((m) => m.clientMessageId)));
        // Each client's sends stored in the order it made them.
        for (let i = 0; i < CLIENTS; i++) {
          expect(history.filter((m) => m.content.startsWith(`${i}:`)).map((m) => m.content)).toEqual(Array.from({ length: SENDS_EACH }, (_, n) => `${i}:${n}`));
        }
        // Every client saw exactly the room's history, once each, in seq order.
        const ids = history.map((m) => m.id);
        await eventually(
          () => {
            for (const r of recorders) expect(r.inRoom(roomId).map((m) => m.id)).toEqual(ids);
          },
          15_000,
          200,
        );
        for (const c of clients) expect(c.pending()).toEqual([]);
        const reconnects = recorders.reduce((n, r) => n + r.states.filter((s) => s === 'reconnecting').length, 0);
        console.log(
          `[sdk chaos] run ${run}: ${total} messages, ${CLIENTS} clients, ${kills} sockets cut, ${reconnects} reconnects, ${net.connections.length} connections; ` +
            `all stored after ${sentAt} ms, every stream complete after ${Date.now() - started} ms`,
        );
      } finally {
        clearInterval(chaos);
        await Promise.all(clients.map((c) => c.close()));
        await net.stop();
      }
    },
    180_000,
  );
});
