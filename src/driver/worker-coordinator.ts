// The live side of --workers: after worker-pool.ts has started the threads, this coordinator (on the calling
// thread) follows them until they all exit. It holds the start barrier (the measured phase starts once every live
// worker has warmed up), forwards their records, merged windows and merged progress to the caller's callbacks,
// stops every worker when one fails or the user aborts, and measures what only the process can: its CPU over the
// measured phase and the server scrape. worker-pool.ts then merges the results the slots hold.
import { Worker } from 'node:worker_threads';
import { mergeWindows } from '../metrics/merge.js';
import type { RunResult, WindowSummary } from '../result/schema.js';
import type { RunOptions, RunProgress } from '../run/options.js';
import type { ScrapeResult } from '../scrape/types.js';
import type { FromWorker, SerializedError, ToWorker, WorkerInit } from './worker-main.js';

/** Between the last ready time and the agreed start: the 'go' message must reach every worker first. */
const START_MARGIN_MS = 5;
const PROGRESS_MS = 250;

const PHASES: readonly RunProgress['phase'][] = ['warmup', 'measure', 'drain'];

/** The caller's callbacks and scraper, which stay on the calling thread. */
export type CoordinatorHooks = Pick<RunOptions, 'onRecord' | 'onWindow' | 'onProgress' | 'scraper'>;

export interface Slot {
  index: number;
  worker: Worker;
  ready: number | undefined;
  result: RunResult | undefined;
  error: SerializedError | undefined;
  crash: string | undefined;
  done: boolean;
  windows: WindowSummary[];
  progress: RunProgress | undefined;
  records: number;
  exited: Promise<void>;
}

/** What the coordinator measured itself once every worker had exited. */
export interface CoordinatorMeasures {
  /** Undefined when the measured phase never started (every worker stopped before the barrier opened). */
  processCpu: { cpuSeconds: number; wallS: number } | undefined;
  /** The scraper's result; null without a scraper or when scraping never started. */
  server: ScrapeResult | null;
}

function abortText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'run interrupted';
}

/** The run is in a phase until its slowest worker has left it; the counts are the workers' sums. */
function mergeProgress(ps: readonly RunProgress[]): RunProgress {
  return {
    elapsedS: Math.max(...ps.map((p) => p.elapsedS)),
    launchWindowS: ps[0]?.launchWindowS ?? 0,
    launched: ps.reduce((a, p) => a + p.launched, 0),
    done: ps.reduce((a, p) => a + p.done, 0),
    inFlight: ps.reduce((a, p) => a + p.inFlight, 0),
    errors: ps.reduce((a, p) => a + p.errors, 0),
    phase: PHASES[Math.min(...ps.map((p) => PHASES.indexOf(p.phase)))] ?? 'measure',
  };
}

export class WorkerCoordinator {
  readonly slots: Slot[] = [];
  #firstFailed: Slot | undefined;
  readonly #hooks: CoordinatorHooks;
  readonly #t0: bigint;
  readonly #signal: AbortSignal | undefined;
  #measureStartMs: number | undefined;
  #cpu0: NodeJS.CpuUsage | undefined;
  #scraping = false;
  #startTimer: NodeJS.Timeout | undefined;
  #progressTimer: NodeJS.Timeout | undefined;
  #emittedWindows = 0;
  // One function object, so that finish() removes exactly the listener follow() added.
  readonly #onUserAbort = (): void => this.#stopAll(abortText(this.#signal?.reason));

  /** `t0` is the time origin the workers share (their WorkerInit.t0). */
  constructor(hooks: CoordinatorHooks, t0: bigint, signal: AbortSignal | undefined) {
    this.#hooks = hooks;
    this.#t0 = t0;
    this.#signal = signal;
  }

  /** The first worker to fail: the others are stopped, and its error decides what is thrown. */
  get firstFailed(): Slot | undefined {
    return this.#firstFailed;
  }

