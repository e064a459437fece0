import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatStore, Message, Room } from './store.ts';
import { Content, Icon, STATUS_LABEL, time, useDialog, useStore } from './util.tsx';

type Role = 'admin' | 'moderator' | 'member';

/** Members with role and presence; admins and moderators act on them here. */
export function MembersPanel({ store, roomId, onClose }: { store: ChatStore; roomId: string; onClose: () => void }) {
  useStore(store);
  const [userId, setUserId] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const room = store.rooms.get(roomId);
  const members = store.members.get(roomId) ?? [];
  const myRole = store.myRole(roomId);
  const isGroup = room?.room.type === 'group';
  const fail = (err: unknown) => store.fail(err);
  const canRemove = (role: Role) => myRole === 'admin' || (myRole === 'moderator' && role === 'member');
  return (
    <aside class="side-panel" aria-label="Members" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <h2 ref={heading} tabIndex={-1}>
        Members ({members.length})
        <button type="button" class="icon" aria-label="Close members" onClick={onClose}>
          <Icon name="close" />
        </button>
      </h2>
      <ul class="member-list">
        {members.map((m) => {
          const status = store.presence.get(m.userId) ?? m.presence.status;
          const me = m.userId === store.me.userId;
          const name = store.nameOf(m.userId, m.displayName);
          return (
            <li key={m.userId} aria-label={`${name}, ${m.role}, ${STATUS_LABEL[status]}`}>
              <span>
                <span class={`dot inline ${status}`} aria-hidden="true" />
                <strong>{name}</strong> {me && <span class="muted">(you)</span>}
              </span>
              <span class="role">
                {m.role} · {STATUS_LABEL[status]}
              </span>
              {isGroup && !me && (myRole === 'admin' || canRemove(m.role)) && (
                <span class="member-actions">
                  {myRole === 'admin' &&
                    (['admin', 'moderator', 'member'] as const)
                      .filter((r) => r !== m.role)
                      .map((r) => (
                        <button type="button" key={r} onClick={() => store.setRole(roomId, m.userId, r).catch(fail)}>
                          Make {name} {r === 'admin' ? 'an admin' : `a ${r}`}
                        </button>
                      ))}
                  {canRemove(m.role) && (
                    <button type="button" class="danger" onClick={() => store.removeMember(roomId, m.userId).catch(fail)}>
                      Remove {name}
                    </button>
                  )}
                </span>
              )}
            </li>
          );
        })}
      </ul>
      {isGroup && (myRole === 'admin' || myRole === 'moderator') && (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            const id = userId.trim();
            if (!id) return;
            store.addMember(roomId, id).then(() => setUserId(''), fail);
          }}
        >
          <input aria-label="User id to add" placeholder="User id" list="known-people" value={userId} onInput={(e) => setUserId(e.currentTarget.value)} />
          <KnownPeople store={store} />
          <button type="submit">Add member</button>
        </form>
      )}
      {isGroup && (
        <button
          type="button"
          class="danger"
          onClick={() => {
            if (confirm('Leave this room?')) store.removeMember(roomId, store.me.userId).then(onClose, fail);
          }}
        >
          Leave room
        </button>
      )}
      {isGroup && myRole === 'admin' && !room?.room.archivedAt && (
        <button
          type="button"
          class="danger"
          onClick={() => {
            if (confirm('Archive this room? Its history stays readable; nobody can post any more.')) store.archiveRoom(roomId).catch(fail);
          }}
        >
          Archive room
        </button>
      )}
    </aside>
  );
}

function KnownPeople({ store }: { store: ChatStore }) {
  return (
    <datalist id="known-people">
      {store.knownPeople().map((p) => (
        <option key={p.userId} value={p.userId}>
          {p.displayName}
        </option>
      ))}
    </datalist>
  );
}

