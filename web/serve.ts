import type http from 'node:http';
import { buildWeb, type WebAsset } from './build.ts';

/**
 * The web app as the local runtime serves it: built in memory at start-up (esbuild, well under a
 * second), `/` and its assets, and `/config.json` telling the app where the APIs are and that it
 * signs in through the dev issuer. Returns false for anything else, which goes on to the API.
 */
export async function webAppFiles(opts: { wsUrl: () => string }): Promise<(req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>> {
  const assets = new Map<string, WebAsset>((await buildWeb()).map((a) => [a.path, a]));
  const index = assets.get('/index.html')!;
  assets.set('/', index);
  return async (req, res) => {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return false;
    const pathname = new URL(req.url ?? '/', 'http://local').pathname;
    let asset = assets.get(pathname);
    if (pathname === '/config.json') {
      // The browser reached this server by some host name; the API is on the same one.
      const host = req.headers.host ?? '127.0.0.1';
      const wsUrl = new URL(opts.wsUrl());
      if (wsUrl.hostname === '127.0.0.1' || wsUrl.hostname === 'localhost') wsUrl.hostname = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
      const body = { httpUrl: `http://${host}/`, wsUrl: wsUrl.toString(), auth: { kind: 'dev' } };
      asset = { path: pathname, contentType: 'application/json', contents: Buffer.from(JSON.stringify(body)) };
    }
    if (!asset) return false;
    res.writeHead(200, {
      'content-type': asset.contentType,
      'content-length': String(asset.contents.byteLength),
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(method === 'HEAD' ? undefined : asset.contents);
    return true;
  };
}
