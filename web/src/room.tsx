import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatStore, Message, PendingMessage } from './store.ts';
import { Avatar, Content, Icon, fileSize, plain, time, useStore } from './util.tsx';

export const EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢'];
/** How near the top of the log (px) the reader must be for the page before to load. */
const TOP_SLACK_PX = 40;

interface Props {
  store: ChatStore;
  roomId: string;
  onBack: () => void;
  onMembers: () => void;
  membersOpen: boolean;
}

/** One room: header, history with scroll-back, typing line, composer. */
export function RoomView({ store, roomId, onBack, onMembers, membersOpen }: Props) {
  useStore(store);
  const room = store.rooms.get(roomId);
  const [replyTo, setReplyTo] = useState<Message>();
  const [editing, setEditing] = useState<string>();
  const [dragging, setDragging] = useState(false);
  const composer = useRef<ComposerHandle>(null);
  const names = new Map((store.members.get(roomId) ?? []).map((m) => [m.userId, store.nameOf(m.userId, m.displayName)]));
  names.set(store.me.userId, store.me.displayName);
  const title = room?.displayName ?? 'Room';

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) composer.current?.addFiles(files);
  };

  return (
    <section
      class="room"
      aria-label={title}
      onDragOver={(e) => {
        if (e.dataTransfer?.types.includes('Files')) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <header class="room-header">
        <button type="button" class="icon back" aria-label="Back to rooms" onClick={onBack}>
          <Icon name="back" />
        </button>
        <h2>
          {room?.room.type === 'group' ? '# ' : ''}
          {title}
        </h2>
        {room?.room.archivedAt && <span class="muted">archived</span>}
        <button type="button" aria-expanded={membersOpen} onClick={onMembers}>
          Members
        </button>
      </header>
      <MessageList
        store={store}
        roomId={roomId}
        names={names}
        editing={editing}
        onEdit={setEditing}
        onReply={(m) => {
          setReplyTo(m);
          composer.current?.focus();
        }}
      />
      <TypingLine store={store} roomId={roomId} />
      <Composer
        handle={composer}
        store={store}
        roomId={roomId}
        replyTo={replyTo}
        names={names}
        onCancelReply={() => setReplyTo(undefined)}
        onEditLast={() => {
          const mine = [...store.timeline(roomId).messages].reverse().find((m) => m.senderId === store.me.userId && !m.deletedAt);
          if (mine) setEditing(mine.id);
        }}
      />
      {dragging && <div class="dropzone">Drop files to attach</div>}
    </section>
  );
}

function MessageList(props: {
  store: ChatStore;
  roomId: string;
  names: Map<string, string>;
  editing: string | undefined;
  onEdit: (id: string | undefined) => void;
  onReply: (m: Message) => void;
}) {
  const { store, roomId, names } = props;
  const t = store.timeline(roomId);
  const pending = store.pendingIn(roomId);
  const list = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const anchor = useRef<{ first?: string; height: number }>({ height: 0 });
  const count = t.messages.length + pending.length;

  // Keep the view pinned to the newest message unless the reader scrolled up; keep the reader's
  // place when older messages are added above.
  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    const first = t.messages[0]?.id;
    if (anchor.current.first && first !== anchor.current.first && !atBottom.current) {
      el.scrollTop += el.scrollHeight - anchor.current.height;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    anchor.current = { first, height: el.scrollHeight };
  }, [count, t.messages[0]?.id, store.version]);

  // Scrolling to the top loads the page before, and only while the reader is at the top: an
  // observer's notice is worked out at one rendering step and delivered later, so one that comes
  // after the log moved (worked out while it was still empty, say) must load nothing.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !t.hasOlder) return;
    const io = new IntersectionObserver((entries) => {
      const log = list.current;
      if (entries.some((e) => e.isIntersecting) && log && log.scrollHeight > log.clientHeight && log.scrollTop < TOP_SLACK_PX) {
        void store.loadOlder(roomId).catch((err) => store.fail(err));
      }
    }, { root: list.current });
    io.observe(el);
    return () => io.disconnect();
  }, [t.hasOlder, t.loaded, roomId]);

  const role = store.myRole(roomId);
  const lastMine = [...t.messages].reverse().find((m) => m.senderId === store.me.userId && !m.deletedAt);
  const seen = lastMine ? store.seenBy(roomId, lastMine.seq, lastMine.senderId) : [];

  return (
    <div
      class="messages"
      ref={list}
      role="log"
      aria-label="Messages"
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
    >
      <div ref={sentinel} />
      {t.hasOlder && t.loaded && (
        <button type="button" class="older" disabled={t.loadingOlder} onClick={() => void store.loadOlder(roomId).catch((err) => store.fail(err))}>
          {t.loadingOlder ? 'Loading…' : 'Load older messages'}
        </button>
      )}
      {!t.loaded && t.messages.length === 0 && <p class="muted">Loading messages…</p>}
      {t.loaded && !t.hasOlder && t.messages.length === 0 && pending.length === 0 && <p class="muted">No messages yet. Say hello!</p>}
      {t.messages.map((m) => (
        <MessageItem
          key={m.id}
          store={store}
          message={m}
          names={names}
          canModerate={role === 'admin' || role === 'moderator'}
          editing={props.editing === m.id}
          onEdit={props.onEdit}
          onReply={props.onReply}
        />
      ))}
      {pending.map((p) => (
        <PendingItem key={p.clientMessageId} store={store} pending={p} names={names} />
      ))}
      {seen.length > 0 && (
        <p class="seen">
          Seen by {seen.join(', ')}
        </p>
      )}
    </div>
  );
}

