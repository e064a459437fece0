import WebSocket from 'ws';
import { ParleyClient, type Message, type ParleyClientOptions } from '../../client/index.ts';
import { api, type TestUser } from './clients.ts';

/** An SDK client for a test user, on Node's `ws`, fast timers unless told otherwise. */
export function sdkClient(user: TestUser, where: { httpUrl: string; wsUrl: string }, opts: Partial<ParleyClientOptions> = {}): ParleyClient {
  return new ParleyClient({
    httpUrl: where.httpUrl,
    wsUrl: where.wsUrl,
    getToken: () => user.token,
    WebSocket: WebSocket as unknown as ParleyClientOptions['WebSocket'],
    ...opts,
  });
}

/** What a client handed the app, in order. */
export class Recorder {
  readonly messages: Message[] = [];
  readonly updates: Message[] = [];
  readonly states: string[] = [];
  constructor(client: ParleyClient) {
    client.on('message', (m) => this.messages.push(m));
    client.on('message_updated', (m) => this.updates.push(m));
    client.on('state', (s) => this.states.push(s));
  }
  inRoom(roomId: string): Message[] {
    return this.messages.filter((m) => m.roomId === roomId);
  }
}

/** A room's whole history, oldest first, as the server has it. */
export async function roomHistory(httpUrl: string, token: string, roomId: string): Promise<Message[]> {
  const out: Message[] = [];
  for (let after = 0; ; ) {
    const res = await api<{ items: Message[]; nextCursor?: string }>(httpUrl, 'GET', `/rooms/${roomId}/messages?afterSeq=${after}&limit=100`, { token });
    if (res.status !== 200) throw new Error(`history: ${res.status} ${JSON.stringify(res.body)}`);
    out.push(...res.body.items);
    if (!res.body.nextCursor || res.body.items.length === 0) return out;
    after = res.body.items.at(-1)!.seq;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
