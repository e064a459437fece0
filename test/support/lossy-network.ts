import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

/**
 * A lossy network between SDK clients and the real local stack: a WebSocket relay that can drop
 * chosen server frames on a healthy socket, kill sockets, or refuse to connect (offline), and an
 * HTTP relay that can lose requests or their responses. Everything else passes through unchanged.
 */
export class LossyNetwork {
  /** Server → client frames for which this returns true are dropped. */
  dropFrame: (frame: Record<string, any>) => boolean = () => false;
  /** New connections are refused (the TCP socket is destroyed) while set. */
  offline = false;
  /** Probability that an HTTP request is lost before it reaches the server, or its response after. */
  loseRequest = 0;
  loseResponse = 0;
  /** Only requests matching this are subject to loss. */
  lossyRequest: (method: string, path: string) => boolean = () => true;
  /** When each client asked to connect (ms, the upgrade request's arrival), in order. */
  readonly connections: number[] = [];
  readonly sockets = new Set<WebSocket>();
  dropped = 0;
  private wsServer!: http.Server;
  private httpServer!: http.Server;
  wsUrl = '';
  httpUrl = '';

  constructor(
    private upstreamHttp: string,
    private upstreamWs: string,
    private random: () => number = Math.random,
  ) {}

  async start(): Promise<this> {
    const wss = new WebSocketServer({ noServer: true });
    this.wsServer = http.createServer();
    this.wsServer.on('upgrade', (req, socket, head) => {
      if (this.offline) return socket.destroy();
      this.connections.push(Date.now());
      const upstream = new WebSocket(new URL(req.url ?? '/', this.upstreamWs));
      upstream.once('unexpected-response', (_r, res) => {
        socket.end(`HTTP/1.1 ${res.statusCode} Refused\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      });
      upstream.once('error', () => socket.destroy());
      upstream.once('open', () => {
        wss.handleUpgrade(req, socket, head, (client) => {
          this.sockets.add(client);
          upstream.on('message', (data) => {
            const frame = JSON.parse(data.toString());
            if (this.dropFrame(frame)) {
              this.dropped++;
              return;
            }
            if (client.readyState === WebSocket.OPEN) client.send(data.toString());
          });
          client.on('message', (data) => {
            if (upstream.readyState === WebSocket.OPEN) upstream.send(data.toString());
          });
          const end = () => {
            this.sockets.delete(client);
            client.terminate();
            upstream.terminate();
          };
          client.on('close', end);
          client.on('error', end);
          upstream.on('close', end);
          upstream.on('error', end);
        });
      });
    });
    this.httpServer = http.createServer((req, res) => void this.relay(req, res));
    await Promise.all([listen(this.wsServer), listen(this.httpServer)]);
    this.wsUrl = `ws://127.0.0.1:${(this.wsServer.address() as AddressInfo).port}/`;
    this.httpUrl = `http://127.0.0.1:${(this.httpServer.address() as AddressInfo).port}/`;
    return this;
  }

  private async relay(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const lossy = this.lossyRequest(req.method ?? 'GET', req.url ?? '/');
    if (this.offline || (lossy && this.random() < this.loseRequest)) return res.socket?.destroy();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
    let upstream: Response;
    try {
      upstream = await fetch(new URL(req.url ?? '/', this.upstreamHttp), {
        method: req.method ?? 'GET',
        headers,
        ...(chunks.length > 0 && { body: Buffer.concat(chunks) }),
      });
    } catch {
      return res.socket?.destroy();
    }
    const body = Buffer.from(await upstream.arrayBuffer());
    if (this.offline || (lossy && this.random() < this.loseResponse)) return res.socket?.destroy();
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
    });
    res.writeHead(upstream.status, out);
    res.end(body);
  }

  /** Cuts every client socket abruptly (no close frame), as a network drop does. */
  killAll(): void {
    for (const s of this.sockets) s.terminate();
  }

  /** Cuts one random client socket; false when none was open. */
  killOne(): boolean {
    const all = [...this.sockets];
    const victim = all[Math.floor(this.random() * all.length)];
    victim?.terminate();
    return victim !== undefined;
  }

  async stop(): Promise<void> {
    this.killAll();
    await Promise.all([this.wsServer, this.httpServer].map((s) => new Promise<void>((r) => (s.close(() => r()), s.closeAllConnections()))));
  }
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
}
