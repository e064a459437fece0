import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The local stand-in for the stack's cursor secret: kept in the data dir, so cursors handed out
 * before a restart still open; with no data dir (`PARLEY_IN_MEMORY`), a new one per process.
 */
export function loadCursorKey(dataDir?: string): string {
  const file = dataDir && path.join(dataDir, 'cursor-key');
  if (file && existsSync(file)) return readFileSync(file, 'utf8').trim();
  const made = randomBytes(32).toString('base64url');
  if (file) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${made}\n`, { mode: 0o600 });
  }
  return made;
}
