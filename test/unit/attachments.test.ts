import { describe, expect, it } from 'vitest';
import { fileKey, matchesSignature, uploadKey } from '#shared/domain/attachments.ts';
import { contentDisposition } from '#shared/adapters/s3/blob-store.ts';
import { ATTACHMENT_LIMITS, createAttachmentBody, KNOWN_CONTENT_TYPES } from '#shared/schemas/attachments.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { messageView } from '#shared/domain/views.ts';
import type { MessageRecord } from '#shared/model.ts';

const bytes = (...parts: (number[] | string)[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe('matchesSignature', () => {
  const samples: Record<string, Buffer> = {
    'image/jpeg': bytes([0xff, 0xd8, 0xff, 0xe0], 'JFIF'),
    'image/png': bytes([0x89], 'PNG\r\n', [0x1a], '\n', [0, 0, 0, 13]),
    'image/gif': bytes('GIF89a', [1, 0]),
    'image/webp': bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 '),
    'application/pdf': bytes('%PDF-1.4\n'),
    'application/msword': bytes([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0]),
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document': bytes('PK', [3, 4], '[Content_Types].xml'),
    'text/plain': Buffer.from('Hello, wörld\tand\r\nmore 😀'),
  };

  it('knows a signature for every allowed type, and accepts each genuine sample', () => {
    for (const type of KNOWN_CONTENT_TYPES) expect(matchesSignature(type, samples[type]!), type).toBe(true);
  });

  it('refuses every sample under any other type', () => {
    for (const declared of KNOWN_CONTENT_TYPES) {
      for (const [actual, sample] of Object.entries(samples)) {
        // A PDF or a ZIP header is also printable text.
        if (actual === declared || (declared === 'text/plain' && ['application/pdf', 'image/gif'].includes(actual))) continue;
        expect(matchesSignature(declared, sample), `${actual} declared as ${declared}`).toBe(false);
      }
    }
  });

  it('refuses executables, empty files, truncated headers and unknown types', () => {
    const exe = bytes('MZ', [0x90, 0, 3, 0, 0, 0]);
    const elf = bytes([0x7f], 'ELF', [2, 1, 1]);
    for (const type of KNOWN_CONTENT_TYPES) {
      expect(matchesSignature(type, exe), type).toBe(false);
      expect(matchesSignature(type, elf), type).toBe(false);
      expect(matchesSignature(type, new Uint8Array()), type).toBe(type === 'text/plain');
    }
    expect(matchesSignature('image/png', bytes([0x89], 'PNG'))).toBe(false);
    expect(matchesSignature('image/svg+xml', Buffer.from('<svg/>'))).toBe(false);
  });

  it('accepts text cut in the middle of a UTF-8 character, and refuses invalid UTF-8', () => {
    const cut = Buffer.from('abc€').subarray(0, 5);
    expect(matchesSignature('text/plain', cut)).toBe(true);
    expect(matchesSignature('text/plain', bytes('abc', [0xc3, 0x28]))).toBe(false);
  });
});

describe('keys and names', () => {
  it('keeps uploads and attached files under the room, in prefixes the lifecycle rule and grants tell apart', () => {
    expect(uploadKey('r1', 'a1')).toBe('uploads/r1/a1');
    expect(fileKey('r1', 'a1')).toBe('files/r1/a1');
  });

  it('names the download after the file, with an ASCII fallback (RFC 6266)', () => {
    expect(contentDisposition('report.pdf')).toBe(`attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
    expect(contentDisposition('Grüße "final".txt')).toBe(`attachment; filename="Gr__e _final_.txt"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22final%22.txt`);
    expect(contentDisposition("it's (1).png")).toBe(`attachment; filename="it's (1).png"; filename*=UTF-8''it%27s%20%281%29.png`);
  });

  it('takes plain file names only', () => {
    const ok = (fileName: string) => createAttachmentBody.safeParse({ fileName, contentType: 'text/plain', size: 1 }).success;
    expect(ok('notes.txt')).toBe(true);
    expect(ok('Ünïcödé 📄.txt')).toBe(true);
    for (const bad of ['', ' ', '.', '..', 'a/b.txt', 'a\\b.txt', 'a\nb.txt', 'x'.repeat(256)]) expect(ok(bad), JSON.stringify(bad)).toBe(false);
    expect(createAttachmentBody.safeParse({ fileName: 'a', contentType: ' Image/PNG ', size: 1 }).data?.contentType).toBe('image/png');
    expect(createAttachmentBody.safeParse({ fileName: 'a', contentType: 'text/plain', size: 0 }).success).toBe(false);
    expect(createAttachmentBody.safeParse({ fileName: 'a', contentType: 'text/plain', size: 1.5 }).success).toBe(false);
  });
});

describe("an image's declared size", () => {
  const body = (extra: Record<string, unknown>, contentType = 'image/jpeg') => ({ fileName: 'photo.jpg', contentType, size: 1000, ...extra });
  /** The 400's message, or undefined when the body is accepted. */
  const refusal = (b: unknown) => {
    try {
      parseOrThrow(createAttachmentBody, b, 'body');
      return undefined;
    } catch (err) {
      expect(err).toMatchObject({ code: 'validation_failed' });
      return (err as Error).message;
    }
  };

  it('takes width and height together, whole pixels from 1 to 65,535, on every image type', () => {
    expect(ATTACHMENT_LIMITS.imageSideMax).toBe(65_535);
    for (const type of ['image/jpeg', 'image/png', 'image/gif', 'image/webp']) {
      expect(createAttachmentBody.parse(body({ width: 4032, height: 3024 }, type))).toMatchObject({ width: 4032, height: 3024 });
    }
    expect(createAttachmentBody.parse(body({ width: 1, height: 65_535 }))).toMatchObject({ width: 1, height: 65_535 });
    // Neither is fine too: the thumbnail function measures it later.
    expect(createAttachmentBody.parse(body({}))).not.toHaveProperty('width');
  });

  it('refuses one side alone, with a message naming the missing one', () => {
    expect(refusal(body({ width: 640 }))).toBe('Invalid body: height: give width and height together, or neither');
    expect(refusal(body({ height: 480 }))).toBe('Invalid body: width: give width and height together, or neither');
  });

  it('refuses sides that are not whole pixels from 1 to 65,535', () => {
    for (const bad of [0, -1, 1.5, 65_536, Number.MAX_SAFE_INTEGER, '640', null, true]) {
      expect(refusal(body({ width: bad, height: 480 })), JSON.stringify(bad)).toMatch(/^Invalid body: width: /);
      expect(refusal(body({ width: 640, height: bad })), JSON.stringify(bad)).toMatch(/^Invalid body: height: /);
    }
    expect(refusal(body({ width: 65_536, height: 480 }))).toBe('Invalid body: width: Too big: expected number to be <=65535');
  });

  it('refuses a size on a file that is not an image', () => {
    for (const type of ['application/pdf', 'text/plain', 'application/msword']) {
      expect(refusal(body({ width: 640, height: 480 }, type)), type).toBe('Invalid body: width: only an image has a width and height');
    }
  });
});

describe("an attachment's size in the message view", () => {
  const m: MessageRecord = {
    id: 'm1', roomId: 'r1', seq: 1, senderId: 'ann', senderName: 'Ann', type: 'image', content: '', mentions: [], createdAt: '2026-01-01T00:00:00.000Z',
    attachments: [
      { id: 'a1', key: 'files/r1/a1', name: 'a.jpg', size: 10, contentType: 'image/jpeg', width: 1000, height: 500 },
      { id: 'a2', key: 'files/r1/a2', name: 'b.png', size: 10, contentType: 'image/png' },
    ],
  };
  const urls = (sizes: [string, { width: number; height: number }][] = []) => Object.assign(new Map([['a1', 'u1'], ['a2', 'u2']]), { sizes: new Map(sizes) });

  it('shows the declared size until a measured one exists, then the measured one', () => {
    const [a1, a2] = messageView(m, [], 'ann', urls()).attachments;
    expect(a1).toMatchObject({ width: 1000, height: 500 });
    expect(a2).not.toHaveProperty('width');
    expect(a2).not.toHaveProperty('height');
    const measured = messageView(m, [], 'ann', urls([['a1', { width: 500, height: 1000 }], ['a2', { width: 64, height: 32 }]])).attachments;
    expect(measured.map((a) => [a.width, a.height])).toEqual([[500, 1000], [64, 32]]);
  });
});
