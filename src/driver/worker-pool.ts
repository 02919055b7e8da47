// --workers N: spreads one run's users over N worker threads (a client that needs more than one core to keep up)
// and merges their results exactly. This module, on the calling thread, picks the time origin, starts the workers
// on disjoint shares of the same seeded schedule and merges the parts (metrics/merge.ts); while they run,
// worker-coordinator.ts opens the start barrier when all are ready, forwards their records, windows and progress
// to the caller's callbacks and owns the server scraper and the process CPU measurement. It measures no request
// itself.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, PdBenchError, TargetError, type ConfigIssue, type PdBenchErrorCode } from '../errors.js';
import { mergeRunResults } from '../metrics/merge.js';
import type { RunResult } from '../result/schema.js';
import { runBenchmark } from '../run/run-benchmark.js';
import type { RunOptions } from '../run/options.js';
import { AnswerBook } from '../workload/answer-book.js';
import { WorkerCoordinator, type CoordinatorMeasures, type Slot } from './worker-coordinator.js';
import type { SerializedError, WorkerInit } from './worker-main.js';

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
  const entry = existingEntry(options);

  const t0 = process.hrtime.bigint();
  const wallStartMs = Date.now();
  options.onStart?.({ wallStartMs, t0 });
  const history = options.history instanceof AnswerBook ? options.history.toJsonLines() : undefined;

  const coordinator = new WorkerCoordinator(options, t0, signal);
  for (let index = 0; index < n; index++) coordinator.spawn(index, entry, workerInit(options, t0, index, history));
  coordinator.follow();
  const measures = await coordinator.finish();
  return mergeOutcome(options, coordinator, measures, wallStartMs, signal);
}

function existingEntry(options: WorkerRunOptions): URL {
  const entry = options.workerEntry ?? workerEntry();
  if (!existsSync(fileURLToPath(entry))) {
    throw new PdBenchError('PDB_INTERNAL', `worker entry ${fileURLToPath(entry)} not found: --workers needs the compiled build (npm run build)`);
  }
  return entry;
}

function workerInit(options: WorkerRunOptions, t0: bigint, index: number, history: string | undefined): WorkerInit {
  return {
    config: options.config,
    qps: options.qps,
    runId: options.runId,
    scenario: options.scenario,
    t0,
    partition: { index, count: options.workers },
    history,
    progress: options.onProgress !== undefined,
  };
}

/**
 * The run's result from the workers that finished: merged, or thrown inside a WorkerCrashError when some failed;
 * when none finished, the first failure's own error (or a WorkerCrashError without a result).
 */
function mergeOutcome(options: WorkerRunOptions, coordinator: WorkerCoordinator, measures: CoordinatorMeasures, wallStartMs: number, signal: AbortSignal | undefined): RunResult {
  const n = options.workers;
  const slots = coordinator.slots;
  const ok = slots.filter((s): s is Slot & { result: RunResult } => s.result !== undefined);
  const failures: WorkerFailure[] = slots
    .filter((s) => !s.result)
    .map((s) => ({ index: s.index, kind: s.error ? 'error' : 'crash', message: s.error?.message ?? s.crash ?? 'no result', recordsForwarded: s.records }));
  if (ok.length === 0) {
    // No worker got as far as a result and the first to fail threw (a bad config, an unreachable tokenizer
    // endpoint): that is the error runBenchmark would have thrown on one thread; the others only followed it.
    const firstError = coordinator.firstFailed?.error;
    if (firstError) throw rebuildError(firstError);
    throw new WorkerCrashError(`all ${n} workers failed: ${failures.map((f) => `worker ${f.index}: ${f.message}`).join('; ')}`, undefined, failures);
  }
  const merged = mergeRunResults(
    ok.map((s) => s.result),
    {
      kind: 'partitions',
      partNames: ok.map((s) => `worker ${s.index}`),
      sameProcess: true,
      ...(measures.processCpu ? { processCpu: measures.processCpu } : {}),
      runId: options.runId,
      wallStartMs,
      ...(options.scraper ? { server: measures.server } : {}),
      interrupted: ok.some((s) => s.result.interrupted) || (signal?.aborted ?? false) || failures.length > 0,
      notes: failures.map((f) => missingShareNote(f, n)),
    },
  );
  if (failures.length > 0) {
    throw new WorkerCrashError(`${failures.length} of ${n} workers failed (${failures.map((f) => `worker ${f.index}: ${f.message}`).join('; ')}); the others' results are merged`, merged, failures);
  }
  return merged;
}

function missingShareNote(f: WorkerFailure, n: number): string {
  return (
    `worker ${f.index} ${f.kind === 'error' ? 'failed' : 'crashed'} (${f.message}): its share of the users (join index k mod ${n} = ${f.index}) is missing from these ` +
    `statistics; the other workers were stopped; its ${f.recordsForwarded} finished request(s) are in requests.csv only`
  );
}
