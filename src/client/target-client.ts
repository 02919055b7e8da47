// Sends one turn to an OpenAI-compatible target over a keep-alive undici pool and records what happened.
// Only stamps: headers, every content chunk (on the socket read, before JSON parsing), end. It never throws
// for a failed request: every outcome becomes a RequestRecord with its class and message.
import { Pool } from '../util/undici.js';
import type { Dispatcher } from 'undici';
import type { Endpoint } from '../config/options.js';
import type { ErrorClass, Phase, RequestRecord } from '../result/record.js';
import { OpenAIStreamState, excerpt, streamOutcome } from './openai-stream.js';
import { SseParser } from './sse-parser.js';
import { onAbort } from '../util/abort-fanout.js';
import { isCertificateError, type TlsSettings } from '../util/tls.js';

export interface ClientOptions {
  baseUrl: string;
  apiKey: string | undefined;
  endpoint: Endpoint;
  /** Pool size: the most requests in flight at once (null: a connection for every request in flight). */
  connections: number | null;
  requestTimeoutMs: number;
  /** What the timeout is called in its error message (default: the --request-timeout flag that sets it). */
  timeoutName?: string;
  userIdHeader: string;
  /** The run's time origin (process.hrtime.bigint()). */
  t0: bigint;
  extraHeaders?: Record<string, string>;
  /** --ca-file / --insecure for an https:// target (default: Node's trust store). */
  tls?: TlsSettings | undefined;
}

export interface TurnRequest {
  id: number;
  phase: Phase;
  userId: number;
  round: number;
  intendedMs: number;
  /** When the turn could go (user and slot free); default intendedMs. See RequestRecord.readyMs. */
  readyMs?: number;
  late: boolean;
  /** The JSON body, already serialized. */
  body: string;
  promptTokensEstimate: number;
}

const MAX_ERROR_BODY = 64 * 1024;

class AbortReason extends Error {
  constructor(readonly kind: 'timeout' | 'cancelled', message: string) {
    super(message);
  }
}

export function endpointPath(baseUrl: string, endpoint: Endpoint): string {
  const prefix = new URL(baseUrl).pathname.replace(/\/+$/, '');
  return `${prefix}/${endpoint === 'chat' ? 'chat/completions' : 'completions'}`;
}

export function classifyNetworkError(err: unknown, gotHeaders: boolean): ErrorClass {
  // A certificate that did not verify: no connection to send on, like a refused one.
  if (isCertificateError(err)) return 'connect_error';
  const code = (err as { code?: string } | undefined)?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect_error';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'connection_reset';
    default:
      return gotHeaders ? 'connection_reset' : 'client_error';
  }
}

function errorText(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  const parts = [e?.code, e?.message, e?.cause?.code, e?.cause?.message].filter((x) => x);
  return [...new Set(parts)].join(': ') || String(err);
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'run interrupted';
}

/** What the driver needs from a client; tests substitute a stub. */
export interface TurnSender {
  send(req: TurnRequest, signal?: AbortSignal): Promise<RequestRecord>;
  close(): Promise<void>;
}

export class TargetClient implements TurnSender {
  readonly options: ClientOptions;
  #pool: Pool;
  #path: string;
  #headers: Record<string, string>;

