import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { bundleClient, bundleDeclarations } from '../../client/build.ts';
import { ParleyApi } from '../../client/api.ts';
import { httpRoutes } from '#infra/routes.ts';

/** The budget: below socket.io-client (11.5 KB) and Ably (28 KB), minified and gzipped. */
const MAX_GZIP_BYTES = 8 * 1024;

describe('SDK package', () => {
  it(`is one ES module of at most ${MAX_GZIP_BYTES} bytes minified and gzipped, built from client/ alone (no runtime dependency)`, async () => {
    const { code, inputs } = await bundleClient();
    const gz = gzipSync(code, { level: 9 }).length;
    console.log(`[sdk] parley-client.js: ${code.length} bytes minified, ${gz} bytes gzipped`);
    expect(gz).toBeLessThanOrEqual(MAX_GZIP_BYTES);
    expect(inputs.every((f) => /^client\/[\w-]+\.ts$/.test(f))).toBe(true);
    expect(code).not.toMatch(/(^|[;}\n])import\s*[\w{*"']/);
    expect(code).not.toMatch(/\brequire\(/);
    const mod = await import(`data:text/javascript,${encodeURIComponent(code)}`);
    expect(typeof mod.ParleyClient).toBe('function');
    expect(typeof mod.memoryStorage).toBe('function');
  });

  it('its .d.ts stands alone: a consumer type-checks against it with no other module', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-dts-'));
    try {
      writeFileSync(path.join(dir, 'parley-client.d.ts'), bundleDeclarations());
      writeFileSync(
        path.join(dir, 'app.ts'),
        [
          "import { ParleyClient, memoryStorage, type Message, type ClientState } from './parley-client.js';",
          "const c = new ParleyClient({ httpUrl: 'h', wsUrl: 'w', getToken: async () => 't', storage: memoryStorage() });",
          "c.on('message', (m: Message) => m.seq + m.content.length);",
          "c.on('state', (s: ClientState) => s === 'live');",
          "c.on('user_typing', (f) => f.displayName.toUpperCase());",
          "const out = c.send('r', { content: 'hi', metadata: { a: 1 } });",
          'void out.sent.then((m) => m.clientMessageId);',
          "void c.api.listRooms().then((p) => p.items[0]?.room.lastSeq.toFixed());",
          "void c.api.listMessages('r', { afterSeq: 3 }).then((p) => (p.nextCursor ? c.api.listMessages('r', { cursor: p.nextCursor, limit: 10 }) : p));",
          "void c.api.listChanges('r', { since: new Date().toISOString() }).then((p) => c.api.listChanges('r', { since: p.cursor }));",
          "// @ts-expect-error: a cursor is a string",
          "void c.api.listMessages('r', { cursor: 5 });",
          "// @ts-expect-error: a typo'd event is a type error",
          "c.on('mesage', () => 1);",
        ].join('\n'),
      );
      const program = ts.createProgram([path.join(dir, 'app.ts')], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
        types: [],
      });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('client.api has a method for every end-user route of the route table', async () => {
    const called: string[] = [];
    const api = new ParleyApi({
      httpUrl: 'http://api.test/',
      token: async () => 't',
      fetch: (async (url: URL, init: RequestInit) => {
        called.push(`${init.method} ${url.pathname}`);
        return new Response('{}', { status: 200 });
      }) as unknown as typeof fetch,
    });
    const calls: Record<keyof ParleyApi, () => Promise<unknown>> = {
      request: () => api.request('GET', '/health', { auth: false }),
      health: () => api.health(),
      me: () => api.me(),
      listRooms: () => api.listRooms(),
      createRoom: () => api.createRoom({ type: 'group', name: 'n' }),
      listPublicRooms: () => api.listPublicRooms(),
      getRoom: () => api.getRoom('r'),
      updateRoom: () => api.updateRoom('r', { name: 'x' }),
      archiveRoom: () => api.archiveRoom('r'),
      joinRoom: () => api.joinRoom('r'),
      listMembers: () => api.listMembers('r'),
      addMember: () => api.addMember('r', { userId: 'u' }),
      setRole: () => api.setRole('r', 'u', 'moderator'),
      removeMember: () => api.removeMember('r', 'u'),
      listMessages: () => api.listMessages('r', { afterSeq: 1 }),
      sendMessage: () => api.sendMessage('r', { content: 'c' }),
      getMessage: () => api.getMessage('r', 'm'),
      editMessage: () => api.editMessage('r', 'm', 'c'),
      deleteMessage: () => api.deleteMessage('r', 'm'),
      addReaction: () => api.addReaction('r', 'm', '👍'),
      removeReaction: () => api.removeReaction('r', 'm', '👍'),
      markRead: () => api.markRead('r', 'm'),
      listChanges: () => api.listChanges('r', { since: new Date(0).toISOString() }),
      unread: () => api.unread(),
      listTyping: () => api.listTyping('r'),
      getPresence: () => api.getPresence(['u']),
      setPresence: () => api.setPresence('away'),
      createAttachment: () => api.createAttachment('r', { fileName: 'f', contentType: 'text/plain', size: 1 }),
      search: () => api.search({ q: 'x' }),
      getPreferences: () => api.getPreferences(),
      setPreferences: () => api.setPreferences('all'),
      getRoomPreferences: () => api.getRoomPreferences('r'),
      setRoomPreferences: () => api.setRoomPreferences('r', { mutedUntil: null }),
      vapidKey: () => api.vapidKey(),
      subscribePush: () => api.subscribePush({ endpoint: 'https://push.example.com/x', keys: { p256dh: 'p', auth: 'a' } }),
      unsubscribePush: () => api.unsubscribePush('https://push.example.com/x'),
    };
    for (const call of Object.values(calls)) await call();
    // The service routes are SigV4-signed by the host platform's back end, never called by end users.
    const userRoutes = httpRoutes.filter((r) => r.auth !== 'iam');
    const uncovered = userRoutes.filter((r) => {
      const pattern = new RegExp(`^${r.method} ${r.path.replace(/\{\w+\}/g, '[^/]+')}$`);
      return !called.some((c) => pattern.test(c));
    });
    expect(uncovered.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    // Every public method of ParleyApi is in the list above (a new one must be added here too).
    const methods = Object.getOwnPropertyNames(ParleyApi.prototype).filter((m) => m !== 'constructor');
    expect(methods.sort()).toEqual(Object.keys(calls).sort());
  });
});
