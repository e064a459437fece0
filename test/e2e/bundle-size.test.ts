import { describe, expect, it } from 'vitest';
import { buildWeb, gzippedSize } from '../../web/build.ts';

/** The app's JavaScript, SDK and Preact included, as the browser downloads it. */
const BUDGET_BYTES = 60 * 1024;

describe('the web app bundle', () => {
  it(`stays within ${BUDGET_BYTES / 1024} KB of gzipped JavaScript, SDK included, and loads nothing from elsewhere`, async () => {
    const assets = await buildWeb();
    const js = assets.filter((a) => a.path.endsWith('.js'));
    // The app, and the service worker that shows its Web Push notifications (counted in the budget too).
    expect(js.map((a) => a.path).sort()).toEqual(['/app.js', '/sw.js']);
    const app = js.find((a) => a.path === '/app.js')!;
    const text = Buffer.from(app.contents).toString('utf8');
    // The SDK is bundled in (its outbox keys and API paths), not fetched at run time.
    expect(text).toContain('clientMessageId');
    expect(text).toContain('/attachments');
    const size = await gzippedSize(assets, '.js');
    console.log(`web app JavaScript: ${(size / 1024).toFixed(1)} KB gzipped (${(app.contents.byteLength / 1024).toFixed(1)} KB minified), CSS ${((await gzippedSize(assets, '.css')) / 1024).toFixed(1)} KB gzipped`);
    expect(size).toBeLessThanOrEqual(BUDGET_BYTES);
    // Nothing from a CDN: every URL the page loads is its own.
    for (const a of assets.filter((x) => /\.(html|css)$/.test(x.path) || x.path === '/sw.js')) {
      expect(Buffer.from(a.contents).toString('utf8')).not.toMatch(/(src|href)=["']?https?:|url\(["']?https?:|@import/);
    }
  });
});
