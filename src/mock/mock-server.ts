// Deterministic OpenAI-compatible (vLLM-shaped) streaming server over real sockets, for integration
// tests, benchmarks and `pd-bench mock` (the calibrated simulator lives in sim/; this one is exact, not a model). Every quirk a real stack shows (slow TTFT, odd framing, mid-stream failures) is a
// knob, so the client can be tested against each one without a GPU.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { badRequest, errorType, isRecord, parseGenRequest, type ApiError, type GenRequest } from '../sim/openai-api.js';

export interface MockKnobs {
  model: string;
  ttftMs: number;
  itlMs: number;
  tokensPerChunk: number;
  defaultMaxTokens: number;
  contentType: 'text/event-stream' | 'application/json';
  roleChunk: 'empty' | 'null' | 'none';
  reasoningTokens: number;
  usage: 'final' | 'continuous' | 'none';
  crlf: boolean;
  commentEvery: number;
  splitWrites: boolean;
  coalesce: number;
  hugeChunkBytes: number;
  failStatus: number;
  resetAfterTokens: number;
  endWithoutDone: boolean;
  midStreamErrorAfterTokens: number;
  stallMs: number;
  cachedTokens: 'none' | 'prefix';
  /**
   * Server-wide (refused as a per-request override; setKnobs may change it): at most this many generation
   * requests (chat and completions, streamed or not) are served at once; 0 = unlimited. Further ones wait in a
   * FIFO queue (by when their body was read), connection accepted and nothing sent, not even headers, until a
   * slot frees; only then does their TTFT (ttftMs) start. A slot frees when its response ends or fails, or when
   * its client goes away; a queued request whose client goes away leaves the queue. Errors (invalid request,
   * unknown model, failStatus) are answered at once, outside the queue.
   *
   * Service time: the mock paces frames from the service start, chunk j (0-based) due at ttftMs + j * itlMs (plus
   * stallMs from the middle chunk on, when > 0), and the trailer frames ([DONE], usage) or the stream: false body
   * with the last chunk, and the response ends right after them: c chunks take S = ttftMs + (c - 1) * itlMs,
   * c = ceil(n / tokensPerChunk) for n answer tokens (reasoning tokens are chunked apart). With tokensPerChunk 1,
   * no reasoning and no stall:
   *
   *     S = ttftMs + (n - 1) * itlMs  (ms),  capacity = 1000 * maxConcurrency / S requests per second.
   *
   * Exactly that, not less by timer lateness (as long as the process keeps up at all): start times follow the
   * ideal C-slot FIFO schedule, in which a slot is free from when its response was due to end (or from when its
   * client left, if earlier), not from when a late timer actually ended it. So a queued request's TTFT counts from
   * that due time (never before its own arrival), starts never go backwards (first tokens keep FIFO order), and
   * still no more than C are ever actually in service. See `load()` and MockRequestInfo.admittedNs.
   */
  maxConcurrency: number;
}

export const DEFAULT_MOCK_KNOBS: Readonly<MockKnobs> = Object.freeze({
  model: 'mock-model',
  ttftMs: 20,
  itlMs: 5,
  tokensPerChunk: 1,
  defaultMaxTokens: 16,
  contentType: 'text/event-stream',
  roleChunk: 'empty',
  reasoningTokens: 0,
  usage: 'final',
  crlf: false,
  commentEvery: 0,
  splitWrites: false,
  coalesce: 1,
  hugeChunkBytes: 0,
  failStatus: 0,
  resetAfterTokens: -1,
  endWithoutDone: false,
  midStreamErrorAfterTokens: -1,
  stallMs: 0,
  cachedTokens: 'prefix',
  maxConcurrency: 0,
});

export interface MockRequestInfo {
  index: number;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  receivedNs: bigint;
  /**
   * When its service began and its TTFT started counting (see maxConcurrency): receivedNs unless it queued;
   * 0n for a request that never entered service (not a generation, answered with an error, or left the queue).
   */
  admittedNs: bigint;
  promptTokens: number;
  chunkSendNs: bigint[];
  outputTokens: number;
  status: number;
}

export type MockPerRequest = (req: MockRequestInfo) => Partial<MockKnobs> | undefined;

