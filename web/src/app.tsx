import { useEffect, useMemo, useState } from 'preact/hooks';
import { signOut, tokenSource, type AppConfig, type Session } from './auth.ts';
import { ParleyClient } from './sdk.ts';
import { ChatStore, type MyRoom } from './store.ts';
import { Avatar, STATUS_LABEL, plain, useStore } from './util.tsx';
import { RoomView } from './room.tsx';
import { MembersPanel, NewRoomDialog, PublicRoomsDialog, SearchPanel } from './panels.tsx';
import { NotifyMe } from './notify-me.tsx';

type Panel = 'members' | 'search' | undefined;

/** The signed-in app: one SDK client, one store, the panes. */
export function App({ config, session }: { config: AppConfig; session: Session }) {
  const store = useMemo(() => {
    const client = new ParleyClient({
      httpUrl: config.httpUrl,
      wsUrl: config.wsUrl,
      getToken: tokenSource(config),
      // The outbox and watermarks live in IndexedDB (the SDK's default in browsers), kept apart
      // per user: tabs of one browser may be different people.
    });
    return new ChatStore(client, { userId: session.userId, displayName: session.displayName });
  }, [session.userId]);
  useStore(store);
  const [panel, setPanel] = useState<Panel>();
  const [dialog, setDialog] = useState<'new' | 'public'>();
  const [query, setQuery] = useState('');

  useEffect(() => {
    store.start().catch((err: unknown) => store.fail(err));
    return () => void store.stop();
  }, [store]);

  // The room in the address (#room=…) survives reloads and back/forward.
  useEffect(() => {
    const fromHash = () => {
      const id = new URLSearchParams(location.hash.slice(1)).get('room') ?? undefined;
      if (id !== store.currentRoomId) void store.openRoom(id).catch((e) => store.fail(e));
    };
    fromHash();
    addEventListener('hashchange', fromHash);
    return () => removeEventListener('hashchange', fromHash);
  }, [store]);

  const open = (roomId: string | undefined) => {
    location.hash = roomId ? `room=${encodeURIComponent(roomId)}` : '';
    if (panel === 'members') setPanel(undefined);
  };
  /** A dialog closed, with the room it made or joined to open, if any. */
  const closeDialog = (roomId?: string) => {
    setDialog(undefined);
    if (roomId) open(roomId);
  };

  const unread = store.totalUnread();
  useEffect(() => {
    document.title = unread ? `(${unread}) Parley` : 'Parley';
  }, [unread]);

  const roomId = store.currentRoomId;
  return (
    <div class="shell">
      <header class="topbar">
        <span class="brand">
          <img src="/icon.svg" alt="" /> Parley
        </span>
        <StatusPicker store={store} />
        <NotifyMe store={store} />
        <span class="whoami">
          Signed in as <strong>{store.me.displayName}</strong>
        </span>
        <button type="button" onClick={() => signOut(config)}>
          Sign out
        </button>
      </header>
      <ConnectionBanner store={store} />
      <div class={`main${roomId ? ' has-room' : ''}`}>
        <nav class="sidebar" aria-label="Rooms">
          <div class="tools">
            <form
              role="search"
              onSubmit={(e) => {
                e.preventDefault();
                if (query.trim()) setPanel('search');
              }}
            >
              <input type="search" aria-label="Search messages" placeholder="Search messages" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
            </form>
            <div class="row">
              <button type="button" class="primary" onClick={() => setDialog('new')}>
                New room
              </button>
              <button type="button" onClick={() => setDialog('public')}>
                Public rooms
              </button>
            </div>
          </div>
          <RoomList store={store} onOpen={open} />
        </nav>
        {roomId ? (
          <RoomView
            key={roomId}
            store={store}
            roomId={roomId}
            onBack={() => open(undefined)}
            onMembers={() => setPanel(panel === 'members' ? undefined : 'members')}
            membersOpen={panel === 'members'}
          />
        ) : (
          <section class="room empty" aria-label="No room selected">
            <p>Pick a room, or start one with “New room”.</p>
          </section>
        )}
        {panel === 'members' && roomId && <MembersPanel store={store} roomId={roomId} onClose={() => setPanel(undefined)} />}
        {panel === 'search' && (
          <SearchPanel
            store={store}
            query={query}
            onOpen={(id) => {
              open(id);
              setPanel(undefined);
            }}
            onClose={() => setPanel(undefined)}
          />
        )}
      </div>
      {dialog === 'new' && (
        <NewRoomDialog store={store} onClose={closeDialog} />
      )}
      {dialog === 'public' && (
        <PublicRoomsDialog store={store} onClose={closeDialog} />
      )}
      {store.lastError && (
        <div class="banner offline" role="alert">
          {store.lastError}{' '}
          <button type="button" class="link" onClick={() => store.clearError()}>
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}

function StatusPicker({ store }: { store: ChatStore }) {
  return (
    <label class="status-picker">
      <span class="sr-only">Status</span>
      <span class={`dot inline ${store.myStatus}`} aria-hidden="true" />
      <select
        aria-label="Status"
        value={store.myStatus}
        onChange={(e) => void store.setStatus(e.currentTarget.value as 'online').catch((err) => store.fail(err))}
      >
        <option value="online">Online</option>
        <option value="away">Away</option>
        <option value="busy">Busy</option>
      </select>
    </label>
  );
}

/** Says what the connection is doing whenever it is not simply live. */
function ConnectionBanner({ store }: { store: ChatStore }) {
  const waiting = store.pending.filter((p) => p.status !== 'failed').length;
  const pendingText = waiting ? `, ${waiting} ${waiting === 1 ? 'message' : 'messages'} waiting to send` : '';
  let text: string | undefined;
  let offline = false;
  if (!store.online) {
    text = `Offline${pendingText}`;
    offline = true;
  } else if (store.state === 'reconnecting' || store.state === 'connecting' || store.state === 'idle') {
    text = store.state === 'reconnecting' ? `Reconnecting…${pendingText}` : 'Connecting…';
  } else if (store.state === 'catching_up') {
    text = 'Catching up…';
  } else if (store.state === 'unauthorized') {
    text = 'Your session has ended: sign in again.';
    offline = true;
  } else if (store.state === 'closed') {
    text = 'Disconnected';
    offline = true;
  }
  return (
    <div role="status" aria-label="Connection" class={text ? `banner${offline ? ' offline' : ''}` : 'sr-only'}>
      {text ?? 'Connected'}
    </div>
  );
}

function RoomList({ store, onOpen }: { store: ChatStore; onOpen: (id: string) => void }) {
  const rooms = store.roomList();
  if (rooms.length === 0) return <p class="empty">No rooms yet.</p>;
  return (
    <ul class="room-list">
      {rooms.map((r) => (
        <RoomItem key={r.room.id} store={store} room={r} current={r.room.id === store.currentRoomId} onOpen={onOpen} />
      ))}
    </ul>
  );
}

function RoomItem({ store, room, current, onOpen }: { store: ChatStore; room: MyRoom; current: boolean; onOpen: (id: string) => void }) {
  const peer = room.room.type === 'direct' ? store.peerOf(room.room.id) : undefined;
  const status = peer ? (store.presence.get(peer.userId) ?? peer.presence.status) : undefined;
  const names = new Map((store.members.get(room.room.id) ?? []).map((m) => [m.userId, m.displayName]));
  const last = room.lastMessage;
  const preview = last
    ? last.deletedAt
      ? 'Message deleted'
      : `${last.type === 'system' ? '' : `${last.senderId === store.me.userId ? 'You' : last.sender.displayName}: `}${plain(last.content, names) || (last.attachments.length ? last.attachments[0]!.name : '')}`
    : room.room.description || 'No messages yet';
  const label = [room.displayName, status && STATUS_LABEL[status], room.unreadCount ? `${room.unreadCount} unread` : ''].filter(Boolean).join(', ');
  return (
    <li>
      <button type="button" aria-label={label} aria-current={current ? 'true' : undefined} onClick={() => onOpen(room.room.id)}>
        <Avatar name={room.displayName || '#'} status={status} />
        <span class="name">
          {room.room.type === 'group' ? '# ' : ''}
          {room.displayName}
        </span>
        {room.unreadCount > 0 ? (
          <span class="badge" aria-hidden="true">
            {room.unreadCount}
          </span>
        ) : (
          <span />
        )}
        <span class="preview" aria-hidden="true">
          {preview}
        </span>
      </button>
    </li>
  );
}
