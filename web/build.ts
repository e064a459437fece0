import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const webDir = path.dirname(fileURLToPath(import.meta.url));

/** One file of the built app: its path under the site root and its bytes. */
export interface WebAsset {
  path: string;
  contentType: string;
  contents: Uint8Array;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/**
 * Bundles the web app (web/src, with the SDK from client/ and Preact) into `index.html`,
 * `app.js` and `app.css`, in memory. `npm start` serves the result, `npm run build:web` writes it
 * to web/dist/, and the CDK stack uploads it to the site bucket.
 */
export async function buildWeb(opts: { minify?: boolean } = {}): Promise<WebAsset[]> {
  const result = await esbuild.build({
    entryPoints: { app: path.join(webDir, 'src/main.tsx') },
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox113', 'safari16'],
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: opts.minify ?? true,
    legalComments: 'none',
    write: false,
    outdir: '/',
    logLevel: 'silent',
  });
  const assets: WebAsset[] = result.outputFiles.map((f) => ({
    path: `/${path.basename(f.path)}`,
    contentType: TYPES[path.extname(f.path)] ?? 'application/octet-stream',
    contents: f.contents,
  }));
  for (const file of ['index.html', 'icon.svg', 'sw.js']) {
    assets.push({ path: `/${file}`, contentType: TYPES[path.extname(file)]!, contents: await readFile(path.join(webDir, file)) });
  }
  return assets;
}

/** The app's JavaScript and CSS gzipped, in bytes: the budget the tests hold it to. */
export async function gzippedSize(assets: WebAsset[], ext: string): Promise<number> {
  const { gzipSync } = await import('node:zlib');
  return assets.filter((a) => a.path.endsWith(ext)).reduce((n, a) => n + gzipSync(a.contents, { level: 9 }).length, 0);
}

// `npm run build:web [dir]`: writes the app to web/dist/ (or dir: the CDK stack's asset folder) and says its size.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const out = path.resolve(process.argv[2] ?? path.join(webDir, 'dist'));
  const assets = await buildWeb();
  await mkdir(out, { recursive: true });
  for (const a of assets) await writeFile(path.join(out, a.path), a.contents);
  console.log(`${path.relative(process.cwd(), out) || '.'}: ${assets.map((a) => a.path).join(' ')}; app.js ${((await gzippedSize(assets, '.js')) / 1024).toFixed(1)} KB gzipped`);
}
