import { PNG } from 'pngjs';
import type { Locator } from 'playwright-core';
import { api } from '#test/support/clients.ts';
import { visible, type Person } from './browser.ts';

/** A token for a person the browser signed in, so a test can set the scene over the API. */
export async function tokenOf(appUrl: string, p: Pick<Person, 'userId' | 'name'>): Promise<string> {
  const res = await api<{ token: string }>(appUrl, 'POST', '/dev/token', { body: { userId: p.userId, displayName: p.name } });
  if (res.status !== 200) throw new Error(`dev/token: ${res.status}`);
  return res.body.token;
}

export const roomsNav = (p: Person) => p.page.getByRole('navigation', { name: 'Rooms' });
export const roomButton = (p: Person, name: string) => roomsNav(p).getByRole('button', { name: new RegExp(`^${escape(name)}(,|$)`) });
export const log = (p: Person) => p.page.getByRole('log', { name: 'Messages' });
/** The stored (not pending) message whose text contains `text`. */
export const message = (p: Person, text: string | RegExp) =>
  log(p)
    .locator('article:not(.pending)')
    .filter({ has: p.page.locator('.bubble', { hasText: text }) });
export const composer = (p: Person) => p.page.getByRole('textbox', { name: 'Message' });

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function openRoom(p: Person, name: string) {
  await roomButton(p, name).click();
  await visible(p.page.getByRole('heading', { name: new RegExp(escape(name)) }));
}

export async function say(p: Person, text: string) {
  await composer(p).fill(text);
  await composer(p).press('Enter');
}

/** Shows a message's action buttons (they appear on hover and focus) and returns the toolbar. */
export async function actionsOf(m: Locator): Promise<Locator> {
  await m.hover();
  return m.getByRole('toolbar', { name: 'Message actions' });
}

/**
 * Clicks one of a message's actions, as a person does: hover the message, click the button. A
 * message that moves away from under the pointer first (the log scrolled, a later message landed)
 * hides its toolbar again, so the hover is made again, as the person would, before the click is
 * given up on.
 */
export async function act(m: Locator, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const button = (await actionsOf(m)).getByRole('button', { name });
    try {
      await button.click({ timeout: 3_000 });
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}

/** The texts of the stored messages in the log, top to bottom. */
export async function texts(p: Person): Promise<string[]> {
  return log(p)
    .locator('article:not(.pending) .bubble')
    .evaluateAll((els) => els.map((e) => (e.textContent ?? '').trim()));
}

/** A small real PNG (the server checks signatures and decodes images for thumbnails). */
export function png(width = 96, height = 64): Buffer {
  const img = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      img.data[i] = (x * 255) / width;
      img.data[i + 1] = (y * 255) / height;
      img.data[i + 2] = 200;
      img.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(img);
}