function MessageItem(props: {
  store: ChatStore;
  message: Message;
  names: Map<string, string>;
  canModerate: boolean;
  editing: boolean;
  onEdit: (id: string | undefined) => void;
  onReply: (m: Message) => void;
}) {
  const { store, message: m, names } = props;
  const [picker, setPicker] = useState(false);
  const mine = m.senderId === store.me.userId;
  const fail = (err: unknown) => store.fail(err);
  if (m.type === 'system') {
    return (
      <div class="msg system" role="article" aria-label={plain(m.content, names)}>
        {plain(m.content, names)} · {time(m.createdAt)}
      </div>
    );
  }
  const name = mine ? 'You' : m.sender.displayName;
  return (
    <article class={`msg${mine ? ' mine' : ''}`} aria-label={`${name} at ${time(m.createdAt)}`} data-seq={m.seq}>
      <Avatar name={m.sender.displayName} />
      <div>
        <div class="head">
          <strong>{m.sender.displayName}</strong>
          <time class="muted" dateTime={m.createdAt}>
            {time(m.createdAt)}
          </time>
          {m.editedAt && !m.deletedAt && <span class="muted">(edited)</span>}
        </div>
        {m.replyTo && (
          <div class="reply-ref">
            ↪ {names.get(m.replyTo.senderId) ?? m.replyTo.senderId}: {plain(m.replyTo.excerpt, names)}
          </div>
        )}
        {m.deletedAt ? (
          <div class="deleted">This message was deleted.</div>
        ) : props.editing ? (
          <EditForm
            initial={m.content}
            onCancel={() => props.onEdit(undefined)}
            onSave={(content) => {
              props.onEdit(undefined);
              if (content !== m.content) store.edit(m.roomId, m.id, content).catch(fail);
            }}
          />
        ) : (
          m.content && (
            <div class="bubble">
              <Content text={m.content} names={names} />
            </div>
          )
        )}
        {!m.deletedAt && m.attachments.length > 0 && <Attachments message={m} />}
        {m.reactions.length > 0 && (
          <div class="reactions" role="group" aria-label="Reactions">
            {m.reactions.map((r) => (
              <button
                type="button"
                key={r.emoji}
                aria-pressed={r.me}
                aria-label={`${r.emoji} ${r.count}`}
                onClick={() => store.toggleReaction(m, r.emoji).catch(fail)}
              >
                {r.emoji} {r.count}
              </button>
            ))}
          </div>
        )}
      </div>
      {!m.deletedAt && !props.editing && (
        <div class={`actions${picker ? ' open' : ''}`} role="toolbar" aria-label="Message actions">
          {picker ? (
            <div class="picker" role="group" aria-label="Pick a reaction">
              {EMOJI.map((e) => (
                <button
                  type="button"
                  class="icon"
                  key={e}
                  aria-label={`React with ${e}`}
                  onClick={() => {
                    setPicker(false);
                    store.toggleReaction(m, e).catch(fail);
                  }}
                >
                  {e}
                </button>
              ))}
              <button type="button" class="icon" aria-label="Close reactions" onClick={() => setPicker(false)}>
                <Icon name="close" />
              </button>
            </div>
          ) : (
            <>
              <button type="button" class="icon" aria-label="Add reaction" onClick={() => setPicker(true)}>
                <Icon name="smile" />
              </button>
              <button type="button" class="icon" aria-label="Reply" onClick={() => props.onReply(m)}>
                <Icon name="reply" />
              </button>
              {mine && (
                <button type="button" class="icon" aria-label="Edit" onClick={() => props.onEdit(m.id)}>
                  <Icon name="edit" />
                </button>
              )}
              {(mine || props.canModerate) && (
                <button
                  type="button"
                  class="icon"
                  aria-label="Delete"
                  onClick={() => {
                    if (confirm(mine ? 'Delete this message?' : `Delete ${m.sender.displayName}'s message?`)) store.remove(m.roomId, m.id).catch(fail);
                  }}
                >
                  <Icon name="trash" />
                </button>
              )}
            </>
          )}
        </div>
      )}
    </article>
  );
}

