// Interprets OpenAI-compatible streaming events (chat.completion.chunk / text_completion) for one request:
// first-token time, per-chunk arrival times and token counts, usage, finish reason, in-stream errors.
// It stamps nothing itself: the arrival time of each event comes from the socket read that completed it.
import type { ErrorClass, ServerTimings } from '../result/record.js';

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

interface Choice {
  delta?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null } | null;
  text?: string | null;
  finish_reason?: string | null;
}

interface StreamChunk {
  choices?: Choice[] | null;
  usage?: Usage | null;
  error?: unknown;
  timings?: { prompt_n?: number; prompt_ms?: number; predicted_n?: number; predicted_ms?: number; cache_n?: number };
  // A non-streamed response (stream:false honoured by a router): message instead of delta.
  object?: string;
}

export class OpenAIStreamState {
  /** ns since the run's t0; converted to ms by the caller. */
  readonly t0: bigint;
  firstTokenMs: number | undefined;
  chunkTimesMs: number[] = [];
  chunkTokens: number[] = [];
  perChunkUsage = false;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  cachedTokens: number | undefined;
  finishReason: string | undefined;
  done = false;
  lastEventMs: number | undefined;
  error: { errorClass: ErrorClass; message: string } | undefined;
  serverTimings: ServerTimings | undefined;
  #textParts: string[] = [];
  #lastUsageCompletion = 0;

  constructor(t0: bigint) {
    this.t0 = t0;
  }

  get text(): string {
    return this.#textParts.join('');
  }

  /** True when the stream ended properly: a finish_reason or [DONE] was seen. */
  get complete(): boolean {
    return this.done || this.finishReason !== undefined;
  }

  onEvent(data: string, arrivalNs: bigint): void {
    const atMs = Number(arrivalNs - this.t0) / 1e6;
    this.lastEventMs = atMs;
    if (data === '[DONE]') {
      this.done = true;
      return;
    }
    let chunk: StreamChunk;
    try {
      chunk = JSON.parse(data) as StreamChunk;
    } catch {
      // production-stack's router appends a decoder's error as a bare JSON blob right after whatever bytes it
      // had sent, so the blob can land inside a partial data line: report it as the server error it is.
      const at = data.indexOf('{"error"');
      if (at >= 0) {
        this.#fail('stream_error', `server error in stream: ${excerpt(data.slice(at), 1000)}`);
        return;
      }
      this.#fail('parse_error', `invalid JSON event: ${excerpt(data)}`);
      return;
    }
    if (chunk === null || typeof chunk !== 'object') {
      this.#fail('parse_error', `unexpected event: ${excerpt(data)}`);
      return;
    }
    if (chunk.error !== undefined && chunk.error !== null) {
      this.#fail('stream_error', `server error in stream: ${excerpt(JSON.stringify(chunk.error))}`);
      return;
    }
    let tokenText = '';
    const choice = chunk.choices?.[0];
    if (choice) {
      const d = choice.delta;
      if (d) {
        // Reasoning text counts as output: the user sees the model working (multi-round-qa.py does the same).
        const r = d.reasoning_content ?? d.reasoning;
        if (r) tokenText = r;
        if (d.content) tokenText = tokenText ? tokenText + d.content : d.content;
      } else if (typeof choice.text === 'string') {
        tokenText = choice.text;
      } else {
        const msg = (choice as { message?: { content?: string | null } }).message;
        if (msg?.content) tokenText = msg.content;
      }
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
    let tokensInChunk = tokenText ? 1 : 0;
    const u = chunk.usage;
    if (u) {
      if (typeof u.prompt_tokens === 'number') this.promptTokens = u.prompt_tokens;
      if (typeof u.completion_tokens === 'number') {
        // Per-chunk usage (continuous_usage_stats): the delta of completion_tokens is what this chunk carried.
        // Tokens of text-less chunks (a held-back partial UTF-8 character) carry over to the next chunk with
        // text, so every token lands in some gap.
        if (tokenText && chunk.choices && chunk.choices.length > 0) {
          this.perChunkUsage = true;
          tokensInChunk = Math.max(u.completion_tokens - this.#lastUsageCompletion, 1);
          this.#lastUsageCompletion = u.completion_tokens;
        }
        this.completionTokens = u.completion_tokens;
      }
      const cached = u.prompt_tokens_details?.cached_tokens;
      if (typeof cached === 'number') this.cachedTokens = cached;
    }
    if (chunk.timings) {
      const t = chunk.timings;
      this.serverTimings = {
        promptN: t.prompt_n,
        promptMs: t.prompt_ms,
        predictedN: t.predicted_n,
        predictedMs: t.predicted_ms,
        cacheN: t.cache_n,
      };
    }
    if (tokenText) {
      if (this.firstTokenMs === undefined) this.firstTokenMs = atMs;
      this.chunkTimesMs.push(atMs);
      this.chunkTokens.push(tokensInChunk);
      this.#textParts.push(tokenText);
    }
  }

  #fail(errorClass: ErrorClass, message: string): void {
    if (!this.error) this.error = { errorClass, message };
  }
}

export function excerpt(s: string, max = 300): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? one.slice(0, max) + '…' : one;
}
