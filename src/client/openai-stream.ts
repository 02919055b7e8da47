// Interprets OpenAI-compatible streaming events (chat.completion.chunk / text_completion) for one request:
// first-token time, per-chunk arrival times and token counts, usage, finish reason, in-stream errors.
// It stamps nothing itself: the arrival time of each event comes from the socket read that completed it.
import type { ErrorClass, ServerTimings } from '../result/record.js';

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

// Field types as a server ought to send them are not trusted: what arrives is checked where it is read.
interface Choice {
  delta?: { content?: unknown; reasoning_content?: unknown; reasoning?: unknown } | null;
  text?: unknown;
  finish_reason?: unknown;
}

interface StreamChunk {
  choices?: Choice[] | null;
  usage?: Usage | null;
  error?: unknown;
  timings?: { prompt_n?: unknown; prompt_ms?: unknown; predicted_n?: unknown; predicted_ms?: unknown; cache_n?: unknown } | null;
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
      // Every field is checked for its type, not just presence: a server may send anything, and a number or
      // object taken as text (or as a finish_reason) would count as a token and end up in the record mistyped.
      if (d) {
        // Reasoning text counts as output: the user sees the model working (multi-round-qa.py does the same).
        const r = d.reasoning_content ?? d.reasoning;
        if (typeof r === 'string') tokenText = r;
        if (typeof d.content === 'string') tokenText += d.content;
      } else if (typeof choice.text === 'string') {
        tokenText = choice.text;
      } else {
        const msg = (choice as { message?: { content?: unknown } | null }).message;
        if (typeof msg?.content === 'string') tokenText = msg.content;
      }
      if (typeof choice.finish_reason === 'string' && choice.finish_reason) this.finishReason = choice.finish_reason;
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
    if (typeof chunk.timings === 'object' && chunk.timings !== null) {
      const t = chunk.timings;
      this.serverTimings = {
        promptN: numberOrUndefined(t.prompt_n),
        promptMs: numberOrUndefined(t.prompt_ms),
        predictedN: numberOrUndefined(t.predicted_n),
        predictedMs: numberOrUndefined(t.predicted_ms),
        cacheN: numberOrUndefined(t.cache_n),
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

function numberOrUndefined(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/**
 * How a response body that ended (no network error) is classified: the first error the stream carried, else
 * incomplete when it never said it was done; undefined when it completed.
 */
export function streamOutcome(s: OpenAIStreamState): { errorClass: ErrorClass; message: string } | undefined {
  if (s.error) return s.error;
  if (!s.complete) return { errorClass: 'incomplete_stream', message: 'stream ended without finish_reason or [DONE]' };
  return undefined;
}

export function excerpt(s: string, max = 300): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? one.slice(0, max) + '…' : one;
}
