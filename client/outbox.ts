import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { ParleyError } from './api.ts';
import type { ParleyStorage } from './storage.ts';
import type { Message, SendMessageBody } from './wire.ts';

/** What `send()` takes: a message body without its `clientMessageId` (the SDK picks it). */
export type SendInput = Omit<SendMessageBody, 'clientMessageId'>;

export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'failed';

/** A send the server has not stored yet (or just stored: `sent`, announced once, then forgotten). */
export interface OutboxEntry {
  roomId: string;
  clientMessageId: string;
  body: SendInput;
  status: OutboxStatus;
  /** Why it failed for good. */
  error?: { code: string; message: string };
  /** The stored message, once `sent`. */
  message?: Message;
  /** When `send()` was called (ms since the epoch); with `n`, the order of sends. */
  createdAt: number;
  n: number;
}

interface Waiter {
  resolve(m: Message): void;
  reject(e: ParleyError): void;
}

let counter = 0;

/**
 * Sends kept in storage until the server stored them. One send at a time per room, in the order
 * they were made, so a room's messages get their seqs in that order; rooms go in parallel.
 * Retryable failures (network, 5xx, 429 with its Retry-After) wait and try again with the same
 * `clientMessageId`, which the server stores once; refusals (validation, forbidden, not found…)
 * end as `failed` and are never retried.
 */
export class Outbox {
  readonly entries = new Map<string, OutboxEntry>();
  #waiters = new Map<string, Waiter>();
  #running = new Set<string>();
  #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #saved = new Map<string, Promise<void>>();
  #attempts = new Map<string, number>();
  #notBefore = new Map<string, number>();
  /** Sends held by the server's Retry-After: a reconnect does not cut that wait short. */
  #firm = new Set<string>();
  enabled = false;

  constructor(
    private storage: ParleyStorage,
    private key: (cmid: string) => Promise<string>,
    private post: (e: OutboxEntry) => Promise<Message>,
    private emit: (e: OutboxEntry) => void,
    private backoff: BackoffOptions,
    private random: () => number,
  ) {}

  /** Takes in the sends a previous client on this storage left (a reload re-sends them). */
  load(saved: OutboxEntry[]): void {
    for (const e of saved.sort((a, b) => a.createdAt - b.createdAt || a.n - b.n)) {
      if (this.entries.has(e.clientMessageId)) continue;
      this.entries.set(e.clientMessageId, { ...e, status: e.status === 'failed' ? 'failed' : 'queued' });
    }
  }

  add(roomId: string, body: SendInput, clientMessageId: string): { entry: OutboxEntry; sent: Promise<Message> } {
    const entry: OutboxEntry = { roomId, clientMessageId, body, status: 'queued', createdAt: Date.now(), n: counter++ };
    this.entries.set(clientMessageId, entry);
    this.#saved.set(clientMessageId, this.#save(entry));
    const sent = new Promise<Message>((resolve, reject) => this.#waiters.set(clientMessageId, { resolve, reject }));
    sent.catch(() => undefined);
    this.emit(entry);
    this.kick(roomId);
    return { entry, sent };
  }

  /** Sends not stored yet, oldest first. */
  pending(): OutboxEntry[] {
    return [...this.entries.values()].filter((e) => e.status !== 'sent');
  }

  /** Starts (or wakes) every room's queue, or one room's; `now` drops waits (back online). */
  kick(roomId?: string, now = false): void {
    if (!this.enabled) return;
    const rooms = roomId ? [roomId] : new Set([...this.entries.values()].map((e) => e.roomId));
    for (const r of rooms) {
      if (now) {
        clearTimeout(this.#timers.get(r));
        this.#timers.delete(r);
        for (const e of this.entries.values()) if (e.roomId === r && !this.#firm.has(e.clientMessageId)) this.#notBefore.delete(e.clientMessageId);
      }
      if (!this.#running.has(r) && !this.#timers.has(r)) void this.#run(r);
    }
  }

  stop(): void {
    this.enabled = false;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  /** Tries a failed send again (same `clientMessageId`). */
  retry(clientMessageId: string): void {
    const e = this.entries.get(clientMessageId);
    if (e?.status !== 'failed') return;
    e.status = 'queued';
    delete e.error;
    this.#attempts.delete(clientMessageId);
    this.#saved.set(clientMessageId, this.#save(e));
    this.emit(e);
    this.kick(e.roomId);
  }

  /** Forgets a send (a failed one the user gave up on). */
  async discard(clientMessageId: string): Promise<void> {
    const e = this.entries.get(clientMessageId);
    if (!e || e.status === 'sending') return;
    this.entries.delete(clientMessageId);
    await this.storage.delete(await this.key(clientMessageId));
  }

  async #save(e: OutboxEntry): Promise<void> {
    const { message: _m, ...rest } = e;
    await this.storage.set(await this.key(e.clientMessageId), rest);
  }

  async #run(roomId: string): Promise<void> {
    this.#running.add(roomId);
    try {
      while (this.enabled) {
        const e = [...this.entries.values()].find((x) => x.roomId === roomId && x.status === 'queued');
        if (!e) return;
        const wait = (this.#notBefore.get(e.clientMessageId) ?? 0) - Date.now();
        if (wait > 0) {
          this.#timers.set(
            roomId,
            setTimeout(() => {
              this.#timers.delete(roomId);
              this.kick(roomId);
            }, wait),
          );
          return;
        }
        await this.#saved.get(e.clientMessageId);
        e.status = 'sending';
        this.emit(e);
        try {
          const message = await this.post(e);
          this.entries.delete(e.clientMessageId);
          this.#firm.delete(e.clientMessageId);
          this.#notBefore.delete(e.clientMessageId);
          this.#attempts.delete(e.clientMessageId);
          await this.storage.delete(await this.key(e.clientMessageId));
          e.status = 'sent';
          e.message = message;
          this.emit(e);
          this.#waiters.get(e.clientMessageId)?.resolve(message);
          this.#waiters.delete(e.clientMessageId);
        } catch (err) {
          const error = err instanceof ParleyError ? err : new ParleyError('network', String(err));
          if (error.retryable || error.status === 401 || !this.enabled) {
            const attempt = this.#attempts.get(e.clientMessageId) ?? 0;
            this.#attempts.set(e.clientMessageId, attempt + 1);
            this.#notBefore.set(e.clientMessageId, Date.now() + (error.retryAfter ? error.retryAfter * 1000 : backoffDelay(attempt, this.backoff, this.random)));
            if (error.retryAfter) this.#firm.add(e.clientMessageId);
            else this.#firm.delete(e.clientMessageId);
            e.status = 'queued';
          } else {
            e.status = 'failed';
            e.error = { code: error.code, message: error.message };
            await this.#save(e);
            this.#waiters.get(e.clientMessageId)?.reject(error);
            this.#waiters.delete(e.clientMessageId);
          }
          this.emit(e);
        }
      }
    } finally {
      this.#running.delete(roomId);
    }
  }
}
