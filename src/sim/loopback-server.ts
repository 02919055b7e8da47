// The HTTP plumbing every simulated server shares: a node:http server on loopback with keep-alive, Nagle off
// (streamed tokens must leave when written), its sockets tracked so close() is immediate, and body reading.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

export class LoopbackServer {
  readonly server: Server;
  #sockets = new Set<Socket>();
  #port = 0;

  /** `onError` answers a request whose handler threw. */
  constructor(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>, onError: (res: ServerResponse, err: unknown) => void) {
    this.server = createServer((req, res) => {
      handle(req, res).catch((err: unknown) => onError(res, err));
    });
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (s: Socket) => {
      s.setNoDelay(true);
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address();
        this.#port = typeof a === 'object' && a ? a.port : port;
        resolve(this.#port);
      });
    });
  }

  get port(): number {
    return this.#port;
  }

  /** The OpenAI API root of this server. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}/v1`;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
