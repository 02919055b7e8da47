// --workers N: spreads one run's users over N worker threads (a client that needs more than one core to keep up)
// and merges their results exactly. The coordinator (this module, on the calling thread) picks the time origin,
// starts the workers on disjoint shares of the same seeded schedule, opens the start barrier when all are ready,
// forwards their records, windows and progress to the caller's callbacks, owns the server scraper and the process
// CPU measurement, and merges the parts (result/merge.ts). It measures no request itself.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError, PdBenchError, TargetError, type ConfigIssue, type PdBenchErrorCode } from '../errors.js';
import { mergeRunResults, mergeWindows } from '../metrics/merge.js';
import type { RunResult, WindowSummary } from '../result/schema.js';
import { runBenchmark } from '../run/run-benchmark.js';
import type { RunOptions, RunProgress } from '../run/options.js';
import type { ScrapeResult } from '../scrape/types.js';
import { AnswerBook } from '../workload/answer-book.js';
import type { FromWorker, SerializedError, ToWorker, WorkerInit } from './worker-main.js';

export interface WorkerRunOptions extends RunOptions {
  /** Worker threads to spread the users over; 1 runs runBenchmark on the calling thread. */
  workers: number;
  /** The worker script (default: workerEntry()); tests wrap it to make a worker fail. */
  workerEntry?: URL;
}

export interface WorkerFailure {
  index: number;
  /** `error`: runBenchmark threw in the worker; `crash`: the thread died (uncaught error, exit) without a result. */
  kind: 'error' | 'crash';
  message: string;
  /** Requests the worker had finished and forwarded (they reached onRecord, but not the merged statistics). */
  recordsForwarded: number;
}

/**
 * A worker failed while others ran. The run was stopped (a missing share of the users is not the configured
 * load), and `result` holds the merged results of the workers that finished (interrupted: true, the failure in
 * its notes); it is undefined when none did. Callers write `result` like any other, then report the failure: the
 * CLI exits 1.
 */
export class WorkerCrashError extends PdBenchError {
  readonly result: RunResult | undefined;
  readonly failures: readonly WorkerFailure[];
  constructor(message: string, result: RunResult | undefined, failures: readonly WorkerFailure[]) {
    super('PDB_INTERNAL', message);
    this.result = result;
    this.failures = failures;
  }
}

/**
 * The compiled worker entry. Built code (dist/driver/) starts the sibling worker-main.js; the TypeScript sources
 * (vitest runs them untranspiled for the main thread, but a worker thread gets plain Node, which cannot load .ts)
 * start the build's copy, so `npm run build` must have run.
 */
export function workerEntry(): URL {
  const here = new URL(import.meta.url);
  return here.pathname.endsWith('.ts') ? new URL('../../dist/driver/worker-main.js', here) : new URL('./worker-main.js', here);
}

/** Between the last ready time and the agreed start: the 'go' message must reach every worker first. */
const START_MARGIN_MS = 5;
const PROGRESS_MS = 250;

function rebuildError(e: SerializedError): Error {
  if (e.code === 'PDB_CONFIG' && e.issues) return new ConfigError(e.issues);
  if ((e.code === 'PDB_TARGET_UNREACHABLE' || e.code === 'PDB_TARGET_REJECTED') && e.url !== undefined) {
    const opts: { status?: number; bodyExcerpt?: string } = {};
    if (e.status !== undefined) opts.status = e.status;
    if (e.bodyExcerpt !== undefined) opts.bodyExcerpt = e.bodyExcerpt;
    return new TargetError(e.code, e.url, e.message, opts);
  }
  if (e.code?.startsWith('PDB_')) return new PdBenchError(e.code as PdBenchErrorCode, e.message);
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

function abortText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' ? reason : 'run interrupted';
}

const PHASES: readonly RunProgress['phase'][] = ['warmup', 'measure', 'drain'];

/** What cannot cross to a worker thread: live objects. */
function checkOptions(o: WorkerRunOptions): void {
  const issues: ConfigIssue[] = [];
  const no = (field: string, value: unknown, why: string): void => {
    issues.push({ field, value, allowed: `not with --workers ${o.workers}: ${why}` });
  };
  if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 64) {
    issues.push({ field: '--workers', value: o.workers, allowed: 'allowed: an integer from 1 to 64' });
  }
  if (o.client) no('client', 'a TurnSender', 'a client object cannot cross threads; each worker opens its own connections to config.baseUrl');
  if (o.tokenizer) no('tokenizer', 'a PromptTokenizer', 'a tokenizer object cannot cross threads; each worker fits prompts with the target\'s /tokenize');
  if (o.history && !(o.history instanceof AnswerBook)) no('history', 'an AnswerSource', 'only an AnswerBook (sent as JSON lines) can cross threads');
  if (o.partition || o.t0 !== undefined || o.syncStart) no('partition/t0/syncStart', 'set', 'the worker pool sets them itself');
  if (o.config.maxConcurrency > 0) {
    no('--max-concurrency', o.config.maxConcurrency, 'it is one first-come-first-served cap over all requests, which threads cannot share; use --workers 1');
  }
  if (issues.length > 0) throw new ConfigError(issues);
}

