// One simulated vLLM replica: continuous batching with chunked prefill under a per-step token budget and a
// sequence cap, a prefix cache with bounded KV (requests wait when it is full), step times from the preset's
// fits. Pure model driven by a SimClock: no IO, so tests run it in virtual time and the server in real time.
import type { SimClock } from './clock.js';
import { KvCache, type Reservation } from './kv-cache.js';
import { mixedStepMs, type ModelPreset } from './presets.js';

export interface EngineRequest {
  id: string;
  promptTokens: number;
  /** Chained block hashes of the prompt (sim-tokenizer). */
  blocks: number[];
  maxTokens: number;
  /**
   * PD decode leg: the prompt's KV arrives from the prefill side at this (simulated) time; until then the
   * request cannot be scheduled, after it the whole prompt but its last token counts as cached.
   */
  kvReadyAtMs?: number;
}

export interface EngineEvents {
  /** Admitted into the running batch; `cachedTokens` from the prefix cache or the transferred KV. */
  onStart?(cachedTokens: number, atMs: number): void;
  /** Output token `index` (0-based) finished at `atMs`. */
  onToken(index: number, atMs: number): void;
  /** All tokens done; the prompt's prefill finished at `prefillEndMs`. */
  onFinish(info: { cachedTokens: number; prefillEndMs: number; atMs: number }): void;
}

interface Seq {
  req: EngineRequest;
  ev: EngineEvents;
  arrivalMs: number;
  res: Reservation | undefined;
  cachedTokens: number;
  /** Prompt tokens whose KV exists (cached + computed). */
  done: number;
  generated: number;
  prefillEndMs: number;
  cancelled: boolean;
}

export interface EngineStats {
  running: number;
  waiting: number;
  kvUsage: number;
  prefixHitTokens: number;
  prefixQueryTokens: number;
  promptTokens: number;
  generationTokens: number;
  finished: number;
  steps: number;
}

export class Engine {
  readonly preset: ModelPreset;
  readonly name: string;
  readonly kv: KvCache;
  #clock: SimClock;
  #waiting: Seq[] = [];
  #running: Seq[] = [];
  #busy = false;
  #kickPending = false;
  #promptTokens = 0;
  #generationTokens = 0;
  #finished = 0;
  #steps = 0;
  #lastEndMs = 0;

  constructor(name: string, preset: ModelPreset, clock: SimClock) {
    this.name = name;
    this.preset = preset;
    this.#clock = clock;
    this.kv = new KvCache(preset.kvCapacityTokens);
  }

  /** Queues a request; returns a cancel function (client went away). */
  submit(req: EngineRequest, ev: EngineEvents, atMs?: number): () => void {
    const arrivalMs = atMs ?? this.#clock.now();
    const seq: Seq = {
      req,
      ev,
      arrivalMs,
      res: undefined,
      cachedTokens: 0,
      done: 0,
      generated: 0,
      prefillEndMs: 0,
      cancelled: false,
    };
    this.#waiting.push(seq);
    this.#kick(arrivalMs);
    if (req.kvReadyAtMs !== undefined && req.kvReadyAtMs > arrivalMs) {
      const ready = req.kvReadyAtMs;
      this.#clock.at(ready, () => this.#kick(ready));
    }
    return () => {
      seq.cancelled = true;
    };
  }

  stats(): EngineStats {
    return {
      running: this.#running.length,
      waiting: this.#waiting.length,
      kvUsage: this.kv.usage,
      prefixHitTokens: this.kv.hitTokens,
      prefixQueryTokens: this.kv.queriedTokens,
      promptTokens: this.#promptTokens,
      generationTokens: this.#generationTokens,
      finished: this.#finished,
      steps: this.#steps,
    };
  }

  /**
   * Wakes an idle engine for work that arrived at `atMs`. The step starts at that nominal time (never before
   * the last step ended), not when the timer happened to fire, so real-time lateness does not add up.
   */
  #kick(atMs: number): void {
    if (this.#busy || this.#kickPending) return;
    // Requests arriving at the same instant at an idle engine share its first step, as they would when the
    // engine loop picks up its queue.
    this.#kickPending = true;
    const start = Math.max(atMs, this.#lastEndMs);
    this.#clock.at(start, () => {
      this.#kickPending = false;
      if (!this.#busy) this.#step(Math.max(start, this.#lastEndMs));
    });
  }

