import type http from 'node:http';
import path from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ENV } from '#shared/env.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** A URL prefix served from a directory. */
export interface Mount {
  prefix: string;
  dir: string;
}

/** Answers a GET or HEAD it has a file for (true), or leaves the request to the API (false). */
export type StaticHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;

/**
 * Files the local runtime serves beside the API: the client SDK under `/sdk/`, and the web app at
 * `/` (built in memory at start-up, with `/config.json` naming the APIs). Never part of the
 * deployed API (the route table stays the API); the gateway consults it for GETs before routing.
 * The SDK is built first when client/dist is missing or older than its sources, so `npm start`
 * works straight after `npm ci`.
 */
export async function staticFiles(opts: { build?: boolean; webApp?: boolean } = {}): Promise<StaticHandler> {
  const [, web] = await Promise.all([
    opts.build !== false && import('../../client/build.ts').then(({ ensureClientBuilt }) => ensureClientBuilt()),
    // The local WebSocket gateway serves the sockets at its @connections callback URL's origin.
    opts.webApp !== false && import('../../web/serve.ts').then(({ webAppFiles }) => webAppFiles({ wsUrl: () => (process.env[ENV.wsCallbackUrl] ?? '').replace(/^http/, 'ws') })),
  ]);
  const mounts: Mount[] = [{ prefix: '/sdk/', dir: path.join(root, 'client', 'dist') }];
  return async (req, res) => (await serve(mounts, req, res)) || (web ? web(req, res) : false);
}

async function serve(mounts: readonly Mount[], req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') return false;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://local').pathname);
  } catch {
    return false;
  }
  const mount = mounts.find((m) => pathname.startsWith(m.prefix));
  if (!mount) return false;
  const file = path.resolve(mount.dir, pathname.slice(mount.prefix.length));
  // Nothing outside the mounted directory, whatever `..` or encoded separators the path holds.
  if (!file.startsWith(mount.dir + path.sep)) return false;
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return false;
  const body = await readFile(file);
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': String(body.length),
    // Local development: always the file as built now.
    'cache-control': 'no-cache',
  });
  res.end(method === 'HEAD' ? undefined : body);
  return true;
}
