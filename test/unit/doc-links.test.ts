import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The documents a newcomer reads: the README and docs/*.md. */
const documents = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Markdown without its fenced code blocks, where a `](...)` is code, not a link. */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, '');

/** The anchor GitHub gives a heading: lower case, marks dropped but for `-` and `_`, spaces as `-`; repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const slug = heading!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    let anchor = slug;
    for (let i = 1; anchors.has(anchor); i++) anchor = `${slug}-${i}`;
    anchors.add(anchor);
  }
  return anchors;
}

describe('the documents’ links', () => {
  it('lead to files of the repository, and to headings that are there', () => {
    const broken: string[] = [];
    for (const doc of documents) {
      const text = readFileSync(path.join(root, doc), 'utf8');
      for (const [, target] of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue; // https:, mailto:
        const [file, anchor] = target!.split('#') as [string, string | undefined];
        const resolved = file ? path.join(path.dirname(path.join(root, doc)), decodeURIComponent(file)) : path.join(root, doc);
        if (!existsSync(resolved)) {
          broken.push(`${doc}: ${target} (no such file)`);
        } else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) {
          broken.push(`${doc}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('are checked against the anchors GitHub makes', () => {
    expect([...anchorsOf('# Performance and cost\n## 5b. Fan-out against its floor, rooms of 10,000\n### `GET /rooms`: 5.5 of 6\n## Notes\n## Notes\n')]).toEqual([
      'performance-and-cost',
      '5b-fan-out-against-its-floor-rooms-of-10000',
      'get-rooms-55-of-6',
      'notes',
      'notes-1',
    ]);
    // A link to a heading that is not there is caught.
    expect(anchorsOf('## 7. Thumbnails\n').has('thumbnails')).toBe(false);
  });
});