function EditForm({ initial, onSave, onCancel }: { initial: string; onSave: (s: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <form
      class="edit"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim()) onSave(text);
      }}
    >
      <textarea
        ref={input}
        aria-label="Edit message"
        value={text}
        rows={2}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onCancel();
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            if (text.trim()) onSave(text);
          }
        }}
      />
      <div class="row">
        <button type="submit" class="primary">
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/**
 * An image's box before it loads, so a late image does not push the log about: its aspect, as wide
 * as the caps allow (`--img-max-w` × `--img-max-h` in styles.css, never enlarged). The size
 * attributes alone would be squashed by the two caps rather than scaled.
 */
function boxOf(width: number, height: number) {
  return { width: `min(${width}px, var(--img-max-w), calc(var(--img-max-h) * ${width / height}))`, height: 'auto', aspectRatio: `${width} / ${height}` };
}

function Attachments({ message }: { message: Message }) {
  return (
    <div class="attachments">
      {message.attachments.map((a) =>
        a.contentType.startsWith('image/') ? (
          <a key={a.id} href={a.url} target="_blank" rel="noopener" aria-label={`Open image ${a.name}`}>
            <img src={a.thumbnailUrl ?? a.url} alt={a.name} loading="lazy" width={a.width} height={a.height} style={a.width && a.height ? boxOf(a.width, a.height) : undefined} />
          </a>
        ) : (
          <a key={a.id} class="file" href={a.url} download={a.name} aria-label={`Download ${a.name}`}>
            <Icon name="file" /> {a.name} <span class="muted">{fileSize(a.size)}</span>
          </a>
        ),
      )}
    </div>
  );
}

