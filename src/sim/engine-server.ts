// The HTTP face of one simulated vLLM replica: OpenAI-compatible chat/completions (streamed or not),
// /v1/models, /health and /metrics, over an Engine. In a PD stack a prefill engine publishes when each
// prompt's KV will have reached the decode side (prefill end + link transfer) and the decode engine waits
// for it, as LMCache's hand-off does. Fault knobs make the failures a real stack shows reproducible.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mixSeed, prng } from '../util/prng.js';
import type { SimClock } from './clock.js';
import type { Engine } from './engine.js';
import { badRequest, errorType, parseGenRequest, type ApiError, type GenRequest } from './openai-api.js';
import { kvTransferMs, type LinkPreset } from './presets.js';
import { simDetokenize, simTokenIds, simTokenize, simTokenText } from './sim-tokenizer.js';
import { LoopbackServer, readBody } from './loopback-server.js';
import { EngineMetrics, type EngineMetricsSource } from './vllm-metrics.js';

export interface SimFaults {
  /** Share of requests answered with an error status (500, 429 and 400 in a 5:3:2 mix). */
  failRate: number;
  /** Share of streams whose connection is destroyed part-way. */
  resetRate: number;
  /** Every stream pauses this long once, half-way through its tokens (real ms). */
  stallMs: number;
  /** Never send usage, so clients must count tokens themselves. */
  noUsage: boolean;
  /** Tokens per streamed chunk. */
  chunkTokens: number;
  /**
   * Extra API-server time (simulated ms) before a request reaches the queue of a replica or prefill engine: a
   * TTFT regression of a stated size (TTFT and E2EL grow by this much, ITL does not). A PD decode leg does not pay
   * it, so both topologies lose the same amount.
   */
  apiDelayMs: number;
}

export const DEFAULT_SIM_FAULTS: Readonly<SimFaults> = Object.freeze({ failRate: 0, resetRate: 0, stallMs: 0, noUsage: false, chunkTokens: 1, apiDelayMs: 0 });

export type EngineRole = 'replica' | 'prefill' | 'decode';

/** Identifies a prompt across the two legs of a PD request (same model, same text). */
export function promptKey(model: string, prompt: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < prompt.length; i++) {
    h ^= prompt.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `${model}\u0000${prompt.length}\u0000${h >>> 0}`;
}

/**
 * Where prefill engines leave "this prompt's KV is on the decode side at time T" for decode engines. Bounded:
 * a prefill whose decode leg never comes (client gone, router error) must not grow it forever.
 */
export class MapKvHandoff {
  #m = new Map<string, { readyAtMs: number; transferMs: number }>();
  readonly limit: number;

  constructor(limit = 100_000) {
    this.limit = limit;
  }

  publish(key: string, readyAtMs: number, transferMs: number): void {
    this.#m.delete(key);
    this.#m.set(key, { readyAtMs, transferMs });
    if (this.#m.size > this.limit) {
      const oldest = this.#m.keys().next();
      if (!oldest.done) this.#m.delete(oldest.value);
    }
  }

  take(key: string): { readyAtMs: number; transferMs: number } | undefined {
    const v = this.#m.get(key);
    if (v) this.#m.delete(key);
    return v;
  }

  get size(): number {
    return this.#m.size;
  }
}

export interface EngineServerOptions {
  engine: Engine;
  clock: SimClock;
  role: EngineRole;
  servedModel: string;
  seed: number;
  faults?: Partial<SimFaults>;
  /** PD stacks: the shared hand-off and the link KV moves over. */
  kv?: { handoff: MapKvHandoff; link: LinkPreset };
}