export interface MockServerOptions {
  /** Keep every MockRequestInfo in `requests` (tests read them). Default true; off, memory stays flat in long runs. */
  retainRequests?: boolean;
  /**
   * Called once per request when its response has closed (finished, failed or cut by the client): its final
   * MockRequestInfo, whose `chunkSendNs` are the server's own send stamps (process.hrtime.bigint(), which on
   * Linux is CLOCK_MONOTONIC, one clock for every process on the machine). Benchmarks log these as the truth.
   */
  onDone?: (info: MockRequestInfo) => void;
}

/** The maxConcurrency gate's state, for tests. */
export interface MockLoad {
  /** Generation requests in service now, and waiting for a slot now. */
  serving: number;
  queued: number;
  /** The most ever in service at once. */
  maxServing: number;
  /** Generation requests that ever entered service (a request that left the queue never does). */
  served: number;
}

/** `GET /mock/clock`: the server's process.hrtime.bigint() now, for checking that two processes share one clock. */
export const MOCK_CLOCK_PATH = '/mock/clock';

const TOKEN_RE = /[A-Za-z0-9]+|[^\sA-Za-z0-9]/g;

export function countMockTokens(text: string): number {
  return text.match(TOKEN_RE)?.length ?? 0;
}

function mockTokens(text: string): string[] {
  return text.match(TOKEN_RE) ?? [];
}

// Alphanumeric only, so ' word' is exactly one mock token and answers re-count to completion_tokens.
const WORDS = [
  'alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel',
  'india', 'juliet', 'kilo', 'lima', 'mike', 'november', 'oscar', 'papa',
  'quebec', 'romeo', 'sierra', 'tango', 'uniform', 'victor', 'whiskey', 'xray',
  'yankee', 'zulu', 'one', 'two', 'three', 'four', 'five', 'six',
] as const;

const word = (i: number): string => ` ${WORDS[i % WORDS.length] ?? 'x'}`;

// ---- knob validation: the stand-alone process feeds raw CLI values through here -------------------

type Rule = (v: unknown) => string | undefined;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const intAtLeast = (min: number): Rule => (v) =>
  isInt(v) && v >= min ? undefined : `an integer >= ${min}`;
const msRule: Rule = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'a finite number of ms >= 0';
const boolRule: Rule = (v) => (typeof v === 'boolean' ? undefined : 'true or false');
const oneOf = (...xs: string[]): Rule => (v) =>
  typeof v === 'string' && xs.includes(v) ? undefined : `one of ${xs.join(', ')}`;

const KNOB_RULES: { [K in keyof MockKnobs]: Rule } = {
  model: (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'a non-empty string'),
  ttftMs: msRule,
  itlMs: msRule,
  tokensPerChunk: intAtLeast(1),
  defaultMaxTokens: intAtLeast(1),
  contentType: oneOf('text/event-stream', 'application/json'),
  roleChunk: oneOf('empty', 'null', 'none'),
  reasoningTokens: intAtLeast(0),
  usage: oneOf('final', 'continuous', 'none'),
  crlf: boolRule,
  commentEvery: intAtLeast(0),
  splitWrites: boolRule,
  coalesce: intAtLeast(1),
  hugeChunkBytes: intAtLeast(0),
  failStatus: (v) => (v === 0 || (isInt(v) && v >= 400 && v <= 599) ? undefined : '0 or an HTTP status 400-599'),
  resetAfterTokens: intAtLeast(-1),
  endWithoutDone: boolRule,
  midStreamErrorAfterTokens: intAtLeast(-1),
  stallMs: msRule,
  cachedTokens: oneOf('none', 'prefix'),
  maxConcurrency: intAtLeast(0),
};

/** Throws a RangeError naming every bad knob; a typo'd knob silently ignored would make a test lie. */
export function validateMockKnobs(k: Partial<MockKnobs>): Partial<MockKnobs> {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(k)) {
    if (value === undefined) continue;
    const rule = (KNOB_RULES as Record<string, Rule | undefined>)[key];
    const why = rule ? rule(value) : 'a known knob';
    if (why) problems.push(`mock knob ${key}=${JSON.stringify(value)}: expected ${why}`);
  }
  if (problems.length > 0) throw new RangeError(problems.join('\n'));
  return k;
}

// ---- prefix-cache model ----------------------------------------------------------------------

