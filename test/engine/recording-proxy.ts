// A pass-through HTTP proxy that keeps every exchange: put between the PD router and the prefill server, it
// shows what the router sent and the prefill server's own timings for each leg, which the router drops.
// Buffers whole responses, so it is only for non-streamed traffic (the prefill leg is stream: false).
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface Exchange {
  path: string;
  userId: string | undefined;
  requestBody: Record<string, unknown>;
  status: number;
  responseBody: unknown;
  /** process.hrtime.bigint() when the request arrived and when the answer was sent back. */
  startNs: bigint;
  endNs: bigint;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export class RecordingProxy {
  readonly exchanges: Exchange[] = [];
  #server: Server;
  #target: string;
  #port = 0;

  /** `target`: the upstream root, e.g. http://127.0.0.1:PORT. */
  constructor(target: string) {
    this.#target = target;
    this.#server = createServer((req, res) => {
      void (async () => {
        const startNs = process.hrtime.bigint();
        const body = await readAll(req);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
        try {
          const up = await fetch(this.#target + (req.url ?? '/'), { method: req.method ?? 'GET', headers, body: req.method === 'GET' ? undefined : body });
          const text = await up.text();
          res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
          res.end(text);
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the text
          }
          const userId = req.headers['x-user-id'];
          this.exchanges.push({
            path: req.url ?? '/',
            userId: typeof userId === 'string' ? userId : undefined,
            requestBody: body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {},
            status: up.status,
            responseBody: parsed,
            startNs,
            endNs: process.hrtime.bigint(),
          });
        } catch (err) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `recording proxy: ${(err as Error).message}` } }));
        }
      })();
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    const a = this.#server.address();
    this.#port = typeof a === 'object' && a ? a.port : 0;
    return `http://127.0.0.1:${this.#port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