function sendError(res: ServerResponse, e: ApiError): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify({ error: { message: e.message, type: e.type, param: null, code: e.status } });
  res.writeHead(e.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const FAIL_MIX: ReadonlyArray<[number, string]> = [
  [500, 'simulated engine failure'],
  [500, 'simulated engine failure'],
  [500, 'simulated engine failure'],
  [500, 'simulated engine failure'],
  [500, 'simulated engine failure'],
  [429, 'simulated overload: too many requests'],
  [429, 'simulated overload: too many requests'],
  [429, 'simulated overload: too many requests'],
  [400, 'simulated bad request'],
  [400, 'simulated bad request'],
];

export class EngineServer implements EngineMetricsSource {
  readonly engine: Engine;
  readonly role: EngineRole;
  readonly servedModel: string;
  readonly metrics = new EngineMetrics();
  readonly labels: Record<string, string>;
  #clock: SimClock;
  #faults: SimFaults;
  #kv: EngineServerOptions['kv'];
  #seed: number;
  #rand: () => number;
  #http: LoopbackServer;
  #counter = 0;
  #created = Math.floor(Date.now() / 1000);
  /** Extra Prometheus text (the stack renders every engine on each /metrics page). */
  metricsPage: (() => string) | undefined;

  constructor(o: EngineServerOptions) {
    this.engine = o.engine;
    this.role = o.role;
    this.servedModel = o.servedModel;
    this.#clock = o.clock;
    this.#faults = { ...DEFAULT_SIM_FAULTS, ...o.faults };
    this.#kv = o.kv;
    this.#seed = o.seed;
    this.#rand = prng(mixSeed(o.seed, 0xfa17));
    this.labels = { model_name: o.servedModel, engine: o.engine.name, role: o.role };
    this.#http = new LoopbackServer(
      (req, res) => this.#handle(req, res),
      (res, err) => sendError(res, { status: 500, message: `simulator: ${err instanceof Error ? err.message : String(err)}`, type: 'InternalServerError' }),
    );
  }

  stats(): ReturnType<Engine['stats']> {
    return this.engine.stats();
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return this.#http.listen(port, host);
  }

  get url(): string {
    return this.#http.url;
  }

  close(): Promise<void> {
    return this.#http.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/health') {
      res.writeHead(200).end();
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.metricsPage?.() ?? '');
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      const body = JSON.stringify({
        object: 'list',
        data: [{ id: this.servedModel, object: 'model', created: this.#created, owned_by: 'pd-bench-sim', max_model_len: this.engine.preset.maxModelLen }],
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    if (req.method === 'POST' && (path === '/tokenize' || path === '/detokenize')) {
      await this.#tokenizer(path, req, res);
      return;
    }
    const kind = path === '/v1/chat/completions' ? 'chat' : path === '/v1/completions' ? 'completion' : undefined;
    if (!kind) {
      sendError(res, { status: 404, message: `Not Found: ${req.method} ${path}`, type: 'NotFoundError' });
      return;
    }
    if (req.method !== 'POST') {
      sendError(res, { status: 405, message: 'Method Not Allowed', type: 'MethodNotAllowedError' });
      return;
    }
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      sendError(res, badRequest('request body is not valid JSON'));
      return;
    }
    const parsed = parseGenRequest(kind, body);
    if ('status' in parsed) {
      sendError(res, parsed);
      return;
    }
    if (parsed.model !== undefined && parsed.model !== this.servedModel) {
      sendError(res, { status: 404, message: `The model \`${parsed.model}\` does not exist.`, type: 'NotFoundError' });
      return;
    }
    this.#generate(parsed, res);
  }

  /** vLLM's /tokenize ({prompt} or {messages}, counted as generation counts them) and /detokenize. */
  async #tokenizer(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8')) as Record<string, unknown>;
    } catch {
      sendError(res, badRequest('request body is not valid JSON'));
      return;
    }
    let answer: Record<string, unknown>;
    if (path === '/detokenize') {
      const ids = body.tokens;
      const text = Array.isArray(ids) && ids.every((x) => Number.isInteger(x)) ? simDetokenize(ids as number[]) : undefined;
      if (text === undefined) {
        sendError(res, badRequest('tokens: must be a list of token ids this server handed out'));
        return;
      }
      answer = { prompt: text };
    } else {
      let prompt: string;
      if (body.messages !== undefined) {
        const g = parseGenRequest('chat', body);
        if ('status' in g) {
          sendError(res, g);
          return;
        }
        prompt = g.prompt;
      } else if (typeof body.prompt === 'string') prompt = body.prompt;
      else {
        sendError(res, badRequest('prompt: must be a string (or give messages)'));
        return;
      }
      const tokens = simTokenIds(prompt);
      answer = { count: tokens.length, max_model_len: this.engine.preset.maxModelLen, tokens };
    }
    const text = JSON.stringify(answer);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  #generate(g: GenRequest, res: ServerResponse): void {
    const preset = this.engine.preset;
    const tok = simTokenize(g.prompt);
    const maxLen = preset.maxModelLen;
    const maxTokens = g.maxTokens ?? Math.max(maxLen - tok.tokens, 1);
    if (tok.tokens + maxTokens > maxLen) {
      // vLLM's wording, so clients that parse it keep working.
      const e: ApiError = badRequest(
        `This model's maximum context length is ${maxLen} tokens. However, you requested ${tok.tokens + maxTokens} tokens ` +
          `(${tok.tokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
      );
      this.metrics.failed++;
      sendError(res, e);
      return;
    }
    const n = this.#counter++;
    if (this.#faults.failRate > 0 && this.#rand() < this.#faults.failRate) {
      const [status, message] = FAIL_MIX[Math.floor(this.#rand() * FAIL_MIX.length)] as [number, string];
      this.metrics.failed++;
      sendError(res, { status, message, type: errorType(status) });
      return;
    }
    const resetAfter = g.stream && maxTokens > 1 && this.#faults.resetRate > 0 && this.#rand() < this.#faults.resetRate ? 1 + Math.floor(this.#rand() * (maxTokens - 1)) : -1;
    const id = `${g.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-sim-${this.engine.name}-${n}`;
    const key = promptKey(this.servedModel, g.prompt);
    const textSeed = mixSeed(this.#seed, n);
    const arrival = this.#clock.now();
    const out = new ResponseWriter(res, g, id, this.servedModel, this.#created, this.#faults, Math.floor(maxTokens / 2));
    let cancel: (() => void) | undefined;
    let finished = false;
    res.on('close', () => {
      if (!finished) cancel?.();
    });
    if (g.stream) out.head();

    let handoff: { readyAtMs: number; transferMs: number } | undefined;
    if (this.role === 'decode' && this.#kv) {
      handoff = this.#kv.handoff.take(key);
      if (handoff) {
        this.metrics.kvTransfers++;
        this.metrics.kvTransferSeconds += handoff.transferMs / 1000;
      }
    }
    let lastAt = -1;
    let cached = 0;
    let text = '';
    // The API server's tokenizer and queueing work comes before the engine sees the request.
    const enqueueAt = arrival + preset.apiOverheadMs + (this.role === 'decode' ? 0 : this.#faults.apiDelayMs);
    this.#clock.at(enqueueAt, () => {
      if (res.destroyed) return;
      cancel = this.engine.submit(
        { id, promptTokens: tok.tokens, blocks: tok.blocks, maxTokens, ...(handoff ? { kvReadyAtMs: handoff.readyAtMs } : {}) },
        {
          onStart: (c) => {
            cached = c;
          },
          onToken: (i, at) => {
            if (i === 0) {
              // A step's nominal time can precede a request that arrived while an overloaded engine ran behind
              // real time; the engine then served it "early" on paper. Never report a negative TTFT.
              this.metrics.ttft.observe(Math.max(at - arrival, 0) / 1000);
            } else {
              this.metrics.itl.observe((at - lastAt) / 1000);
            }
            lastAt = at;
            const piece = simTokenText(i, textSeed);
            text += piece;
            if (g.stream) {
              out.token(piece, i + 1 === maxTokens, { prompt: tok.tokens, completion: i + 1, cached });
              if (i + 1 === resetAfter) {
                finished = true;
                cancel?.();
                out.reset();
              }
            }
          },
          onFinish: (info) => {
            if (finished) return;
            finished = true;
            this.metrics.success++;
            this.metrics.e2e.observe((info.atMs - arrival) / 1000);
            if (this.role === 'prefill' && this.#kv) {
              const transfer = kvTransferMs(this.#kv.link, tok.tokens, preset.kvBytesPerToken);
              this.#kv.handoff.publish(key, info.prefillEndMs + transfer, transfer);
            }
            const usage = { prompt: tok.tokens, completion: maxTokens, cached: info.cachedTokens };
            if (g.stream) out.finish(usage);
            else out.whole(text, usage);
          },
        },
        enqueueAt,
      );
    });
  }

  get requestsSeen(): number {
    return this.#counter;
  }
}

interface UsageCounts {
  prompt: number;
  completion: number;
  cached: number;
}

/** Writes one answer in vLLM's shapes (SSE chunks or one JSON body), honouring chunking, stalls and resets. */
class ResponseWriter {
  #res: ServerResponse;
  #g: GenRequest;
  #id: string;
  #model: string;
  #created: number;
  #faults: SimFaults;
  #stallAt: number;
  #pending = '';
  #pendingTokens = 0;
  #sent = 0;
  #roleSent = false;
  /** Writes held back by a stall, flushed in order when it ends. */
  #held: string[] | undefined;

  constructor(res: ServerResponse, g: GenRequest, id: string, model: string, created: number, faults: SimFaults, stallAt: number) {
    this.#res = res;
    this.#g = g;
    this.#id = id;
    this.#model = model;
    this.#created = created;
    this.#faults = faults;
    this.#stallAt = faults.stallMs > 0 ? Math.max(stallAt, 1) : -1;
  }

  head(): void {
    this.#res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    this.#res.flushHeaders();
  }

  #usage(u: UsageCounts): Record<string, unknown> {
    return { prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion, prompt_tokens_details: { cached_tokens: u.cached } };
  }

  #chunk(delta: string | undefined, finish: string | null, usage?: UsageCounts, role = false): string {
    const base = { id: this.#id, created: this.#created, model: this.#model };
    const withUsage = usage && this.#g.continuousUsage && !this.#faults.noUsage ? { usage: this.#usage(usage) } : {};
    const obj =
      this.#g.kind === 'chat'
        ? { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: role ? { role: 'assistant', content: '' } : { content: delta ?? '' }, logprobs: null, finish_reason: finish }], ...withUsage }
        : { ...base, object: 'text_completion', choices: [{ index: 0, text: delta ?? '', logprobs: null, finish_reason: finish }], ...withUsage };
    return `data: ${JSON.stringify(obj)}\n\n`;
  }

  #write(s: string): void {
    if (this.#res.destroyed) return;
    if (this.#held) this.#held.push(s);
    else this.#res.write(s);
  }

  token(piece: string, last: boolean, u: UsageCounts): void {
    if (!this.#roleSent && this.#g.kind === 'chat') {
      this.#roleSent = true;
      this.#write(this.#chunk(undefined, null, undefined, true));
    }
    this.#pending += piece;
    this.#pendingTokens++;
    this.#sent++;
    if (this.#pendingTokens >= this.#faults.chunkTokens || last) {
      this.#write(this.#chunk(this.#pending, null, u));
      this.#pending = '';
      this.#pendingTokens = 0;
    }
    if (this.#sent === this.#stallAt && !this.#held) {
      this.#held = [];
      setTimeout(() => {
        const held = this.#held ?? [];
        this.#held = undefined;
        for (const s of held) this.#write(s);
        if (this.#endAfterStall) this.#res.end();
      }, this.#faults.stallMs);
    }
  }

  #endAfterStall = false;

  finish(u: UsageCounts): void {
    if (this.#pending) {
      this.#write(this.#chunk(this.#pending, null, u));
      this.#pending = '';
    }
    // vLLM puts the finish reason on its own final chunk when the last token was already sent.
    this.#write(this.#chunk('', 'length', u));
    if (this.#g.includeUsage && !this.#faults.noUsage) {
      const base = { id: this.#id, created: this.#created, model: this.#model, object: this.#g.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion' };
      this.#write(`data: ${JSON.stringify({ ...base, choices: [], usage: this.#usage(u) })}\n\n`);
    }
    this.#write('data: [DONE]\n\n');
    if (this.#held) this.#endAfterStall = true;
    else if (!this.#res.destroyed) this.#res.end();
  }

  whole(text: string, u: UsageCounts): void {
    if (this.#res.destroyed) return;
    const base = { id: this.#id, created: this.#created, model: this.#model };
    const body =
      this.#g.kind === 'chat'
        ? { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: 'length' }] }
        : { ...base, object: 'text_completion', choices: [{ index: 0, text, logprobs: null, finish_reason: 'length' }] };
    const json = JSON.stringify(this.#faults.noUsage ? body : { ...body, usage: this.#usage(u) });
    this.#res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    this.#res.end(json);
  }

  reset(): void {
    this.#res.socket?.destroy();
    this.#res.destroy();
  }
}
