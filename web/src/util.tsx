import { useEffect, useState } from 'preact/hooks';
import type { ChatStore } from './store.ts';

/** Re-renders the component whenever the store changes. */
export function useStore(store: ChatStore): ChatStore {
  const [, setTick] = useState(0);
  useEffect(() => store.subscribe(() => setTick((n) => n + 1)), [store]);
  return store;
}

export const initials = (name: string) =>
  name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => [...w][0]!.toUpperCase())
    .join('') || '?';

export const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export const fileSize = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const MENTION = /<@([^>\s]+)>/g;

/** Content with `<@userId>` shown as the member's name. */
export function Content({ text, names }: { text: string; names: ReadonlyMap<string, string> }) {
  const parts: (string | preact.JSX.Element)[] = [];
  let last = 0;
  for (const m of text.matchAll(MENTION)) {
    parts.push(text.slice(last, m.index));
    const name = names.get(m[1]!) ?? m[1]!;
    parts.push(
      <span class="mention" key={m.index}>
        @{name}
      </span>,
    );
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return <>{parts}</>;
}

/** Plain text of content, for previews and accessible names. */
export const plain = (text: string, names: ReadonlyMap<string, string>) =>
  text.replace(MENTION, (_, id: string) => `@${names.get(id) ?? id}`);

export function Avatar({ name, status }: { name: string; status?: string | undefined }) {
  return (
    <span class="avatar" aria-hidden="true">
      {initials(name)}
      {status && <span class={`dot ${status}`} />}
    </span>
  );
}

export const STATUS_LABEL: Record<string, string> = { online: 'Online', away: 'Away', busy: 'Busy', offline: 'Offline' };

/** Moves focus into a dialog when it opens and back where it was when it closes. */
export function useDialog(ref: { current: HTMLDialogElement | null }, open: boolean) {
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      const before = document.activeElement as HTMLElement | null;
      dialog.showModal();
      return () => {
        dialog.close();
        before?.focus();
      };
    }
    return undefined;
  }, [open]);
}

const ICONS = {
  attach: 'M21 11l-8.5 8.5a5 5 0 01-7-7L14 4a3.5 3.5 0 015 5l-8.5 8.5a2 2 0 01-3-3L15 7',
  reply: 'M9 14L4 9l5-5M4 9h10a6 6 0 016 6v4',
  edit: 'M12 20h9M16.5 3.5a2.1 2.1 0 013 3L7 19l-4 1 1-4z',
  trash: 'M3 6h18M8 6V4h8v2M19 6l-1 14H6L5 6',
  smile: 'M12 22a10 10 0 100-20 10 10 0 000 20zM8 14s1.5 2 4 2 4-2 4-2M9 9h.01M15 9h.01',
  close: 'M18 6L6 18M6 6l12 12',
  back: 'M19 12H5M12 19l-7-7 7-7',
  file: 'M14 2H6a2 2 0 00-2 2v16a2 2 0 002 2h12a2 2 0 002-2V8zM14 2v6h6',
};

/** A decorative stroke icon (the button around it carries the accessible name). */
export function Icon({ name }: { name: keyof typeof ICONS }) {
  return (
    <svg class="i" viewBox="0 0 24 24" aria-hidden="true">
      <path d={ICONS[name]} />
    </svg>
  );
}