  constructor(options: ClientOptions) {
    this.options = options;
    const url = new URL(options.baseUrl);
    // Our own per-request timer enforces --request-timeout; undici's header/body timeouts would fire first on
    // long prefill queues, so they are off.
    this.#pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      // Below uvicorn's 5 s idle close (vLLM, production-stack's router), which sends no Keep-Alive hint: a
      // request must never go out on a socket the server is closing, or it fails as a false connection reset.
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: 0,
      bodyTimeout: 0,
      ...(options.tls ? { connect: { ...options.tls } } : {}),
    });
    this.#path = endpointPath(options.baseUrl, options.endpoint);
    this.#headers = {
      'content-type': 'application/json',
      accept: 'text/event-stream, application/json',
      ...(options.extraHeaders ?? {}),
    };
    if (options.apiKey) this.#headers.authorization = `Bearer ${options.apiKey}`;
  }

  send(req: TurnRequest, signal?: AbortSignal): Promise<RequestRecord> {
    return new Promise<RequestRecord>((resolve) => {
      new TurnExchange(this, req, resolve, signal).start(this.#pool, this.#path, this.#headers);
    });
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}

/** One request's lifetime; a class rather than closures so the hot path allocates one object per request. */
class TurnExchange implements Dispatcher.DispatchHandler {
  #client: TargetClient;
  #req: TurnRequest;
  #resolve: (r: RequestRecord) => void;
  #signal: AbortSignal | undefined;
  #t0: bigint;
  #state: OpenAIStreamState;
  #parser: SseParser;
  #controller: Dispatcher.DispatchController | undefined;
  #abortReason: AbortReason | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Handed to the pool; the request may wait there for a connection. */
  #dispatchMs = 0;
  /** Undici is about to write it to a socket: the request is sent. */
  #sentMs: number | undefined;
  #unsubscribe: (() => void) | undefined;
  #headersMs: number | undefined;
  #status: number | undefined;
  #errorBody: Buffer[] | undefined;
  #errorBodyLen = 0;
  #settled = false;
  #onAbort = (): void => this.abort(new AbortReason('cancelled', `cancelled: ${reasonText(this.#signal?.reason)}`));

  constructor(client: TargetClient, req: TurnRequest, resolve: (r: RequestRecord) => void, signal?: AbortSignal) {
    this.#client = client;
    this.#req = req;
    this.#resolve = resolve;
    this.#signal = signal;
    this.#t0 = client.options.t0;
    this.#state = new OpenAIStreamState(this.#t0);
    this.#parser = new SseParser((data, at) => this.#state.onEvent(data, at));
  }

  start(pool: Pool, path: string, baseHeaders: Record<string, string>): void {
    if (this.#signal?.aborted) {
      this.#dispatchMs = this.#now();
      this.#finish('cancelled', 'cancelled', 'cancelled before sending');
      return;
    }
    if (this.#signal) this.#unsubscribe = onAbort(this.#signal, this.#onAbort);
    // Armed now so a connection that never comes still times out; re-armed when the request is really sent.
    this.#armTimeout();
    const headers = { ...baseHeaders, [this.#client.options.userIdHeader]: String(this.#req.userId) };
    this.#dispatchMs = this.#now();
    try {
      pool.dispatch({ method: 'POST', path, headers, body: this.#req.body }, this);
    } catch (err) {
      this.#finish('failed', 'client_error', errorText(err));
    }
  }

  #armTimeout(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.abort(new AbortReason('timeout', `no complete response within ${this.#client.options.timeoutName ?? '--request-timeout'} ${this.#client.options.requestTimeoutMs / 1000} s`));
    }, this.#client.options.requestTimeoutMs);
  }

  abort(reason: AbortReason): void {
    if (this.#settled || this.#abortReason) return;
    this.#abortReason = reason;
    if (this.#controller) this.#controller.abort(reason);
    // If undici has not started the request yet, onRequestStart will see the reason and abort there.
  }

  #now(): number {
    return Number(process.hrtime.bigint() - this.#t0) / 1e6;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Stamped here, not at dispatch: undici calls this just before writing to the socket, after it has found a
    // connection (Pool.dispatch scans its clients: 75 us at p50 with 1,000 busy). That search is the client's
    // time, not the server's; it lands in schedule lag instead of TTFT.
    this.#sentMs = this.#now();
    if (!this.#settled && !this.#abortReason) this.#armTimeout();
    this.#controller = controller;
    if (this.#abortReason) controller.abort(this.#abortReason);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    if (statusCode < 200) return; // 1xx informational
    this.#headersMs = this.#now();
    this.#status = statusCode;
    if (statusCode >= 400) this.#errorBody = [];
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    const at = process.hrtime.bigint();
    if (this.#errorBody) {
      if (this.#errorBodyLen < MAX_ERROR_BODY) {
        this.#errorBody.push(chunk);
        this.#errorBodyLen += chunk.length;
      }
      return;
    }
    try {
      this.#parser.push(chunk, at);
    } catch (err) {
      this.abort(new AbortReason('cancelled', errorText(err)));
      this.#finish('failed', 'parse_error', errorText(err));
    }
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    const at = process.hrtime.bigint();
    if (this.#errorBody) {
      const body = Buffer.concat(this.#errorBody).toString('utf8');
      this.#finish('failed', 'http_error', `HTTP ${this.#status}: ${excerpt(body) || '(empty body)'}`);
      return;
    }
    try {
      this.#parser.end(at);
    } catch (err) {
      this.#finish('failed', 'parse_error', errorText(err));
      return;
    }
    const failure = streamOutcome(this.#state);
    if (failure) this.#finish('failed', failure.errorClass, failure.message);
    else this.#finish('ok', undefined, undefined);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.#settled) return;
    const reason = this.#abortReason;
    if (reason && (err === reason || (err as { cause?: unknown }).cause === reason || reason.kind === 'cancelled' || reason.kind === 'timeout')) {
      this.#finish(reason.kind === 'timeout' ? 'failed' : 'cancelled', reason.kind, reason.message);
      return;
    }
    // An error object the server sent before the connection broke says more than the socket error.
    if (this.#state.error) {
      this.#finish('failed', this.#state.error.errorClass, this.#state.error.message);
      return;
    }
    this.#finish('failed', classifyNetworkError(err, this.#headersMs !== undefined), errorText(err));
  }

  #finish(outcome: RequestRecord['outcome'], errorClass: ErrorClass | undefined, message: string | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#unsubscribe?.();
    const s = this.#state;
    const endMs = this.#now();
    const usageSeen = s.completionTokens !== undefined;
    let chunkTokenSum = 0;
    for (const k of s.chunkTokens) chunkTokenSum += k;
    const r = this.#req;
    this.#resolve({
      id: r.id,
      phase: r.phase,
      userId: r.userId,
      round: r.round,
      intendedMs: r.intendedMs,
      readyMs: r.readyMs,
      dispatchMs: this.#dispatchMs,
      sentMs: this.#sentMs ?? this.#dispatchMs,
      late: r.late,
      headersMs: this.#headersMs,
      firstTokenMs: s.firstTokenMs,
      endMs,
      chunkTimesMs: s.chunkTimesMs,
      chunkTokens: s.chunkTokens,
      perChunkUsage: s.perChunkUsage,
      promptTokens: s.promptTokens ?? (usageSeen ? undefined : r.promptTokensEstimate),
      completionTokens: s.completionTokens ?? chunkTokenSum,
      cachedTokens: s.cachedTokens,
      tokenSource: usageSeen ? 'usage' : 'fallback',
      promptTokensEstimate: r.promptTokensEstimate,
      httpStatus: this.#status,
      finishReason: s.finishReason,
      outcome,
      errorClass,
      errorMessage: message,
      serverTimings: s.serverTimings,
      text: s.text,
    });
  }
}