/** Messages from every room I am in that contain all the words. */
export function SearchPanel({ store, query, onOpen, onClose }: { store: ChatStore; query: string; onOpen: (roomId: string) => void; onClose: () => void }) {
  const [results, setResults] = useState<Message[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    setResults(undefined);
    setError(undefined);
    store.search(query.trim()).then(
      (items) => live && setResults(items),
      (err: unknown) => live && setError(err instanceof Error ? err.message : String(err)),
    );
    return () => {
      live = false;
    };
  }, [query]);
  const names = new Map<string, string>();
  for (const list of store.members.values()) for (const m of list) names.set(m.userId, store.nameOf(m.userId, m.displayName));
  return (
    <aside class="side-panel" aria-label="Search results" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <h2>
        Results for “{query}”
        <button type="button" class="icon" aria-label="Close search" onClick={onClose}>
          <Icon name="close" />
        </button>
      </h2>
      {error && <p class="error">{error}</p>}
      {!results && !error && <p class="muted">Searching…</p>}
      {results?.length === 0 && <p class="muted">Nothing found.</p>}
      {results && results.length > 0 && (
        <ul class="results">
          {results.map((m) => (
            <li key={m.id}>
              <button type="button" onClick={() => onOpen(m.roomId)}>
                <span class="where">
                  {store.rooms.get(m.roomId)?.displayName ?? 'Room'} · {m.sender.displayName} · {time(m.createdAt)}
                </span>
                <span>
                  <Content text={m.content} names={names} />
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </aside>
  );
}

/** A direct room with one person, or a group with the members picked. */
export function NewRoomDialog({ store, onClose }: { store: ChatStore; onClose: (roomId?: string) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useDialog(ref, true);
  const [type, setType] = useState<'direct' | 'group'>('direct');
  const [name, setName] = useState('');
  const [visibility, setVisibility] = useState<'private' | 'public'>('private');
  const [person, setPerson] = useState('');
  const [picked, setPicked] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const people = new Map(store.knownPeople().map((p) => [p.userId, p.displayName]));

  const addPerson = () => {
    const id = person.trim();
    if (!id || picked.includes(id) || id === store.me.userId) return setPerson('');
    setPicked(type === 'direct' ? [id] : [...picked, id]);
    setPerson('');
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const pending = person.trim();
    const memberIds = pending && !picked.includes(pending) ? (type === 'direct' ? [pending] : [...picked, pending]) : picked;
    if (memberIds.length === 0) return setError('Add at least one person.');
    if (type === 'group' && !name.trim()) return setError('Give the group a name.');
    setBusy(true);
    try {
      const room = await store.createRoom(
        type === 'direct' ? { type, memberIds: memberIds.slice(0, 1) } : { type, name: name.trim(), memberIds, visibility },
      );
      onClose(room.id);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <dialog ref={ref} aria-labelledby="new-room-title" onCancel={(e) => (e.preventDefault(), onClose())}>
      <form onSubmit={submit}>
        <h2 id="new-room-title">New room</h2>
        <fieldset>
          <legend>Kind</legend>
          <label>
            <input type="radio" name="type" checked={type === 'direct'} onChange={() => (setType('direct'), setPicked(picked.slice(0, 1)))} /> Direct message
          </label>
          <label>
            <input type="radio" name="type" checked={type === 'group'} onChange={() => setType('group')} /> Group
          </label>
        </fieldset>
        {type === 'group' && (
          <>
            <label class="field">
              Group name
              <input value={name} maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
            </label>
            <label class="field">
              Visibility
              <select value={visibility} onChange={(e) => setVisibility(e.currentTarget.value as 'private')}>
                <option value="private">Private: invited members only</option>
                <option value="public">Public: anyone may join</option>
              </select>
            </label>
          </>
        )}
        <label class="field">
          {type === 'direct' ? 'Person (user id)' : 'Add a member (user id)'}
          <span class="inline-form">
            <input
              list="known-people"
              value={person}
              onInput={(e) => setPerson(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && type === 'group') {
                  e.preventDefault();
                  addPerson();
                }
              }}
            />
            {type === 'group' && (
              <button type="button" onClick={addPerson}>
                Add
              </button>
            )}
          </span>
        </label>
        <KnownPeople store={store} />
        {type === 'group' && picked.length > 0 && (
          <ul class="chips" aria-label="Members to add">
            {picked.map((id) => (
              <li key={id}>
                {people.get(id) ?? id}
                <button type="button" class="icon" aria-label={`Remove ${people.get(id) ?? id}`} onClick={() => setPicked(picked.filter((p) => p !== id))}>
                  <Icon name="close" />
                </button>
              </li>
            ))}
          </ul>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="buttons">
          <button type="button" onClick={() => onClose()}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Create
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** Discoverable public rooms, each with a Join button. */
export function PublicRoomsDialog({ store, onClose }: { store: ChatStore; onClose: (roomId?: string) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useDialog(ref, true);
  const [rooms, setRooms] = useState<Room[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    store.publicRooms().then(setRooms, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, []);
  const join = async (roomId: string) => {
    try {
      if (!store.rooms.has(roomId)) await store.joinRoom(roomId);
      onClose(roomId);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <dialog ref={ref} aria-labelledby="public-title" onCancel={(e) => (e.preventDefault(), onClose())}>
      <div class="body">
        <h2 id="public-title">Public rooms</h2>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {!rooms && !error && <p class="muted">Loading…</p>}
        {rooms?.length === 0 && <p class="muted">No public rooms yet.</p>}
        {rooms && rooms.length > 0 && (
          <ul class="public-list">
            {rooms.map((r) => (
              <li key={r.id}>
                <span>
                  <strong># {r.name}</strong> <span class="muted">{r.memberCount} members</span>
                </span>
                <button type="button" onClick={() => void join(r.id)}>
                  {store.rooms.has(r.id) ? `Open ${r.name}` : `Join ${r.name}`}
                </button>
              </li>
            ))}
          </ul>
        )}
        <div class="buttons">
          <button type="button" onClick={() => onClose()}>
            Close
          </button>
        </div>
      </div>
    </dialog>
  );
}