  nowMs(): number {
    return Number(process.hrtime.bigint() - this.#t0) / 1e6;
  }

  /** Starts a worker thread on `init` and follows its messages and its exit. */
  spawn(index: number, entry: URL, init: WorkerInit): void {
    const worker = new Worker(entry, { workerData: init });
    const slot: Slot = {
      index,
      worker,
      ready: undefined,
      result: undefined,
      error: undefined,
      crash: undefined,
      done: false,
      windows: [],
      progress: undefined,
      records: 0,
      exited: Promise.resolve(),
    };
    slot.exited = new Promise<void>((resolve) => {
      worker.on('message', (m: FromWorker) => this.#onMessage(slot, m));
      worker.on('error', (err) => {
        slot.crash ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      });
      worker.on('exit', (code) => {
        this.#onExit(slot, code);
        resolve();
      });
    });
    this.slots.push(slot);
  }

  /** Once every worker is spawned: passes the user's abort on to them and starts forwarding their progress. */
  follow(): void {
    if (this.#signal?.aborted) this.#onUserAbort();
    this.#signal?.addEventListener('abort', this.#onUserAbort, { once: true });
    this.#progressTimer = this.#hooks.onProgress ? setInterval(() => this.#forwardProgress(), PROGRESS_MS) : undefined;
    this.#progressTimer?.unref();
  }

  /**
   * Waits until every worker has exited, then ends what the coordinator measured (process CPU, the scrape) and
   * emits the windows still held back.
   */
  async finish(): Promise<CoordinatorMeasures> {
    const measures: CoordinatorMeasures = { processCpu: undefined, server: null };
    try {
      await Promise.all(this.slots.map((s) => s.exited));
    } finally {
      this.#signal?.removeEventListener('abort', this.#onUserAbort);
      if (this.#progressTimer) clearInterval(this.#progressTimer);
      if (this.#startTimer) clearTimeout(this.#startTimer);
      if (this.#cpu0 && this.#measureStartMs !== undefined) {
        const c = process.cpuUsage(this.#cpu0);
        measures.processCpu = { cpuSeconds: (c.user + c.system) / 1e6, wallS: Math.max((this.nowMs() - this.#measureStartMs) / 1000, 1e-9) };
      }
      if (this.#scraping && this.#hooks.scraper) measures.server = await this.#hooks.scraper.stop();
      for (const s of this.slots) if (!s.done) await s.worker.terminate();
    }
    this.#emitWindows(true);
    return measures;
  }

  #onMessage(slot: Slot, m: FromWorker): void {
    switch (m.type) {
      case 'records':
        slot.records += m.records.length;
        if (this.#hooks.onRecord) for (const r of m.records) this.#hooks.onRecord(r);
        break;
      case 'window':
        slot.windows.push(m.window);
        this.#emitWindows(false);
        break;
      case 'progress':
        slot.progress = m.progress;
        break;
      case 'ready':
        slot.ready = m.readyMs;
        this.#maybeStart();
        break;
      case 'result':
        slot.result = m.result;
        break;
      case 'error':
        slot.error = m.error;
        this.#failed(slot, `failed: ${m.error.message}`);
        break;
    }
  }

  #onExit(slot: Slot, code: number): void {
    slot.done = true;
    if (!slot.result && !slot.error) {
      slot.crash ??= `exited with code ${code}`;
      this.#failed(slot, `crashed: ${slot.crash}`);
    }
    // The others may have been waiting for this one at the barrier, or for its windows.
    this.#maybeStart();
    this.#emitWindows(false);
  }

  #send(s: Slot, m: ToWorker): void {
    if (!s.done) s.worker.postMessage(m);
  }

  #stopAll(reason: string): void {
    for (const s of this.slots) this.#send(s, { type: 'abort', reason });
  }

  #failed(s: Slot, what: string): void {
    if (this.#firstFailed) return;
    this.#firstFailed = s;
    this.#stopAll(`stopped: worker ${s.index} ${what}`);
  }

  // The barrier: every worker that is still alive has warmed up; the start leaves time for 'go' to arrive.
  #maybeStart(): void {
    // Stopped before the start (user abort, a failed worker): the workers were told and start "now" themselves.
    if (this.#measureStartMs !== undefined || this.#signal?.aborted || this.#firstFailed) return;
    const waiting = this.slots.filter((s) => !s.done);
    if (waiting.length === 0 || waiting.some((s) => s.ready === undefined)) return;
    const startMs = Math.max(this.nowMs(), ...waiting.map((s) => s.ready as number)) + START_MARGIN_MS;
    this.#measureStartMs = startMs;
    for (const s of waiting) this.#send(s, { type: 'go', startMs });
    this.#startTimer = setTimeout(() => this.#startMeasuring(startMs), Math.max(startMs - this.nowMs(), 0));
  }

  /** At the agreed start: the process CPU and the server scrape cover the measured phase only. */
  #startMeasuring(startMs: number): void {
    this.#startTimer = undefined;
    this.#cpu0 = process.cpuUsage();
    if (this.#hooks.scraper) {
      this.#hooks.scraper.start(this.#t0 + BigInt(Math.round(startMs * 1e6)));
      this.#scraping = true;
    }
  }

  // Window i goes out once every worker has delivered its window i or finished without one.
  #emitWindows(final: boolean): void {
    for (;;) {
      const i = this.#emittedWindows;
      const have = this.slots.map((s) => s.windows[i]).filter((w): w is WindowSummary => w !== undefined);
      if (have.length === 0) return;
      if (!final && this.slots.some((s) => s.windows[i] === undefined && !s.done)) return;
      this.#emittedWindows++;
      this.#hooks.onWindow?.(mergeWindows(have));
    }
  }

  #forwardProgress(): void {
    const ps = this.slots.map((s) => s.progress).filter((p): p is RunProgress => p !== undefined);
    if (ps.length === 0) return;
    this.#hooks.onProgress?.(mergeProgress(ps));
  }
}
