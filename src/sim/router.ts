// An OpenAI-compatible router in front of real HTTP backends, modelled on vLLM production-stack's router:
// `session` routing (affinity on the session header, round robin without it) and `disaggregated_prefill`
// (send the client's body to a prefill backend with max_tokens 1, stream false and no stream_options, wait for
// the whole answer and drop it, then stream the decode backend's answer back — optionally labelled
// application/json, as that router does). Works in front of simulated engines and real servers alike.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Pool } from '../util/undici.js';
import { LoopbackServer, readBody } from './loopback-server.js';

export type RoutingLogic = 'session' | 'disaggregated_prefill';

export interface RouterOptions {
  logic: RoutingLogic;
  /** session: the replicas. */
  backends?: string[];
  /** disaggregated_prefill: prefill and decode pools. */
  prefill?: string[];
  decode?: string[];
  sessionHeader?: string;
  /** Content type of streamed answers in PD mode: 'passthrough' keeps the decode backend's. */
  pdContentType?: 'passthrough' | 'application/json';
}

interface Backend {
  url: URL;
  pool: Pool;
  routed: number;
}

function backend(u: string): Backend {
  const url = new URL(u.replace(/\/+$/, '') + '/');
  return { url, pool: new Pool(url.origin, { connections: 1024, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 60_000 }), routed: 0 };
}