// Chained per-prefix hashes make the "longest earlier prompt that is a prefix" lookup O(prompt length)
// instead of O(prompts seen x length); exact token comparison on a hit rules out collisions.
function prefixKeys(tokens: readonly string[]): string[] {
  const keys: string[] = [];
  let h1 = 0x811c9dc5;
  let h2 = 0x12345678;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    for (let j = 0; j < t.length; j++) {
      const c = t.charCodeAt(j);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 + c, 0x5bd1e995) ^ (h2 >>> 15);
    }
    h1 = Math.imul(h1 ^ 0xff, 0x01000193); // token boundary, so ['ab'] != ['a','b']
    h2 = Math.imul(h2 + 0x9e3779b9, 0x5bd1e995) ^ (h2 >>> 13);
    keys.push(`${i + 1}:${h1 >>> 0}:${h2 >>> 0}`);
  }
  return keys;
}

class PrefixCache {
  private readonly prompts = new Map<string, readonly string[]>();

  /** Tokens of the longest earlier prompt that prefixes `tokens`, in whole 16-token blocks (vLLM's block size). */
  lookupAndAdd(tokens: readonly string[]): number {
    const keys = prefixKeys(tokens);
    let hit = 0;
    for (let n = keys.length; n >= 1 && hit === 0; n--) {
      const earlier = this.prompts.get(keys[n - 1] ?? '');
      if (earlier && earlier.every((t, i) => t === tokens[i])) hit = n;
    }
    const full = keys[keys.length - 1];
    if (full !== undefined && !this.prompts.has(full)) this.prompts.set(full, tokens);
    return Math.floor(hit / 16) * 16;
  }
}

// ---- output plan -----------------------------------------------------------------------------

interface PlannedChunk {
  kind: 'reasoning' | 'content';
  text: string;
  tokens: number;
}

function planChunks(total: number, reasoning: number, k: number, hugeBytes: number): PlannedChunk[] {
  const chunks: PlannedChunk[] = [];
  let next = 0;
  const take = (kind: PlannedChunk['kind'], count: number): void => {
    for (let left = count; left > 0; ) {
      const n = Math.min(k, left);
      let text = '';
      for (let i = 0; i < n; i++) text += word(next + i);
      next += n;
      left -= n;
      chunks.push({ kind, text, tokens: n });
    }
  };
  take('reasoning', reasoning);
  take('content', total - reasoning);
  const first = chunks.find((c) => c.kind === 'content');
  // Lengthen the last word rather than append new ones, so the chunk still re-counts to its tokens.
  if (first && hugeBytes > first.text.length) first.text += 'x'.repeat(hugeBytes - first.text.length);
  return chunks;
}

interface Frame {
  bytes: Buffer;
  dueNs: bigint;
  tokens: number; // > 0 only for content/reasoning frames
}

const msToNs = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

function jsonError(res: ServerResponse, info: MockRequestInfo, e: ApiError): void {
  sendJson(res, info, e.status, { error: { message: e.message, type: e.type, param: null, code: e.status } });
}

function sendJson(res: ServerResponse, info: MockRequestInfo, status: number, body: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  info.status = status;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Per-response timers, cleared when the client goes away so a closed socket never gets written to. */
class Pending {
  closed = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  at(dueNs: bigint, fn: () => void): void {
    if (this.closed) return;
    const waitMs = Number(dueNs - process.hrtime.bigint()) / 1e6;
    // Re-check on wake: Node timers can fire a fraction of a ms early, and the contract is "at least".
    if (waitMs > 0) this.timer = setTimeout(() => this.at(dueNs, fn), Math.ceil(waitMs));
    else fn();
  }
  soon(fn: () => void): void {
    if (!this.closed) this.immediate = setImmediate(() => !this.closed && fn());
  }
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
  }
}

/** A planned answer waiting for, or in, service; settled once its response has closed. */
interface Admission {
  reply: Reply;
  res: ServerResponse;
  pending: Pending;
  state: 'queued' | 'serving' | 'settled';
  /** Its slot in the schedule (maxConcurrency > 0), until it settles or a later request is scheduled into it. */
  slot?: Slot;
}

/**
 * One of the maxConcurrency slots of the ideal schedule: free from `freeNs`, or, while held, from when its
 * holder's response is due to end (known when it starts).
 */
interface Slot {
  freeNs: bigint;
  holder: Admission | undefined;
}

export class MockOpenAIServer {
  /** Every request seen, in arrival order (empty with `retainRequests: false`). */
  readonly requests: MockRequestInfo[] = [];
  private knobs: MockKnobs;
  private readonly perRequest: MockPerRequest | undefined;
  private readonly retain: boolean;
  private readonly onDone: ((info: MockRequestInfo) => void) | undefined;
  private seen = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly cache = new PrefixCache();
  private readonly createdS = Math.floor(Date.now() / 1000);
  private port = 0;
  private host = '127.0.0.1';
  /** The maxConcurrency gate: FIFO (a Set iterates in insertion order and deletes in O(1) when a client leaves). */
  private readonly queue = new Set<Admission>();
  private readonly slots: Slot[] = [];
  private serving = 0;
  private maxServing = 0;
  private served = 0;

