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