function PendingItem({ store, pending: p, names }: { store: ChatStore; pending: PendingMessage; names: Map<string, string> }) {
  const label = p.status === 'failed' ? 'Not sent' : p.status === 'sending' ? 'Sending…' : 'Waiting to send';
  return (
    <article class="msg mine pending" aria-label={`You, ${label}`} data-pending={p.status}>
      <Avatar name={store.me.displayName} />
      <div>
        <div class="head">
          <strong>{store.me.displayName}</strong>
          <span class={`status ${p.status}`}>{label}</span>
        </div>
        <div class="bubble">
          <Content text={p.content} names={names} />
          {p.attachmentNames.length > 0 && <div class="muted">Attachments: {p.attachmentNames.join(', ')}</div>}
        </div>
        {p.status === 'failed' && (
          <div class="status failed">
            {p.error && <span>{p.error} </span>}
            <button type="button" class="link" onClick={() => store.retry(p)}>
              Retry
            </button>
            <button type="button" class="link" onClick={() => store.discard(p).catch((e) => store.fail(e))}>
              Discard
            </button>
          </div>
        )}
      </div>
    </article>
  );
}

function TypingLine({ store, roomId }: { store: ChatStore; roomId: string }) {
  const who = store.typingIn(roomId);
  const text =
    who.length === 0 ? '' : who.length === 1 ? `${who[0]} is typing…` : who.length === 2 ? `${who[0]} and ${who[1]} are typing…` : 'Several people are typing…';
  return (
    <div class="typing" role="status" aria-label="Typing">
      {text}
    </div>
  );
}

type ComposerHandle = { addFiles(files: File[]): void; focus(): void };

interface ComposerProps {
  handle: { current: ComposerHandle | null };
  store: ChatStore;
  roomId: string;
  replyTo: Message | undefined;
  names: Map<string, string>;
  onCancelReply: () => void;
  onEditLast: () => void;
}