  constructor(knobs: Partial<MockKnobs> = {}, perRequest?: MockPerRequest, options: MockServerOptions = {}) {
    this.knobs = { ...DEFAULT_MOCK_KNOBS, ...validateMockKnobs(knobs) };
    this.perRequest = perRequest;
    this.retain = options.retainRequests ?? true;
    this.fitSlots(0n);
    this.onDone = options.onDone;
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Changes knobs for requests arriving from now on; a raised maxConcurrency admits waiting requests at once. */
  setKnobs(k: Partial<MockKnobs>): void {
    this.knobs = { ...this.knobs, ...validateMockKnobs(k) };
    this.fitSlots(process.hrtime.bigint());
    this.admitWaiting();
  }

  /** Generation requests in service and queued now (maxConcurrency), the most ever served at once, and served so far. */
  load(): MockLoad {
    return { serving: this.serving, queued: this.queue.size, maxServing: this.maxServing, served: this.served };
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        this.port = typeof addr === 'object' && addr ? addr.port : port;
        this.host = host;
        resolve(this.port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) {
        for (const s of this.sockets) s.destroy();
        resolve();
        return;
      }
      this.server.close(() => resolve());
      // server.close() alone waits for keep-alive and in-flight streams; tests must never hang on those.
      for (const s of this.sockets) s.destroy();
    });
  }

  get url(): string {
    const host = this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}/v1`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const info: MockRequestInfo = {
      index: this.seen++,
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0] ?? '/',
      headers: req.headers,
      body: undefined,
      receivedNs: 0n,
      admittedNs: 0n,
      promptTokens: 0,
      chunkSendNs: [],
      outputTokens: 0,
      status: 0,
    };
    if (this.retain) this.requests.push(info);
    const pending = new Pending();
    const onDone = this.onDone;
    res.on('close', () => {
      pending.close();
      onDone?.(info);
    });
    res.on('error', () => pending.close());
    req.on('error', () => pending.close());

    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      info.receivedNs = process.hrtime.bigint();
      const raw = Buffer.concat(parts).toString('utf8');
      let badJson = false;
      if (raw.trim().length > 0) {
        try {
          info.body = JSON.parse(raw) as unknown;
        } catch {
          badJson = true;
        }
      }
      try {
        this.route(info, res, pending, badJson);
      } catch (err) {
        // A bad perRequest override is a test bug; surface it as a 500 instead of crashing the process.
        jsonError(res, info, { status: 500, message: String(err), type: 'InternalServerError' });
      }
    });
  }

  private route(info: MockRequestInfo, res: ServerResponse, pending: Pending, badJson: boolean): void {
    const { method, path } = info;
    const known: Record<string, string> = {
      '/health': 'GET',
      '/v1/models': 'GET',
      '/v1/chat/completions': 'POST',
      '/v1/completions': 'POST',
      [MOCK_CLOCK_PATH]: 'GET',
    };
    const want = known[path];
    if (want === undefined) {
      jsonError(res, info, { status: 404, message: `Not Found: ${path}`, type: 'NotFoundError' });
      return;
    }
    if (method !== want) {
      jsonError(res, info, { status: 405, message: 'Method Not Allowed', type: 'MethodNotAllowedError' });
      return;
    }
    if (path === '/health') {
      info.status = 200;
      res.writeHead(200, { 'content-length': 0 });
      res.end();
      return;
    }
    if (path === MOCK_CLOCK_PATH) {
      sendJson(res, info, 200, { monotonic_ns: process.hrtime.bigint().toString() });
      return;
    }
    if (path === '/v1/models') {
      sendJson(res, info, 200, {
        object: 'list',
        data: [{ id: this.knobs.model, object: 'model', created: this.createdS, owned_by: 'pd-bench' }],
      });
      return;
    }
    this.generate(path === '/v1/chat/completions' ? 'chat' : 'completion', info, res, pending, badJson);
  }

  private generate(
    kind: GenRequest['kind'],
    info: MockRequestInfo,
    res: ServerResponse,
    pending: Pending,
    badJson: boolean,
  ): void {
    const reply = this.plan(kind, info, res, badJson);
    // A client gone before its body was read would never close again: it must not wait in the queue.
    if (!reply || pending.closed) return;
    const a: Admission = { reply, res, pending, state: 'queued' };
    res.on('close', () => this.settle(a));
    if (this.queue.size === 0 && this.hasSlot()) this.serve(a);
    else this.queue.add(a);
  }

  private hasSlot(): boolean {
    return this.knobs.maxConcurrency === 0 || this.serving < this.knobs.maxConcurrency;
  }

  /**
   * Starts a response. With maxConcurrency C > 0 its TTFT counts from the ideal C-slot FIFO schedule, not from
   * when the late timer of the response ahead of it actually fired: it takes the slot that was free first (free
   * when its last holder left early or was due to end, a holder still running late included), from then or its
   * own arrival if later. So timer lateness never lowers the capacity below C / S, starts never go backwards
   * (first tokens keep FIFO order), and still no more than C are ever actually in service.
   */
  private serve(a: Admission): void {
    let startNs = a.reply.info.receivedNs;
    let best: Slot | undefined;
    let bestNs = 0n;
    for (const slot of this.slots) {
      const freeNs = slot.holder ? slot.holder.reply.endDue() : slot.freeNs;
      if (!best || freeNs < bestNs) [best, bestNs] = [slot, freeNs];
    }
    if (best) {
      if (best.holder) best.holder.slot = undefined;
      best.holder = a;
      a.slot = best;
      if (bestNs > startNs) startNs = bestNs;
    }
    a.state = 'serving';
    this.serving++;
    this.served++;
    this.maxServing = Math.max(this.maxServing, this.serving);
    a.reply.startNs = startNs;
    a.reply.info.admittedNs = startNs;
    if (a.reply.parsed.stream) new MockStream(a.reply, a.res, a.pending).start();
    else sendWhole(a.reply, a.res, a.pending);
  }

  /** A closed response gives back its queue place, or its service and slot: free from its due end, or now if earlier. */
  private settle(a: Admission): void {
    const was = a.state;
    a.state = 'settled';
    if (was === 'queued') this.queue.delete(a);
    if (was !== 'serving') return;
    this.serving--;
    if (a.slot) {
      const now = process.hrtime.bigint();
      const endNs = a.reply.endDue();
      a.slot.freeNs = endNs < now ? endNs : now;
      a.slot.holder = undefined;
      a.slot = undefined;
    }
    this.admitWaiting();
  }

  /** Serves waiting requests, oldest first, while fewer than maxConcurrency are in service. */
  private admitWaiting(): void {
    for (const a of this.queue) {
      if (!this.hasSlot()) return;
      this.queue.delete(a);
      // Destroyed but its 'close' not emitted yet (server.close() destroys every socket at once): skip it.
      if (a.pending.closed || a.res.destroyed || a.res.socket?.destroyed === true) {
        a.state = 'settled';
        continue;
      }
      this.serve(a);
    }
  }

  /** Makes the schedule's slots number maxConcurrency; new ones are free from `freeNs`, unheld ones go first. */
  private fitSlots(freeNs: bigint): void {
    const want = this.knobs.maxConcurrency;
    while (this.slots.length < want) this.slots.push({ freeNs, holder: undefined });
    if (this.slots.length === want) return;
    this.slots.sort((x, y) => Number(x.holder !== undefined) - Number(y.holder !== undefined));
    for (const slot of this.slots.splice(0, this.slots.length - want)) if (slot.holder) slot.holder.slot = undefined;
  }

  /** Validates a generation request and plans its answer; answers an invalid one with its error instead. */
  private plan(kind: GenRequest['kind'], info: MockRequestInfo, res: ServerResponse, badJson: boolean): Reply | undefined {
    const parsed: GenRequest | ApiError = badJson
      ? badRequest('request body is not valid JSON')
      : parseGenRequest(kind, info.body);
    if ('prompt' in parsed) info.promptTokens = countMockTokens(parsed.prompt);
    const override = validateMockKnobs(this.perRequest?.(info) ?? {});
    if (override.maxConcurrency !== undefined) throw new RangeError('mock knob maxConcurrency is server-wide: set it on the server, not per request');
    const knobs: MockKnobs = { ...this.knobs, ...override };

    if (knobs.failStatus > 0) {
      const status = knobs.failStatus;
      jsonError(res, info, { status, message: `mock failure (failStatus=${status})`, type: errorType(status) });
      return undefined;
    }
    if (!('prompt' in parsed)) {
      jsonError(res, info, parsed);
      return undefined;
    }
    if (parsed.model !== undefined && parsed.model !== knobs.model) {
      jsonError(res, info, { status: 404, message: `The model \`${parsed.model}\` does not exist.`, type: 'NotFoundError' });
      return undefined;
    }

    const promptTokens = info.promptTokens;
    // With cachedTokens 'none' nothing reports caching, so keep no cache: it would hold every prompt forever.
    const cached = knobs.cachedTokens === 'none' ? 0 : this.cache.lookupAndAdd(mockTokens(parsed.prompt));
    const total = parsed.maxTokens ?? knobs.defaultMaxTokens;
    const reasoning = kind === 'chat' ? Math.min(knobs.reasoningTokens, total) : 0;
    const chunks = planChunks(total, reasoning, knobs.tokensPerChunk, knobs.hugeChunkBytes);

    // Failure modes cut the stream after exactly N tokens (splitting a chunk if needed).
    const failMode = knobs.resetAfterTokens >= 0 ? 'reset' : knobs.midStreamErrorAfterTokens >= 0 ? 'error' : undefined;
    const failAfter = failMode === 'reset' ? knobs.resetAfterTokens : knobs.midStreamErrorAfterTokens;
    const cut = failMode !== undefined && failAfter <= total;
    const sendChunks = cut ? cutChunks(chunks, failAfter) : chunks;

    const midIdx = Math.floor(chunks.length / 2);
    const reply: Reply = {
      kind,
      info,
      knobs,
      parsed,
      chunks,
      sendChunks,
      total,
      reasoning,
      cut,
      failMode,
      failAfter,
      id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${info.index}`,
      created: Math.floor(Date.now() / 1000),
      startNs: info.receivedNs,
      dueOf: (j: number): bigint =>
        reply.startNs + msToNs(knobs.ttftMs) + BigInt(j) * msToNs(knobs.itlMs) + (knobs.stallMs > 0 && j >= midIdx ? msToNs(knobs.stallMs) : 0n),
      endDue: (): bigint => (sendChunks.length > 0 ? reply.dueOf(sendChunks.length - 1) : reply.startNs),
      isLast: (j: number): boolean => j === chunks.length - 1 && sendChunks.length === chunks.length,
      usageOf: (completion: number, details: boolean): Record<string, unknown> => ({
        prompt_tokens: promptTokens,
        total_tokens: promptTokens + completion,
        completion_tokens: completion,
        ...(details && knobs.cachedTokens === 'prefix' ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
      }),
    };
    return reply;
  }
}

/** One planned answer: what the whole-body reply and the streamed reply share. */
interface Reply {
  kind: GenRequest['kind'];
  info: MockRequestInfo;
  knobs: MockKnobs;
  parsed: GenRequest;
  /** Every chunk of the full answer, and those actually sent (fewer when a failure mode cuts the answer). */
  chunks: PlannedChunk[];
  sendChunks: PlannedChunk[];
  total: number;
  reasoning: number;
  cut: boolean;
  failMode: 'reset' | 'error' | undefined;
  failAfter: number;
  id: string;
  created: number;
  /** When its service started (hrtime ns): its arrival, or later when it waited for a slot (maxConcurrency). */
  startNs: bigint;
  /** When chunk j is due (hrtime ns). */
  dueOf(j: number): bigint;
  /** When its last frame is due, and so the response ends (the trailer frames are due with the last chunk). */
  endDue(): bigint;
  isLast(j: number): boolean;
  usageOf(completion: number, details: boolean): Record<string, unknown>;
}

/** The chunks sent before a failure after `failAfter` tokens (the last one split if needed). */
function cutChunks(chunks: readonly PlannedChunk[], failAfter: number): PlannedChunk[] {
  const out: PlannedChunk[] = [];
  let left = failAfter;
  for (const c of chunks) {
    if (left <= 0) break;
    if (c.tokens <= left) out.push(c);
    else {
      const words = c.text.split(' ').slice(1, left + 1);
      out.push({ kind: c.kind, text: words.map((w) => ` ${w}`).join(''), tokens: left });
    }
    left -= c.tokens;
  }
  return out;
}

/** stream: false: the whole answer as one JSON body when its last token is due. */
function sendWhole(r: Reply, res: ServerResponse, pending: Pending): void {
  const { kind, info, chunks, cut, failMode, failAfter, total, reasoning } = r;
  pending.at(r.endDue(), () => {
    if (cut && failMode === 'reset') {
      res.socket?.destroy();
      return;
    }
    if (cut) {
      jsonError(res, info, { status: 500, message: `mock error after ${failAfter} tokens`, type: 'InternalServerError' });
      return;
    }
    const reasoningText = chunks.filter((c) => c.kind === 'reasoning').map((c) => c.text).join('');
    const contentText = chunks.filter((c) => c.kind === 'content').map((c) => c.text).join('');
    // vLLM's non-streaming body always has the key; null when it does not report caching.
    const u = r.usageOf(total, true);
    const usage = r.knobs.usage === 'none' ? {} : { usage: 'prompt_tokens_details' in u ? u : { ...u, prompt_tokens_details: null } };
    const choice =
      kind === 'chat'
        ? {
            index: 0,
            message: { role: 'assistant', reasoning_content: reasoning > 0 ? reasoningText : null, content: contentText, tool_calls: [] },
            logprobs: null,
            finish_reason: 'length',
            stop_reason: null,
          }
        : { index: 0, text: contentText, logprobs: null, finish_reason: 'length', stop_reason: null, prompt_logprobs: null };
    info.chunkSendNs.push(process.hrtime.bigint());
    info.outputTokens = total;
    sendJson(res, info, 200, {
      id: r.id,
      object: kind === 'chat' ? 'chat.completion' : 'text_completion',
      created: r.created,
      model: r.knobs.model,
      choices: [choice],
      ...usage,
    });
  });
}

/**
 * stream: true: SSE frames, each written when due, in groups of `coalesce`, optionally split mid-event; a
 * failure mode resets the connection or appends an error blob after its token.
 */
class MockStream {
  #r: Reply;
  #res: ServerResponse;
  #pending: Pending;
  #eol: string;
  #continuous: boolean;
  #object: string;
  #tailDue: bigint;
  #trailer: number;
  #frameCount: number;
  #groupCount: number;
  /** Tokens in the frames built so far (frames are built in order). */
  #done = 0;
  #gi = 0;

  constructor(r: Reply, res: ServerResponse, pending: Pending) {
    this.#r = r;
    this.#res = res;
    this.#pending = pending;
    const { knobs, parsed, sendChunks, cut } = r;
    this.#eol = knobs.crlf ? '\r\n' : '\n';
    this.#continuous = knobs.usage === 'continuous' && parsed.continuousUsage;
    const finalUsage = knobs.usage !== 'none' && parsed.includeUsage;
    this.#object = r.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    // Frames are built when they are sent, not all up front: a stream's frames would otherwise live as long as
    // the stream, get promoted to the old generation and make this server pause for GC under load, late and bursty.
    this.#tailDue = r.endDue();
    this.#trailer = cut || knobs.endWithoutDone ? 0 : finalUsage ? 2 : 1;
    this.#frameCount = sendChunks.length + this.#trailer;
    this.#groupCount = Math.ceil(this.#frameCount / knobs.coalesce);
  }

  start(): void {
    const { kind, knobs, info } = this.#r;
    info.status = 200;
    this.#res.writeHead(200, { 'content-type': knobs.contentType });
    if (kind === 'chat' && knobs.roleChunk !== 'none') {
      const delta = { role: 'assistant', content: knobs.roleChunk === 'empty' ? '' : null };
      this.#res.write(this.#event(this.#chunkJson(delta, null, 0)));
    } else {
      this.#res.flushHeaders(); // a real server sends headers at once; TTFT must not include them
    }
    this.#pump();
  }

  #event(obj: unknown): string {
    return `data: ${typeof obj === 'string' ? obj : JSON.stringify(obj)}${this.#eol}${this.#eol}`;
  }

  #chunkJson(payload: Record<string, unknown>, finish: string | null, done: number): Record<string, unknown> {
    const r = this.#r;
    return {
      id: r.id,
      object: this.#object,
      created: r.created,
      model: r.knobs.model,
      choices: [
        r.kind === 'chat'
          ? { index: 0, delta: payload, logprobs: null, finish_reason: finish }
          : { index: 0, text: payload.text ?? '', logprobs: null, finish_reason: finish },
      ],
      ...(this.#continuous ? { usage: r.usageOf(done, false) } : {}),
    };
  }

  #frameDue(i: number): bigint {
    return i < this.#r.sendChunks.length ? this.#r.dueOf(i) : this.#tailDue;
  }

  #frameAt(i: number): Frame {
    const r = this.#r;
    const c = r.sendChunks[i];
    if (c) {
      this.#done += c.tokens;
      const finish = r.isLast(i) && !r.knobs.endWithoutDone ? 'length' : null;
      const payload = r.kind === 'completion' ? { text: c.text } : c.kind === 'reasoning' ? { reasoning_content: c.text } : { content: c.text };
      const ping = r.knobs.commentEvery > 0 && (i + 1) % r.knobs.commentEvery === 0 ? `: ping${this.#eol}${this.#eol}` : '';
      return { bytes: Buffer.from(ping + this.#event(this.#chunkJson(payload, finish, this.#done))), dueNs: r.dueOf(i), tokens: c.tokens };
    }
    if (i === r.sendChunks.length && this.#trailer === 2) {
      const u = { id: r.id, object: this.#object, created: r.created, model: r.knobs.model, choices: [], usage: r.usageOf(r.total, true) };
      return { bytes: Buffer.from(this.#event(u)), dueNs: this.#tailDue, tokens: 0 };
    }
    return { bytes: Buffer.from(this.#event('[DONE]')), dueNs: this.#tailDue, tokens: 0 };
  }

  #groupAt(g: number): Frame[] {
    const k = this.#r.knobs.coalesce;
    const out: Frame[] = [];
    for (let i = g * k; i < Math.min((g + 1) * k, this.#frameCount); i++) out.push(this.#frameAt(i));
    return out;
  }

  #finish(): void {
    const res = this.#res;
    const pending = this.#pending;
    if (pending.closed || res.destroyed) return;
    const { cut, failMode, failAfter } = this.#r;
    if (cut && failMode === 'reset') {
      // Let the bytes already written reach the kernel, then drop the connection without the chunked terminator.
      const socket = res.socket;
      const kill = (): void => {
        if (!socket || socket.destroyed) return;
        if (socket.writableLength > 0) pending.at(process.hrtime.bigint() + 1_000_000n, kill);
        else socket.destroy();
      };
      kill();
      return;
    }
    if (cut) res.write(`{"error":{"message":"mock mid-stream error after ${failAfter} tokens","code":500}}\n`);
    res.end();
  }

  #pump = (): void => {
    const k = this.#r.knobs.coalesce;
    while (!this.#pending.closed) {
      if (this.#gi >= this.#groupCount) {
        this.#finish();
        return;
      }
      // A group goes out when its last frame is due.
      const due = this.#frameDue(Math.min((this.#gi + 1) * k, this.#frameCount) - 1);
      if (due > process.hrtime.bigint()) {
        this.#pending.at(due, this.#pump);
        return;
      }
      const g = this.#groupAt(this.#gi);
      this.#gi++;
      if (this.#r.knobs.splitWrites) {
        this.#writeSplit(g, this.#pump);
        return;
      }
      const now = process.hrtime.bigint();
      for (const f of g) this.#stamp(f, now);
      this.#res.write(g.length === 1 ? (g[0] as Frame).bytes : Buffer.concat(g.map((f) => f.bytes)));
    }
  };

  #stamp(f: Frame, now: bigint): void {
    if (f.tokens === 0) return;
    this.#r.info.chunkSendNs.push(now);
    this.#r.info.outputTokens += f.tokens;
  }

  /**
   * Splits land inside 'data:' and mid-JSON, each piece its own write a loop turn apart, so a client that
   * assumes one read == one event breaks here.
   */
  #writeSplit(g: Frame[], then: () => void): void {
    const buf = Buffer.concat(g.map((f) => f.bytes));
    const cuts = new Set<number>();
    const starts = new Map<number, Frame>();
    let off = 0;
    for (const f of g) {
      starts.set(off, f);
      const d = f.bytes.indexOf('data:');
      if (d >= 0) {
        cuts.add(off + d + 2);
        cuts.add(off + d + 6 + Math.floor((f.bytes.length - d - 6) / 2));
      }
      off += f.bytes.length;
    }
    const points = [0, ...[...cuts].filter((c) => c > 0 && c < buf.length).sort((a, b) => a - b), buf.length];
    let p = 0;
    const next = (): void => {
      const from = points[p] ?? buf.length;
      const to = points[p + 1] ?? buf.length;
      const now = process.hrtime.bigint();
      for (const [s, f] of starts) if (s >= from && s < to) this.#stamp(f, now);
      this.#res.write(buf.subarray(from, to));
      p++;
      if (p < points.length - 1) this.#pending.soon(next);
      else this.#pending.soon(then);
    };
    next();
  }
}
