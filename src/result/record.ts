// The per-request record: raw timestamps and counts as the client observed them. Metrics are derived from
// it in one place (metrics/derive.ts); a missing input stays undefined, never a guess.

export type Outcome = 'ok' | 'failed' | 'cancelled';

/**
 * Why a request failed. `http_error`: status >= 400 (the server's error body is kept); `connect_error`: no
 * connection; `connection_reset`: the socket closed mid-request; `timeout`: --request-timeout; `incomplete_stream`:
 * the body ended without finish_reason or [DONE]; `stream_error`: the server sent an error object in the
 * stream; `parse_error`: an event was not valid JSON; `client_error`: a bug or local problem in pd-bench;
 * `cancelled`: interrupted by the user or by the drain deadline.
 */
export type ErrorClass =
  | 'http_error'
  | 'connect_error'
  | 'connection_reset'
  | 'timeout'
  | 'incomplete_stream'
  | 'stream_error'
  | 'parse_error'
  | 'client_error'
  | 'cancelled';

export type Phase = 'warmup' | 'measure';

/** Where token counts came from: the server's usage, or (labelled fallback) completion = counted content chunks and prompt = pd-bench's estimate. */
export type TokenSource = 'usage' | 'fallback';

/** llama.cpp's server-side timings from the final chunk (ground truth for accuracy checks). */
export interface ServerTimings {
  promptN?: number;
  promptMs?: number;
  predictedN?: number;
  predictedMs?: number;
  cacheN?: number;
}

/**
 * All times are milliseconds since the run's start (process.hrtime.bigint based, so monotonic and
 * sub-microsecond); `wallStartMs` of the run converts them to epoch time for labels.
 */
export interface RequestRecord {
  /** Launch sequence number within the run (warmup and measured share the sequence). */
  id: number;
  phase: Phase;
  userId: number;
  /** 1-based question number within the user's session. */
  round: number;
  /** Due time from the schedule. */
  intendedMs: number;
  /**
   * When the turn could go: due, its user free (the previous turn ended) and a --max-concurrency slot free.
   * dispatch - ready is the client's own lateness (sender lag); ready - intended is the wait the server or the
   * workload imposed. Absent in records of older versions (then ready = intended).
   */
  readyMs?: number | undefined;
  /**
   * When the request was handed to the connection pool. sent - dispatch is the connection wait: opening a
   * connection (the network and the server's accept) plus undici's pool search. Absent in older records.
   */
  dispatchMs?: number | undefined;
  /** When the request was handed to the connection pool. */
  sentMs: number;
  /** True when the turn was due while the same user's previous turn was still running. */
  late: boolean;
  headersMs: number | undefined;
  /** First chunk with non-empty content or reasoning text. */
  firstTokenMs: number | undefined;
  /** Last byte received (or the failure / cancellation time). */
  endMs: number;
  /** Arrival time of every chunk that carried content or reasoning text. */
  chunkTimesMs: number[];
  /** Tokens carried by each such chunk (from per-chunk usage when the server sends it, else 1). */
  chunkTokens: number[];
  /** True when chunkTokens came from per-chunk usage (continuous_usage_stats). */
  perChunkUsage: boolean;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  cachedTokens: number | undefined;
  tokenSource: TokenSource;
  /** pd-bench's own estimate of the prompt length (for the ±10% check against usage). */
  promptTokensEstimate: number;
  httpStatus: number | undefined;
  finishReason: string | undefined;
  outcome: Outcome;
  errorClass: ErrorClass | undefined;
  errorMessage: string | undefined;
  serverTimings: ServerTimings | undefined;
  /** The answer text; used for the user's history, not written to the CSV. */
  text: string;
}
