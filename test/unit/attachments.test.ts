import { describe, expect, it } from 'vitest';
import { fileKey, matchesSignature, uploadKey } from '#shared/domain/attachments.ts';
import { contentDisposition } from '#shared/adapters/s3/blob-store.ts';
import { createAttachmentBody, KNOWN_CONTENT_TYPES } from '#shared/schemas/attachments.ts';

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