interface Slot {
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

/**
 * Runs one QPS point over `options.workers` threads (see the module comment) and returns the merged RunResult. The
 * same seed gives the same schedule, prompts and request count as one worker: worker i runs the users whose join
 * index k has k mod N = i and numbers its requests i, i + N, ... Aborting `signal` aborts every worker; the merged
 * result then has `interrupted: true`. Throws WorkerCrashError (carrying the merged result of the others) when a
 * worker fails; when no worker got as far as a result and the first to fail threw (ConfigError, TargetError, ...),
 * rethrows that error, as runBenchmark on one thread would have.
 */
export async function runWithWorkers(options: WorkerRunOptions, signal?: AbortSignal): Promise<RunResult> {
  checkOptions(options);
  const { workers: n } = options;
  if (n === 1) {
    const { workers: _workers, workerEntry: _entry, ...single } = options;
    return runBenchmark(single, signal);
  }
  const entry = options.workerEntry ?? workerEntry();
  if (!existsSync(fileURLToPath(entry))) {
    throw new PdBenchError('PDB_INTERNAL', `worker entry ${fileURLToPath(entry)} not found: --workers needs the compiled build (npm run build)`);
  }

  const t0 = process.hrtime.bigint();
  const nowMs = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
  const wallStartMs = Date.now();
  options.onStart?.({ wallStartMs, t0 });
  const history = options.history instanceof AnswerBook ? options.history.toJsonLines() : undefined;

  let measureStartMs: number | undefined;
  let cpu0: NodeJS.CpuUsage | undefined;
  let scraping = false;
  let startTimer: NodeJS.Timeout | undefined;
  let emittedWindows = 0;
  const slots: Slot[] = [];
  /** The first worker to fail: the others are stopped, and its error decides what is thrown. */
  let firstFailed: Slot | undefined;

  const send = (s: Slot, m: ToWorker): void => {
    if (!s.done) s.worker.postMessage(m);
  };
  const stopAll = (reason: string): void => {
    for (const s of slots) send(s, { type: 'abort', reason });
  };

  // The barrier: every worker that is still alive has warmed up; the start leaves time for 'go' to arrive.
  const maybeStart = (): void => {
    // Stopped before the start (user abort, a failed worker): the workers were told and start "now" themselves.
    if (measureStartMs !== undefined || signal?.aborted || firstFailed) return;
    const waiting = slots.filter((s) => !s.done);
    if (waiting.length === 0 || waiting.some((s) => s.ready === undefined)) return;
    const startMs = Math.max(nowMs(), ...waiting.map((s) => s.ready as number)) + START_MARGIN_MS;
    measureStartMs = startMs;
    for (const s of waiting) send(s, { type: 'go', startMs });
    startTimer = setTimeout(() => {
      startTimer = undefined;
      cpu0 = process.cpuUsage();
      if (options.scraper) {
        options.scraper.start(t0 + BigInt(Math.round(startMs * 1e6)));
        scraping = true;
      }
    }, Math.max(startMs - nowMs(), 0));
  };

  // Window i goes out once every worker has delivered its window i or finished without one.
  const emitWindows = (final: boolean): void => {
    for (;;) {
      const i = emittedWindows;
      const have = slots.map((s) => s.windows[i]).filter((w): w is WindowSummary => w !== undefined);
      if (have.length === 0) return;
      if (!final && slots.some((s) => s.windows[i] === undefined && !s.done)) return;
      emittedWindows++;
      options.onWindow?.(mergeWindows(have));
    }
  };

  const failed = (s: Slot, what: string): void => {
    if (firstFailed) return;
    firstFailed = s;
    stopAll(`stopped: worker ${s.index} ${what}`);
  };

  const onUserAbort = (): void => stopAll(abortText(signal?.reason));
  for (let index = 0; index < n; index++) {
    const init: WorkerInit = {
      config: options.config,
      qps: options.qps,
      runId: options.runId,
      scenario: options.scenario,
      t0,
      partition: { index, count: n },
      history,
      progress: options.onProgress !== undefined,
    };
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
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'records':
            slot.records += m.records.length;
            if (options.onRecord) for (const r of m.records) options.onRecord(r);
            break;
          case 'window':
            slot.windows.push(m.window);
            emitWindows(false);
            break;
          case 'progress':
            slot.progress = m.progress;
            break;
          case 'ready':
            slot.ready = m.readyMs;
            maybeStart();
            break;
          case 'result':
            slot.result = m.result;
            break;
          case 'error':
            slot.error = m.error;
            failed(slot, `failed: ${m.error.message}`);
            break;
        }
      });
      worker.on('error', (err) => {
        slot.crash ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      });
      worker.on('exit', (code) => {
        slot.done = true;
        if (!slot.result && !slot.error) {
          slot.crash ??= `exited with code ${code}`;
          failed(slot, `crashed: ${slot.crash}`);
        }
        // The others may have been waiting for this one at the barrier, or for its windows.
        maybeStart();
        emitWindows(false);
        resolve();
      });
    });
    slots.push(slot);
  }
  if (signal?.aborted) onUserAbort();
  signal?.addEventListener('abort', onUserAbort, { once: true });

  const progressTimer = options.onProgress
    ? setInterval(() => {
        const ps = slots.map((s) => s.progress).filter((p): p is RunProgress => p !== undefined);
        if (ps.length === 0) return;
        options.onProgress?.({
          elapsedS: Math.max(...ps.map((p) => p.elapsedS)),
          launchWindowS: ps[0]?.launchWindowS ?? 0,
          launched: ps.reduce((a, p) => a + p.launched, 0),
          done: ps.reduce((a, p) => a + p.done, 0),
          inFlight: ps.reduce((a, p) => a + p.inFlight, 0),
          errors: ps.reduce((a, p) => a + p.errors, 0),
          // The run is in a phase until its slowest worker has left it.
          phase: PHASES[Math.min(...ps.map((p) => PHASES.indexOf(p.phase)))] ?? 'measure',
        });
      }, PROGRESS_MS)
    : undefined;
  progressTimer?.unref();

  let server: ScrapeResult | null = null;
  let wallS = 0;
  let cpuSeconds = 0;
  try {
    await Promise.all(slots.map((s) => s.exited));
  } finally {
    signal?.removeEventListener('abort', onUserAbort);
    if (progressTimer) clearInterval(progressTimer);
    if (startTimer) clearTimeout(startTimer);
    if (cpu0 && measureStartMs !== undefined) {
      const c = process.cpuUsage(cpu0);
      cpuSeconds = (c.user + c.system) / 1e6;
      wallS = Math.max((nowMs() - measureStartMs) / 1000, 1e-9);
    }
    if (scraping && options.scraper) server = await options.scraper.stop();
    for (const s of slots) if (!s.done) await s.worker.terminate();
  }
  emitWindows(true);

  const ok = slots.filter((s): s is Slot & { result: RunResult } => s.result !== undefined);
  const failures: WorkerFailure[] = slots
    .filter((s) => !s.result)
    .map((s) => ({ index: s.index, kind: s.error ? 'error' : 'crash', message: s.error?.message ?? s.crash ?? 'no result', recordsForwarded: s.records }));
  if (ok.length === 0) {
    // No worker got as far as a result and the first to fail threw (a bad config, an unreachable tokenizer
    // endpoint): that is the error runBenchmark would have thrown on one thread; the others only followed it.
    if (firstFailed?.error) throw rebuildError(firstFailed.error);
    throw new WorkerCrashError(`all ${n} workers failed: ${failures.map((f) => `worker ${f.index}: ${f.message}`).join('; ')}`, undefined, failures);
  }
  const notes = failures.map(
    (f) =>
      `worker ${f.index} ${f.kind === 'error' ? 'failed' : 'crashed'} (${f.message}): its share of the users (join index k mod ${n} = ${f.index}) is missing from these ` +
      `statistics; the other workers were stopped; its ${f.recordsForwarded} finished request(s) are in requests.csv only`,
  );
  const merged = mergeRunResults(
    ok.map((s) => s.result),
    {
      kind: 'partitions',
      partNames: ok.map((s) => `worker ${s.index}`),
      sameProcess: true,
      ...(cpu0 ? { processCpu: { cpuSeconds, wallS } } : {}),
      runId: options.runId,
      wallStartMs,
      ...(options.scraper ? { server } : {}),
      interrupted: ok.some((s) => s.result.interrupted) || (signal?.aborted ?? false) || failures.length > 0,
      notes,
    },
  );
  if (failures.length > 0) {
    throw new WorkerCrashError(`${failures.length} of ${n} workers failed (${failures.map((f) => `worker ${f.index}: ${f.message}`).join('; ')}); the others' results are merged`, merged, failures);
  }
  return merged;
}
