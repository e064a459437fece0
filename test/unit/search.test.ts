import { describe, expect, it } from 'vitest';
import type { MessageRecord } from '#shared/model.ts';
import { foldText, matchesAll, searchWords } from '#shared/domain/search.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { searchQuery } from '#shared/schemas/search.ts';
import { AppError } from '#shared/errors.ts';

const message = (content: string, extra: Partial<MessageRecord> = {}): MessageRecord => ({
  id: 'm',
  roomId: 'r',
  seq: 1,
  senderId: 'u',
  senderName: 'U',
  type: 'text',
  content,
  mentions: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});

describe('search words', () => {
  it('folds case, accents and compatibility forms', () => {
    expect(foldText('Crème BRÛLÉE')).toBe('creme brulee');
    expect(foldText('ＡＢＣ１')).toBe('abc1');
    expect(searchWords("It's 9:30 — café, s'il vous plaît!")).toEqual(['it', 's', '9', '30', 'cafe', 's', 'il', 'vous', 'plait']);
    expect(searchWords('Привет, мир')).toEqual(['привет', 'мир']);
    // Vowel signs are part of Devanagari words, not accents to drop.
    expect(searchWords('नमस्ते दुनिया')).toEqual(['नमस्ते', 'दुनिया']);
    expect(searchWords('?!')).toEqual([]);
  });
});

describe('matchesAll', () => {
  it('needs every term as a whole word', () => {
    const m = message('Invoice #42 paid via bank transfer');
    expect(matchesAll(m, ['invoice', '42'])).toBe(true);
    expect(matchesAll(m, ['invoice', 'unpaid'])).toBe(false);
    expect(matchesAll(m, ['pai'])).toBe(false);
  });

  it('finds terms in the names of attached files', () => {
    const m = message('here it is', { attachments: [{ id: 'a', key: 'k', name: 'Q3-report.pdf', size: 1, contentType: 'application/pdf' }] });
    expect(matchesAll(m, ['report'])).toBe(true);
    expect(matchesAll(m, ['q3', 'pdf', 'here'])).toBe(true);
  });

  it('matches unspaced scripts inside words, others never', () => {
    expect(matchesAll(message('明日は雨が降るでしょう'), ['雨'])).toBe(true);
    expect(matchesAll(message('ภาษาไทยง่าย'), ['ไทย'])).toBe(true);
    expect(matchesAll(message('concatenate'), ['cat'])).toBe(false);
  });

  it('never matches a deleted message', () => {
    expect(matchesAll(message('payment', { deletedAt: '2026-01-02T00:00:00.000Z' }), ['payment'])).toBe(false);
  });
});

describe('searchQuery', () => {
  it('defaults the page size and refuses what is out of range', () => {
    expect(parseOrThrow(searchQuery, { q: ' hello ' })).toEqual({ q: 'hello', limit: 20 });
    for (const bad of [{}, { q: '   ' }, { q: 'x'.repeat(201) }, { q: 'a', limit: '51' }, { q: 'a', roomId: 'has space' }, { q: 'a', other: '1' }]) {
      expect(() => parseOrThrow(searchQuery, bad), JSON.stringify(bad).slice(0, 40)).toThrow(AppError);
    }
  });
});
