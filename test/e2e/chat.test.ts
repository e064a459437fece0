import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import jpeg from 'jpeg-js';
import { api } from '#test/support/clients.ts';
import { exifTiff, jpegWithExif } from '#test/support/exif.ts';
import { eventually, gone, launch, reportPagesOnFailure, signIn, uid, visible, type Harness, type Person } from './browser.ts';
import { act, actionsOf, composer, log, message, openRoom, png, roomButton, say, texts, tokenOf } from './support.ts';

const appUrl = inject('appUrl');

/** Two people, Ann and Bo, each in their own browser context, walk through the app. */
describe('the web app, two people on desktop', () => {
  let h: Harness;
  let ann: Person;
  let bo: Person;
  const team = `Team ${uid('t').slice(-6)}`;

  beforeAll(async () => {
    h = await launch();
    [ann, bo] = await Promise.all([signIn(h, appUrl, 'Ann'), signIn(h, appUrl, 'Bo')]);
  });
  afterAll(async () => {
    await h?.close();
  });
  reportPagesOnFailure(() => [ann, bo]);

  it('creates a direct room; the other person sees it with a preview, an unread badge and a presence dot', async () => {
    await ann.page.getByRole('button', { name: 'New room' }).click();
    const dialog = ann.page.getByRole('dialog', { name: 'New room' });
    await dialog.getByLabel('Person (user id)').fill(bo.userId);
    await dialog.getByRole('button', { name: 'Create' }).click();
    await gone(dialog);
    await visible(ann.page.getByRole('heading', { name: 'Bo' }));
    await say(ann, 'Hi Bo, first message');
    await visible(message(ann, 'Hi Bo, first message'));

    const annInBo = roomButton(bo, 'Ann');
    await visible(annInBo);
    await eventually(() => annInBo.getAttribute('aria-label')).toBe('Ann, Online, 1 unread');
    await eventually(() => annInBo.textContent()).toContain('Ann: Hi Bo, first message');
    await eventually(() => bo.page.title()).toBe('(1) Parley');
    await eventually(() => roomButton(ann, 'Bo').getAttribute('aria-label')).toBe('Bo, Online');

    await openRoom(bo, 'Ann');
    await visible(message(bo, 'Hi Bo, first message'));
    await eventually(() => annInBo.getAttribute('aria-label')).toBe('Ann, Online');
  });

  it('shows "seen by" once the other person has read, and the typing indicator while they type', async () => {
    await openRoom(ann, 'Bo');
    await visible(ann.page.getByText('Seen by Bo'));
    await composer(bo).pressSequentially('Typing something', { delay: 10 });
    await eventually(() => ann.page.getByRole('status', { name: 'Typing' }).textContent()).toBe('Bo is typing…');
    await composer(bo).press('Enter');
    await visible(message(ann, 'Typing something'));
    await eventually(() => ann.page.getByRole('status', { name: 'Typing' }).textContent()).toBe('');
  });

  it('creates a group with members picked, and sends with an optimistic echo', async () => {
    await ann.page.getByRole('button', { name: 'New room' }).click();
    const dialog = ann.page.getByRole('dialog', { name: 'New room' });
    await dialog.getByRole('radio', { name: 'Group' }).check();
    await dialog.getByLabel('Group name').fill(team);
    await dialog.getByLabel('Add a member (user id)').fill(bo.userId);
    await dialog.getByRole('button', { name: 'Add', exact: true }).click();
    await visible(dialog.getByRole('list', { name: 'Members to add' }).getByText(bo.name));
    await dialog.getByRole('button', { name: 'Create' }).click();
    await visible(ann.page.getByRole('heading', { name: `# ${team}` }));

    // The copy shows at once, before the server answered; then the stored message replaces it.
    // The answer can replace the copy within one frame, so the page records each pending copy as
    // it is rendered (a DOM observer) rather than the test polling for it.
    await composer(ann).fill('Welcome to the team');
    await ann.page.evaluate(`(() => {
      const seen = (window.__pendingSeen = []);
      new MutationObserver(() => {
        for (const a of document.querySelectorAll('article.pending')) seen.push(a.textContent);
      }).observe(document.body, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['class'] });
    })()`);
    await composer(ann).press('Enter');
    await eventually(() => ann.page.evaluate(`window.__pendingSeen.some((t) => t.includes('Welcome to the team'))`)).toBe(true);
    await visible(message(ann, 'Welcome to the team'));
    await eventually(() => log(ann).locator('article.pending').count()).toBe(0);
    await eventually(() => texts(ann)).toEqual(['Welcome to the team']);

    await openRoom(bo, team);
    await visible(message(bo, 'Welcome to the team'));
  });

  it('replies, edits and deletes own messages', async () => {
    const original = message(bo, 'Welcome to the team');
    await act(original, 'Reply');
    await visible(bo.page.getByText('Replying to'));
    await say(bo, 'Glad to be here');
    const reply = message(ann, 'Glad to be here');
    await visible(reply);
    await eventually(() => reply.locator('.reply-ref').textContent()).toContain('Ann: Welcome to the team');

    await act(message(ann, 'Welcome to the team'), 'Edit');
    const edit = ann.page.getByRole('textbox', { name: 'Edit message' });
    await edit.fill('Welcome to the team, Bo');
    await edit.press('Enter');
    const edited = message(bo, 'Welcome to the team, Bo');
    await visible(edited);
    await visible(edited.getByText('(edited)'));

    await say(bo, 'A typo I regret');
    // Ann has it before it is deleted: otherwise its absence on her page would prove nothing.
    await visible(message(ann, 'A typo I regret'));
    await act(message(bo, 'A typo I regret'), 'Delete');
    await gone(message(ann, 'A typo I regret'));
    await visible(log(ann).getByText('This message was deleted.'));
  });

  it('reacts with emoji: both see the count, and one’s own reaction is pressed', async () => {
    await act(message(bo, 'Welcome to the team, Bo'), 'Add reaction');
    await message(bo, 'Welcome to the team, Bo').getByRole('button', { name: 'React with 👍' }).click();
    const onAnn = message(ann, 'Welcome to the team, Bo').getByRole('button', { name: '👍 1' });
    await visible(onAnn);
    expect(await onAnn.getAttribute('aria-pressed')).toBe('false');
    await onAnn.click();
    const both = message(bo, 'Welcome to the team, Bo').getByRole('button', { name: '👍 2' });
    await visible(both);
    expect(await both.getAttribute('aria-pressed')).toBe('true');
  });

  it('mentions a member through the autocomplete; the content carries <@userId>', async () => {
    await composer(ann).pressSequentially('Thanks @B', { delay: 10 });
    const options = ann.page.getByRole('listbox', { name: 'Mention someone' });
    await visible(options.getByRole('option', { name: new RegExp(`^${bo.name}`) }));
    // Picked with Enter and typed on at once, as a fast typist does: the caret must already be after the mention.
    await composer(ann).press('Enter');
    await composer(ann).pressSequentially('for coming');
    expect(await composer(ann).inputValue()).toBe('Thanks @Bo for coming');
    await composer(ann).press('Enter');
    const mentioned = message(bo, 'for coming');
    await visible(mentioned.locator('.mention', { hasText: '@Bo' }));

    const token = await tokenOf(appUrl, bo);
    const roomId = new URLSearchParams((await bo.page.evaluate(() => (globalThis as any).location.hash as string)).slice(1)).get('room')!;
    const history = await api(appUrl, 'GET', `/rooms/${roomId}/messages?limit=5`, { token });
    const stored = history.body.items.find((m: { content: string }) => m.content.includes('for coming'));
    expect(stored.content).toBe(`Thanks <@${bo.userId}> for coming`);
    expect(stored.mentions).toEqual([bo.userId]);
  });

  it('lists members with roles; an admin makes a moderator, who may delete anyone’s message, and a member may not', async () => {
    // Bo, a plain member, has no Delete on Ann's message.
    const annsOnBo = message(bo, 'for coming');
    const tools = await actionsOf(annsOnBo);
    await visible(tools.getByRole('button', { name: 'Reply' }));
    expect(await tools.getByRole('button', { name: 'Delete' }).count()).toBe(0);

    await ann.page.getByRole('button', { name: 'Members' }).click();
    const panel = ann.page.getByRole('complementary', { name: 'Members' });
    await visible(panel.getByRole('listitem', { name: new RegExp(`^${bo.name}, member`) }));
    await panel.getByRole('button', { name: `Make ${bo.name} a moderator` }).click();
    await visible(panel.getByRole('listitem', { name: new RegExp(`^${bo.name}, moderator`) }));

    await say(ann, 'Moderate this one');
    const target = message(bo, 'Moderate this one');
    await visible(target);
    // Ann's page shows it stored before it is deleted, so its going away there means something.
    await visible(message(ann, 'Moderate this one'));
    const seq = await message(ann, 'Moderate this one').getAttribute('data-seq');
    await eventually(async () => (await actionsOf(target)).getByRole('button', { name: 'Delete' }).count()).toBe(1);
    await act(target, 'Delete');
    await gone(message(ann, 'Moderate this one'));
    await visible(log(ann).locator(`article[data-seq="${seq}"]`).getByText('This message was deleted.'));

    // Adding and removing someone.
    const cy = uid('cy');
    await panel.getByRole('combobox', { name: 'User id to add' }).fill(cy);
    await panel.getByRole('button', { name: 'Add member' }).click();
    await visible(panel.getByRole('listitem', { name: new RegExp(`^${cy}, member`) }));
    await panel.getByRole('button', { name: `Remove ${cy}` }).click();
    await gone(panel.getByRole('listitem', { name: new RegExp(`^${cy},`) }));
    await panel.getByRole('button', { name: 'Close members' }).click();
  });

  it('sets a presence status that others see', async () => {
    await bo.page.getByRole('combobox', { name: 'Status' }).selectOption('busy');
    await eventually(() => roomButton(ann, 'Bo').getAttribute('aria-label')).toMatch(/^Bo, Busy/);
    await bo.page.getByRole('combobox', { name: 'Status' }).selectOption('online');
    await eventually(() => roomButton(ann, 'Bo').getAttribute('aria-label')).toMatch(/^Bo, Online/);
  });

  it('attaches by picker with upload progress, shows an image thumbnail, and downloads a file', async () => {
    await openRoom(ann, team);
    // Hold the upload at the store until the progress bar has been seen.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await ann.page.route(/\/uploads\//, async (route) => {
      await held;
      await route.continue();
    });
    const chooser = ann.page.waitForEvent('filechooser');
    await ann.page.getByRole('button', { name: 'Attach files' }).click();
    await (await chooser).setFiles([
      { name: 'chart.png', mimeType: 'image/png', buffer: png() },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('meeting notes\n') },
    ]);
    await visible(ann.page.getByRole('progressbar', { name: 'Uploading chart.png' }));
    release();
    await visible(ann.page.getByRole('button', { name: 'Remove notes.txt' }));
    await visible(ann.page.getByRole('button', { name: 'Remove chart.png' }));
    await ann.page.unroute(/\/uploads\//);
    await say(ann, 'The chart and the notes');

    const sent = message(bo, 'The chart and the notes');
    await visible(sent.getByRole('img', { name: 'chart.png' }));
    // The thumbnail is made after the send; the app reads the message again to show it (its last
    // read 22.5 s after the message came).
    await eventually(() => sent.getByRole('img', { name: 'chart.png' }).getAttribute('src'), 30_000).toContain('thumbs');
    const download = bo.page.waitForEvent('download');
    await sent.getByRole('link', { name: 'Download notes.txt' }).click();
    expect((await download).suggestedFilename()).toBe('notes.txt');
  });

  it('attaches by drag-and-drop and by paste', async () => {
    const bytes = [...png(40, 30)];
    // A drop as the browser delivers it from the desktop: a DataTransfer holding a File.
    await ann.page.evaluate((data) => {
      const w: any = globalThis;
      const dt = new w.DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], 'dropped.png', { type: 'image/png' }));
      const room = w.document.querySelector('section.room');
      room.dispatchEvent(new w.DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      room.dispatchEvent(new w.DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    await visible(ann.page.getByRole('button', { name: 'Remove dropped.png' }));
    await ann.page.evaluate(() => {
      const w: any = globalThis;
      const dt = new w.DataTransfer();
      dt.items.add(new File(['pasted text'], 'pasted.txt', { type: 'text/plain' }));
      const paste = new w.ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
      w.document.querySelector('textarea[aria-label="Message"]').dispatchEvent(paste);
    });
    await visible(ann.page.getByRole('button', { name: 'Remove pasted.txt' }));
    await say(ann, 'Dropped and pasted');
    const sent = message(bo, 'Dropped and pasted');
    await visible(sent.getByRole('img', { name: 'dropped.png' }));
    await visible(sent.getByRole('link', { name: 'Download pasted.txt' }));
  });

  it("gives an image its final box before it loads, from the size the sender's browser read (EXIF orientation applied)", async () => {
    await Promise.all([openRoom(ann, team), openRoom(bo, team)]);
    // Stored 300 × 150 and tagged orientation 6: a photo displayed 150 × 300.
    const stored = jpeg.encode({ width: 300, height: 150, data: Buffer.alloc(300 * 150 * 4, 180) }, 80).data;
    const photo = Buffer.from(jpegWithExif(new Uint8Array(stored), exifTiff(6)));
    const slot = ann.page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/attachments'));
    // Bo's browser gets no image bytes until the box has been measured.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await bo.page.route(/\/(files|thumbs)\//, async (route) => {
      await held;
      await route.continue();
    });
    try {
      const chooser = ann.page.waitForEvent('filechooser');
      await ann.page.getByRole('button', { name: 'Attach files' }).click();
      await (await chooser).setFiles([{ name: 'tall.jpg', mimeType: 'image/jpeg', buffer: photo }]);
      expect((await slot).postDataJSON()).toMatchObject({ fileName: 'tall.jpg', width: 150, height: 300 });
      await visible(ann.page.getByRole('button', { name: 'Remove tall.jpg' }));
      await say(ann, 'A tall photo');

      const img = message(bo, 'A tall photo').getByRole('img', { name: 'tall.jpg' });
      await img.waitFor({ state: 'attached', timeout: 15_000 });
      const boxOf = () =>
        img.evaluate((el: any) => {
          const r = el.getBoundingClientRect();
          return { loaded: el.complete && el.naturalWidth > 0, width: r.width, height: r.height, attrs: [el.getAttribute('width'), el.getAttribute('height')] };
        });
      const before = await boxOf();
      expect(before.loaded).toBe(false);
      expect(before.attrs).toEqual(['150', '300']);
      // 150 × 300 scaled into the 220 × 180 cap, aspect kept: 90 × 180.
      expect([before.width, before.height]).toEqual([90, 180]);
      release();
      await eventually(async () => (await boxOf()).loaded).toBe(true);
      const after = await boxOf();
      expect([after.width, after.height]).toEqual([before.width, before.height]);
    } finally {
      release();
      await bo.page.unroute(/\/(files|thumbs)\//);
    }
  });

  it('pages back through history as the reader scrolls up', async () => {
    const token = await tokenOf(appUrl, ann);
    const cyId = uid('cy');
    const room = await api(appUrl, 'POST', '/rooms', { token, body: { type: 'group', name: `History ${uid('h').slice(-5)}`, memberIds: [bo.userId, cyId] } });
    for (let i = 1; i <= 35; i++) {
      const res = await api(appUrl, 'POST', `/rooms/${room.body.id}/messages`, { token, body: { content: `Old message ${i}` } });
      expect(res.status).toBe(201);
    }
    // Cy signs in only now, on a browser of their own: the client meets the room at its newest
    // message, so opening it shows the newest page alone. (Someone who was online while the
    // messages came holds whatever their client had caught up to, which depends on timing.)
    const cy = await signIn(h, appUrl, 'Cy', { userId: cyId });
    try {
      await openRoom(cy, room.body.name);
      await visible(message(cy, 'Old message 35'));
      expect(await message(cy, /^Old message 1$/).count()).toBe(0);
      await log(cy).evaluate((el) => (el.scrollTop = 0));
      // Anchored: "Old message 11", "21" and "31" are on the first page already.
      await visible(message(cy, /^Old message 1$/), 20_000);
      expect(await texts(cy)).toEqual(Array.from({ length: 35 }, (_, i) => `Old message ${i + 1}`));
      await gone(cy.page.getByRole('button', { name: 'Load older messages' }));
    } finally {
      await cy.context.close();
    }
  });

  it('searches across rooms and opens the room of a result', async () => {
    await openRoom(ann, 'Bo');
    await say(ann, 'the zebra crossing is closed');
    await visible(message(ann, 'zebra crossing'));
    await bo.page.getByRole('searchbox', { name: 'Search messages' }).fill('zebra');
    await bo.page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    const results = bo.page.getByRole('complementary', { name: 'Search results' });
    const hit = results.getByRole('button', { name: /zebra crossing/ });
    await visible(hit);
    await hit.click();
    await visible(bo.page.getByRole('heading', { name: 'Ann' }));
    await visible(message(bo, 'zebra crossing'));
  });

  it('joins a public room, leaves it, and its admin archives it', async () => {
    const lobby = `Lobby ${uid('l').slice(-6)}`;
    await ann.page.getByRole('button', { name: 'New room' }).click();
    const dialog = ann.page.getByRole('dialog', { name: 'New room' });
    await dialog.getByRole('radio', { name: 'Group' }).check();
    await dialog.getByLabel('Group name').fill(lobby);
    await dialog.getByLabel('Visibility').selectOption('public');
    // A group of one: anyone may join later.
    await dialog.getByLabel('Add a member (user id)').fill(uid('guest'));
    await dialog.getByRole('button', { name: 'Create' }).click();
    await visible(ann.page.getByRole('heading', { name: `# ${lobby}` }));

    await bo.page.getByRole('button', { name: 'Public rooms' }).click();
    const list = bo.page.getByRole('dialog', { name: 'Public rooms' });
    await list.getByRole('button', { name: `Join ${lobby}` }).click();
    await visible(bo.page.getByRole('heading', { name: `# ${lobby}` }));
    await visible(log(bo).getByText(/Bo joined/));
    await visible(log(ann).getByText(/Bo joined/));

    // Bo leaves; Ann, its admin, archives it: the history stays, nobody can post.
    await bo.page.getByRole('button', { name: 'Members' }).click();
    await bo.page.getByRole('complementary', { name: 'Members' }).getByRole('button', { name: 'Leave room' }).click();
    await gone(roomButton(bo, lobby));
    await visible(log(ann).getByText(/Bo left/));
    await ann.page.getByRole('button', { name: 'Members' }).click();
    await ann.page.getByRole('complementary', { name: 'Members' }).getByRole('button', { name: 'Archive room' }).click();
    await eventually(() => composer(ann).isDisabled()).toBe(true);
    await visible(ann.page.getByRole('region', { name: lobby }).getByText('archived', { exact: true }));
    await ann.page.getByRole('button', { name: 'Close members' }).click();
  });

  it('is usable from the keyboard: Enter sends, Escape cancels a reply, focus moves into dialogs and back', async () => {
    const page = bo.page;
    await openRoom(bo, 'Ann');
    await composer(bo).focus();
    await page.keyboard.type('Sent with the keyboard');
    await page.keyboard.press('Enter');
    await visible(message(bo, 'Sent with the keyboard'));
    // ArrowUp in an empty composer edits my last message.
    await page.keyboard.press('ArrowUp');
    const edit = page.getByRole('textbox', { name: 'Edit message' });
    await visible(edit);
    // The app moves focus after it renders: wait for it, as a person would.
    await eventually(() => edit.evaluate((el) => el === (globalThis as any).document.activeElement)).toBe(true);
    await page.keyboard.press('Escape');
    await gone(edit);

    // Focus order follows the page: search, then the room tools, then the rooms.
    await page.getByRole('searchbox', { name: 'Search messages' }).focus();
    const focused = () => page.evaluate(() => (globalThis as any).document.activeElement?.textContent?.trim() as string);
    await page.keyboard.press('Tab');
    await eventually(focused).toBe('New room');
    await page.keyboard.press('Tab');
    await eventually(focused).toBe('Public rooms');

    const newRoom = page.getByRole('button', { name: 'New room' });
    await newRoom.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'New room' });
    await visible(dialog);
    await eventually(() => dialog.evaluate((d) => d.contains((globalThis as any).document.activeElement))).toBe(true);
    await page.keyboard.press('Escape');
    await gone(dialog);
    await eventually(() => newRoom.evaluate((el) => el === (globalThis as any).document.activeElement)).toBe(true);
  });

  it('lets two tabs of one browser be two people', async () => {
    const dee = await signIn(h, appUrl, 'Dee');
    const eve = await signIn(h, appUrl, 'Eve', { context: dee.context });
    await dee.page.getByRole('button', { name: 'New room' }).click();
    const dialog = dee.page.getByRole('dialog', { name: 'New room' });
    await dialog.getByLabel('Person (user id)').fill(eve.userId);
    await dialog.getByRole('button', { name: 'Create' }).click();
    await visible(dee.page.getByRole('heading', { name: 'Eve' }));
    await say(dee, 'Hello from the other tab');
    await openRoom(eve, 'Dee');
    await visible(message(eve, 'Hello from the other tab'));
    await say(eve, 'Hello back');
    await visible(message(dee, 'Hello back'));
    await visible(dee.page.getByText('Signed in as Dee'));
    await visible(eve.page.getByText('Signed in as Eve'));
    await dee.page.close();
    await eve.page.close();
  });

  it('gives every control an accessible name', async () => {
    for (const p of [ann, bo]) {
      const unnamed = await p.page.evaluate(() =>
        Array.from((globalThis as any).document.querySelectorAll('button, input:not([type=hidden]), select, textarea, a[href]') as any[])
          .filter((el) => !(el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.labels?.length || el.textContent?.trim()))
          .map((el) => String(el.outerHTML).slice(0, 120)),
      );
      expect(unnamed).toEqual([]);
    }
  });
});
