import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { api } from '#test/support/clients.ts';
import { eventually, gone, launch, signIn, uid, visible, type Harness, type Person } from './browser.ts';
import { act, composer, message, openRoom, png, roomButton, roomsNav, say, tokenOf } from './support.ts';

const appUrl = inject('appUrl');
const shots = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const PHONE = { width: 375, height: 740 };

/**
 * The phone layout (375 px) and dark theme, and the README's screenshots: Ann on a desktop (light,
 * then dark), Bo on a phone, in a room with replies, reactions, a mention, an image and typing.
 */
describe('the web app at 375 px and in dark mode', () => {
  let h: Harness;
  let ann: Person;
  let bo: Person;
  // Each run has its own in-memory runtime, so the plain name is unique there.
  const room = 'Design review';

  beforeAll(async () => {
    h = await launch();
    ann = await signIn(h, appUrl, 'Ann Lee');
    bo = await signIn(h, appUrl, 'Bo Park', { viewport: PHONE });
    await mkdir(shots, { recursive: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('shows one pane at a time on a phone, without sideways scrolling', async () => {
    const token = await tokenOf(appUrl, ann);
    const cy = { userId: uid('cy'), name: 'Cy Diaz' };
    const cyToken = await tokenOf(appUrl, cy);
    const created = await api(appUrl, 'POST', '/rooms', { token, body: { type: 'group', name: room, memberIds: [bo.userId, cy.userId] } });
    expect(created.status).toBe(201);
    const roomId: string = created.body.id;
    await api(appUrl, 'POST', '/rooms', { token, body: { type: 'direct', memberIds: [bo.userId] } });
    const post = (t: string, content: string, extra: object = {}) => api(appUrl, 'POST', `/rooms/${roomId}/messages`, { token: t, body: { content, ...extra } });
    const first = await post(token, 'Morning! The new onboarding flow is ready for review 🎉');
    await post(cyToken, `I pushed the copy changes — <@${ann.userId}> can you check step 3?`);
    await api(appUrl, 'PUT', `/rooms/${roomId}/messages/${first.body.id}/reactions/${encodeURIComponent('🎉')}`, { token: cyToken });

    // Phone: the room list fills the screen; a room replaces it, with a way back.
    await visible(roomButton(bo, room));
    expect(await bo.page.getByRole('region', { name: room }).count()).toBe(0);
    await openRoom(bo, room);
    expect(await roomsNav(bo).isVisible()).toBe(false);
    await visible(bo.page.getByRole('button', { name: 'Back to rooms' }));
    await act(message(bo, 'onboarding flow'), 'Reply');
    await say(bo, 'Looks great. One question about the last screen');
    await visible(message(bo, 'One question about the last screen'));
    await bo.page.getByRole('button', { name: 'Members' }).click();
    const panel = bo.page.getByRole('complementary', { name: 'Members' });
    await visible(panel.getByRole('listitem', { name: /^Ann Lee, admin/ }));
    await panel.getByRole('button', { name: 'Close members' }).click();
    await gone(panel);
    // prefers-reduced-motion: no smooth scrolling or arrival animation unless motion is welcome.
    const scrolling = () => bo.page.getByRole('log', { name: 'Messages' }).evaluate((el) => (globalThis as any).getComputedStyle(el).scrollBehavior as string);
    expect(await scrolling()).toBe('auto');
    await bo.page.emulateMedia({ reducedMotion: 'no-preference' });
    expect(await scrolling()).toBe('smooth');
    await bo.page.emulateMedia({ reducedMotion: 'reduce' });

    const overflow = await bo.page.evaluate(() => {
      const w: any = globalThis;
      return (w.document.documentElement.scrollWidth as number) - (w.innerWidth as number);
    });
    expect(overflow).toBeLessThanOrEqual(0);

    // Ann, on a desktop, sees the room, answers with an image, reacts.
    await openRoom(ann, room);
    await ann.page.getByLabel('Choose files to attach').setInputFiles({ name: 'onboarding-step-3.png', mimeType: 'image/png', buffer: png(320, 200) });
    await visible(ann.page.getByRole('button', { name: 'Remove onboarding-step-3.png' }));
    await say(ann, 'Here is the last screen');
    await visible(message(bo, 'Here is the last screen').getByRole('img', { name: 'onboarding-step-3.png' }));
    await eventually(() => message(ann, 'Here is the last screen').getByRole('img').getAttribute('src'), 30_000).toContain('thumbs');
    await act(message(ann, 'One question'), 'Add reaction');
    await message(ann, 'One question').getByRole('button', { name: 'React with 👍' }).click();
    await visible(message(bo, 'One question').getByRole('button', { name: '👍 1' }));
    await ann.page.mouse.move(0, 0);
  });

  it('takes the screenshots: desktop light, desktop dark, phone', async () => {
    // Bo starts typing, so the typing line shows in the pictures.
    await composer(bo).pressSequentially('Love it', { delay: 10 });
    await eventually(() => ann.page.getByRole('status', { name: 'Typing' }).textContent()).toBe('Bo Park is typing…');
    await ann.page.screenshot({ path: path.join(shots, 'desktop-light.png') });

    const dark = await signIn(h, appUrl, 'Ann Lee', { userId: ann.userId, colorScheme: 'dark' });
    await openRoom(dark, room);
    await visible(message(dark, 'Here is the last screen').getByRole('img'));
    const bg = await dark.page.evaluate(() => {
      const w: any = globalThis;
      return w.getComputedStyle(w.document.body).backgroundColor as string;
    });
    expect(bg).toBe('rgb(22, 24, 29)');
    // A page opened while Bo types: from GET /rooms/{id}/typing when it opened the room, or his next refresh.
    // He goes on typing until it shows: his client's stop, 5 s after 'Love it', may reach the page
    // after the start his next key sent (the gateway runs a connection's frames concurrently).
    let pressed = 0;
    await eventually(async () => {
      if (Date.now() - pressed >= 1_000) {
        pressed = Date.now();
        await composer(bo).press('!');
      }
      return dark.page.getByRole('status', { name: 'Typing' }).textContent();
    }).toBe('Bo Park is typing…');
    await dark.page.screenshot({ path: path.join(shots, 'desktop-dark.png') });

    await composer(bo).fill('');
    await bo.page.screenshot({ path: path.join(shots, 'mobile.png') });
    for (const name of ['desktop-light.png', 'desktop-dark.png', 'mobile.png']) {
      expect((await stat(path.join(shots, name))).size).toBeGreaterThan(10_000);
    }
  });
});