/** Text with @mention suggestions, attachments (picker, drop, paste) and the reply being written. */
function Composer(props: ComposerProps) {
  const { store, roomId } = props;
  const [text, setText] = useState('');
  const [files, setFiles] = useState<{ id: string; name: string }[]>([]);
  const [suggest, setSuggest] = useState<{ start: number; query: string; index: number }>();
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  /** Display text `@Name` inserted by the autocomplete → user id, turned into `<@id>` on send. */
  const mentions = useRef(new Map<string, string>());
  const archived = Boolean(store.rooms.get(roomId)?.room.archivedAt);

  const addFiles = (list: File[]) => {
    for (const file of list) {
      void store.upload(roomId, file).then((id) => {
        if (id) setFiles((f) => [...f, { id, name: file.name }]);
      });
    }
  };
  props.handle.current = { addFiles, focus: () => input.current?.focus() };

  const members = (store.members.get(roomId) ?? [])
    .filter((m) => m.userId !== store.me.userId)
    .map((m) => ({ userId: m.userId, displayName: store.nameOf(m.userId, m.displayName) }));
  const options = suggest
    ? members.filter((m) => m.displayName.toLowerCase().startsWith(suggest.query.toLowerCase()) || m.userId.toLowerCase().startsWith(suggest.query.toLowerCase())).slice(0, 6)
    : [];

  const updateSuggest = (value: string, caret: number) => {
    const m = /(^|\s)@([^\s@]*)$/.exec(value.slice(0, caret));
    setSuggest(m ? { start: caret - m[2]!.length - 1, query: m[2]!, index: 0 } : undefined);
  };

  const pick = (userId: string, displayName: string) => {
    if (!suggest) return;
    const el = input.current;
    const current = el?.value ?? text;
    const caret = el?.selectionStart ?? current.length;
    const token = `@${displayName}`;
    const next = `${current.slice(0, suggest.start)}${token} ${current.slice(caret)}`;
    const at = suggest.start + token.length + 1;
    mentions.current.set(token, userId);
    // The text and the caret change now, in this key or mouse event: a caret put right on a later
    // frame would land among the letters a fast typist has typed since, and split them.
    if (el) {
      el.value = next;
      el.setSelectionRange(at, at);
      el.focus();
    }
    setText(next);
    setSuggest(undefined);
  };

  const submit = () => {
    let content = text.trim();
    if (!content && files.length === 0) return;
    for (const [token, userId] of mentions.current) content = content.split(token).join(`<@${userId}>`);
    store.send(roomId, {
      content,
      ...(props.replyTo && { replyTo: props.replyTo.id }),
      attachmentIds: files.map((f) => f.id),
      attachmentNames: files.map((f) => f.name),
    });
    setText('');
    setFiles([]);
    mentions.current.clear();
    props.onCancelReply();
    store.typingDone(roomId);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (suggest && options.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const d = e.key === 'ArrowDown' ? 1 : -1;
        setSuggest({ ...suggest, index: (suggest.index + d + options.length) % options.length });
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        const o = options[suggest.index]!;
        pick(o.userId, o.displayName);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setSuggest(undefined);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && props.replyTo) {
      props.onCancelReply();
    } else if (e.key === 'ArrowUp' && !text) {
      e.preventDefault();
      props.onEditLast();
    }
  };

  const names = props.names;
  return (
    <form
      class="composer"
      aria-label="Write a message"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {props.replyTo && (
        <div class="context">
          <span>
            Replying to <strong>{props.replyTo.sender.displayName}</strong>: {plain(props.replyTo.content, names)}
          </span>
          <button type="button" class="icon" aria-label="Cancel reply" onClick={props.onCancelReply}>
            <Icon name="close" />
          </button>
        </div>
      )}
      {(store.uploads.some((u) => u.roomId === roomId) || files.length > 0) && (
        <ul class="uploads" aria-label="Attachments">
          {store.uploads
            .filter((u) => u.roomId === roomId)
            .map((u) => (
              <li key={u.id}>
                <span>{u.name}</span>
                {u.error ? (
                  <>
                    <span class="error">{u.error}</span>
                    <button type="button" class="link" onClick={() => store.dismissUpload(u)}>
                      Dismiss
                    </button>
                  </>
                ) : (
                  <progress aria-label={`Uploading ${u.name}`} max={1} value={u.progress} />
                )}
              </li>
            ))}
          {files.map((f) => (
            <li key={f.id}>
              <span>{f.name}</span>
              <button type="button" class="icon" aria-label={`Remove ${f.name}`} onClick={() => setFiles((all) => all.filter((x) => x !== f))}>
                <Icon name="close" />
              </button>
            </li>
          ))}
        </ul>
      )}
      {suggest && options.length > 0 && (
        <ul class="suggestions" role="listbox" id="mention-list" aria-label="Mention someone">
          {options.map((o, i) => (
            <li
              key={o.userId}
              id={`mention-${i}`}
              role="option"
              aria-selected={i === suggest.index}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(o.userId, o.displayName);
              }}
            >
              {o.displayName} <span class="muted">{o.userId}</span>
            </li>
          ))}
        </ul>
      )}
      <div class="row">
        <button type="button" class="icon" aria-label="Attach files" disabled={archived} onClick={() => picker.current?.click()}>
          <Icon name="attach" />
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          aria-label="Choose files to attach"
          onChange={(e) => {
            addFiles([...(e.currentTarget.files ?? [])]);
            e.currentTarget.value = '';
          }}
        />
        <textarea
          ref={input}
          aria-label="Message"
          placeholder={archived ? 'This room is archived' : 'Write a message…'}
          disabled={archived}
          rows={1}
          value={text}
          aria-autocomplete="list"
          aria-controls={suggest && options.length ? 'mention-list' : undefined}
          aria-activedescendant={suggest && options.length ? `mention-${suggest.index}` : undefined}
          onInput={(e) => {
            const el = e.currentTarget;
            setText(el.value);
            updateSuggest(el.value, el.selectionStart ?? el.value.length);
            if (el.value) store.typingNow(roomId);
            else store.typingDone(roomId);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => store.typingDone(roomId)}
          onPaste={(e) => {
            const pasted = [...(e.clipboardData?.files ?? [])];
            if (pasted.length) {
              e.preventDefault();
              addFiles(pasted);
            }
          }}
        />
        <button type="submit" class="primary" disabled={archived || store.uploads.some((u) => u.roomId === roomId && !u.error)}>
          Send
        </button>
      </div>
    </form>
  );
}