  /**
   * Plans one forward pass: every decoding sequence gets a token, then prefill chunks fill the budget.
   * Back-to-back steps start at the previous step's nominal end, so timer lateness never accumulates.
   */
  #step(startMs?: number): void {
    const now = startMs ?? this.#clock.now();
    const p = this.preset;
    this.#dropCancelled();
    let budget = p.maxNumBatchedTokens;
    const decodes: Seq[] = [];
    const chunks: Array<{ seq: Seq; tokens: number; done: number }> = [];
    let contextSum = 0;
    for (const s of this.#running) {
      if (s.done >= s.req.promptTokens) {
        decodes.push(s);
        contextSum += s.req.promptTokens + s.generated;
        budget--;
      }
    }
    for (const s of this.#running) {
      if (budget <= 0) break;
      if (s.done < s.req.promptTokens) {
        const t = Math.min(s.req.promptTokens - s.done, budget);
        chunks.push({ seq: s, tokens: t, done: s.done });
        budget -= t;
      }
    }
    // Admit waiting requests FCFS while budget, sequence slots and KV allow (no overtaking: a request that
    // does not fit blocks the ones behind it, as vLLM's FCFS scheduler does).
    while (budget > 0 && this.#running.length < p.maxNumSeqs && this.#waiting.length > 0) {
      const s = this.#waiting[0] as Seq;
      if (s.req.kvReadyAtMs !== undefined && s.req.kvReadyAtMs > now) break;
      const res = this.kv.reserve(s.req.blocks, s.req.promptTokens, s.req.maxTokens, s.req.kvReadyAtMs === undefined);
      if (!res) break;
      this.#waiting.shift();
      s.res = res;
      // Transferred KV (PD decode leg) covers the whole prompt; the last token is recomputed for sampling.
      s.cachedTokens = s.req.kvReadyAtMs !== undefined ? Math.max(s.req.promptTokens - 1, 0) : res.cachedTokens;
      s.done = s.cachedTokens;
      s.ev.onStart?.(s.cachedTokens, now);
      this.#running.push(s);
      const t = Math.min(s.req.promptTokens - s.done, budget);
      chunks.push({ seq: s, tokens: t, done: s.done });
      budget -= t;
    }
    if (decodes.length === 0 && chunks.length === 0) {
      this.#busy = false;
      this.#lastEndMs = now;
      return;
    }
    this.#busy = true;
    this.#steps++;
    const dur = mixedStepMs(p, chunks, decodes.length, contextSum);
    const end = now + dur;
    this.#clock.at(end, () => this.#finishStep(end, decodes, chunks));
  }

  #finishStep(end: number, decodes: Seq[], chunks: Array<{ seq: Seq; tokens: number }>): void {
    for (const s of decodes) {
      if (s.cancelled) continue;
      this.#emit(s, end);
    }
    for (const c of chunks) {
      const s = c.seq;
      if (s.cancelled) continue;
      s.done += c.tokens;
      this.#promptTokens += c.tokens;
      if (s.done >= s.req.promptTokens) {
        // The prefill's last step samples the first output token.
        s.prefillEndMs = end;
        this.#emit(s, end);
      }
    }
    this.#running = this.#running.filter((s) => {
      const keep = !s.cancelled && s.generated < s.req.maxTokens;
      if (!keep) this.#retire(s, end);
      return keep;
    });
    this.#step(end);
  }

  #emit(s: Seq, at: number): void {
    const i = s.generated++;
    this.#generationTokens++;
    s.ev.onToken(i, at);
  }

  #retire(s: Seq, at: number): void {
    if (s.res) this.kv.release(s.res);
    s.res = undefined;
    if (!s.cancelled) {
      this.#finished++;
      s.ev.onFinish({ cachedTokens: s.cachedTokens, prefillEndMs: s.prefillEndMs, atMs: at });
    }
  }

  #dropCancelled(): void {
    if (this.#waiting.some((s) => s.cancelled)) this.#waiting = this.#waiting.filter((s) => !s.cancelled);
    const now = this.#clock.now();
    if (this.#running.some((s) => s.cancelled)) {
      this.#running = this.#running.filter((s) => {
        if (s.cancelled) this.#retire(s, now);
        return !s.cancelled;
      });
    }
  }
}
