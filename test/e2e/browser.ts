import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterEach, expect } from 'vitest';

/** Debian's Chromium; never a downloaded browser. `PARLEY_CHROMIUM` points elsewhere. */
export const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Harness {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * One Chromium for a test file. `launch` gives it a fresh temporary profile directory (and
 * removes it on close); each person then gets an isolated context of their own.
 */
export async function launch(): Promise<Harness> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  return { browser, close: () => browser.close() };
}

export interface Person {
  userId: string;
  name: string;
  context: BrowserContext;
  page: Page;
}

/** A unique user id per test run, so files and reruns never share rooms or people. */
export const uid = (name: string) => `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/**
 * A person in their own browser context (own storage, own network switch), signed in through
 * the app's sign-in form. `viewport` 375 wide is the phone layout.
 */
export async function signIn(
  h: Harness,
  appUrl: string,
  name: string,
  opts: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark'; userId?: string; context?: BrowserContext } = {},
): Promise<Person> {
  // A context of its own (another browser profile), unless given one: then a new tab in it.
  const context =
    opts.context ??
    (await h.browser.newContext({
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      colorScheme: opts.colorScheme ?? 'light',
      reducedMotion: 'reduce',
    }));
  const page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  page.on('pageerror', (err) => console.error(`[${name}] page error:`, err));
  const userId = opts.userId ?? uid(name);
  await page.goto(appUrl);
  await page.getByLabel('User id').fill(userId);
  await page.getByLabel('Display name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await visible(page.getByRole('navigation', { name: 'Rooms' }));
  await connected(page);
  return { userId, name, context, page };
}

/** Waits for the connection banner to say the client is live. */
export const connected = (page: Page, timeout = 20_000) =>
  page.getByRole('status', { name: 'Connection' }).filter({ hasText: /^Connected$/ }).waitFor({ state: 'attached', timeout });

/** Asks again until the page agrees or the timeout passes: a condition, never a sleep. */
export const eventually = <T>(read: () => T | Promise<T>, timeout = 15_000) => expect.poll(read, { timeout, interval: 100 });

export const visible = (locator: Locator, timeout = 15_000) => locator.waitFor({ state: 'visible', timeout });
export const gone = (locator: Locator, timeout = 15_000) => locator.waitFor({ state: 'detached', timeout });

/**
 * After a failed test, prints what each person's page shows (the connection banner, the
 * composer, every message in the log with its state), so that a failure in CI explains itself.
 */
export function reportPagesOnFailure(people: () => (Person | undefined)[]) {
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const p of people()) {
      if (!p) continue;
      const seen = await p.page
        .evaluate(() => {
          // The page's own globals (this file is compiled without the DOM's types).
          const { document: d, location } = globalThis as unknown as { document: any; location: { hash: string } };
          return {
            at: location.hash,
            connection: d.querySelector('[role=status][aria-label=Connection]')?.textContent,
            composer: d.querySelector('textarea[aria-label=Message]')?.value,
            log: [...d.querySelectorAll('[role=log] article')].map((a: any) => `${a.className || '-'} | ${(a.textContent ?? '').trim()}`),
          };
        })
        .catch((err: unknown) => String(err));
      console.error(`[${p.name}] the page after the failure:`, JSON.stringify(seen, null, 1));
    }
  });
}