/** FNV-1a: a stable hash of the session id, so a user always lands on the same replica. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}


function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    // Mid-stream: append the error as a bare JSON blob, as production-stack's router does.
    if (!res.writableEnded) res.end(JSON.stringify({ error: { message, type: 'RouterError', code: status } }) + '\n');
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type: 'RouterError', param: null, code: status } }));
}

const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

export class Router {
  readonly logic: RoutingLogic;
  #opts: RouterOptions;
  #http: LoopbackServer;
  #replicas: Backend[];
  #prefill: Backend[];
  #decode: Backend[];
  #rr = 0;
  requests = 0;
  errors = 0;
  /** More Prometheus text for /metrics (the simulated engines behind this router). */
  extraMetrics: (() => string) | undefined;

  constructor(opts: RouterOptions) {
    this.#opts = opts;
    this.logic = opts.logic;
    this.#replicas = (opts.backends ?? []).map(backend);
    this.#prefill = (opts.prefill ?? []).map(backend);
    this.#decode = (opts.decode ?? []).map(backend);
    if (opts.logic === 'session' && this.#replicas.length === 0) throw new RangeError('session routing needs at least one backend');
    if (opts.logic === 'disaggregated_prefill' && (this.#prefill.length === 0 || this.#decode.length === 0)) {
      throw new RangeError('disaggregated_prefill routing needs at least one prefill and one decode backend');
    }
    this.#http = new LoopbackServer(
      (req, res) => this.#handle(req, res),
      (res, err) => {
        this.errors++;
        sendError(res, 502, `router: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return this.#http.listen(port, host);
  }

  get url(): string {
    return this.#http.url;
  }

  async close(): Promise<void> {
    await this.#http.close();
    await Promise.all([...this.#replicas, ...this.#prefill, ...this.#decode].map((b) => b.pool.destroy()));
  }

  metricsText(): string {
    const lines = [
      '# HELP pdbench_router_requests_total Requests received by the simulated router.',
      '# TYPE pdbench_router_requests_total counter',
      `pdbench_router_requests_total{logic="${this.logic}"} ${this.requests}`,
      '# HELP pdbench_router_errors_total Requests the router failed itself.',
      '# TYPE pdbench_router_errors_total counter',
      `pdbench_router_errors_total{logic="${this.logic}"} ${this.errors}`,
      '# HELP pdbench_router_routed_total Requests (or legs) sent to each backend.',
      '# TYPE pdbench_router_routed_total counter',
    ];
    const add = (role: string, bs: Backend[]): void => {
      for (const b of bs) lines.push(`pdbench_router_routed_total{role="${role}",backend="${b.url.origin}"} ${b.routed}`);
    };
    add('replica', this.#replicas);
    add('prefill', this.#prefill);
    add('decode', this.#decode);
    return lines.join('\n') + '\n';
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/health') {
      res.writeHead(200).end();
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.metricsText() + (this.extraMetrics?.() ?? ''));
      return;
    }
    const first = (this.#replicas[0] ?? this.#decode[0]) as Backend;
    if (req.method === 'GET' && path === '/v1/models') {
      await this.#proxy(first, req, res, undefined);
      return;
    }
    // Tokenizer endpoints (vLLM's /tokenize and /detokenize, llama-server's /apply-template too) go to one
    // backend: every backend serves the same model.
    if (req.method === 'POST' && (path === '/tokenize' || path === '/detokenize' || path === '/apply-template')) {
      await this.#proxy(first, req, res, await readBody(req));
      return;
    }
    if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/v1/completions')) {
      sendError(res, 404, `router: no route for ${req.method} ${path}`);
      return;
    }
    this.requests++;
    const body = await readBody(req);
    if (this.logic === 'session') {
      const sid = req.headers[(this.#opts.sessionHeader ?? 'x-user-id').toLowerCase()];
      const id = Array.isArray(sid) ? sid[0] : sid;
      const n = this.#replicas.length;
      const b = this.#replicas[id ? hashString(id) % n : this.#rr++ % n] as Backend;
      await this.#proxy(b, req, res, body);
      return;
    }
    await this.#disaggregated(req, res, body);
  }

  async #disaggregated(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      sendError(res, 400, 'router: request body is not valid JSON');
      return;
    }
    const i = this.#rr++;
    const p = this.#prefill[i % this.#prefill.length] as Backend;
    const d = this.#decode[i % this.#decode.length] as Backend;
    const { stream_options: _drop, ...rest } = parsed;
    const prefillBody = JSON.stringify({ ...rest, max_tokens: 1, max_completion_tokens: undefined, stream: false });
    p.routed++;
    const pre = await p.pool.request({
      method: 'POST',
      path: new URL(req.url?.replace(/^\/v1\//, '') ?? '', p.url).pathname,
      headers: this.#forwardHeaders(req),
      body: prefillBody,
    });
    const preText = await pre.body.text();
    if (pre.statusCode >= 400) {
      // The prefill leg's error is the client's error (context too long, bad request, overload).
      res.writeHead(pre.statusCode, { 'content-type': 'application/json' });
      res.end(preText);
      return;
    }
    await this.#proxy(d, req, res, body, this.#opts.pdContentType === 'application/json' ? 'application/json' : undefined);
  }

  #forwardHeaders(req: IncomingMessage): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP_HEADERS.has(k)) continue;
      out[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    return out;
  }

  /** Streams a backend's answer to the client byte for byte; cancels the backend request if the client leaves. */
  async #proxy(b: Backend, req: IncomingMessage, res: ServerResponse, body: Buffer | undefined, contentType?: string): Promise<void> {
    b.routed++;
    const ac = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) ac.abort();
    };
    res.on('close', onClose);
    try {
      const up = await b.pool.request({
        method: req.method === 'GET' ? 'GET' : 'POST',
        path: new URL((req.url ?? '/').replace(/^\/v1\//, ''), b.url).pathname,
        headers: this.#forwardHeaders(req),
        body,
        signal: ac.signal,
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(up.headers)) {
        if (v === undefined || HOP_HEADERS.has(k)) continue;
        headers[k] = Array.isArray(v) ? v.join(', ') : v;
      }
      if (contentType && up.statusCode < 400) headers['content-type'] = contentType;
      res.writeHead(up.statusCode, headers);
      res.flushHeaders();
      try {
        for await (const chunk of up.body) {
          if (res.destroyed) break;
          res.write(chunk as Buffer);
        }
        res.end();
      } catch (err) {
        // The backend broke mid-stream: pass the break on (the client sees a reset, as it would from the backend).
        res.destroy(err instanceof Error ? err : undefined);
      }
    } catch (err) {
      if (ac.signal.aborted) return;
      this.errors++;
      sendError(res, 502, `router: backend ${b.url.origin} failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      res.off('close', onClose);
    }
  }
}
