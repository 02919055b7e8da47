// Entry of one --workers thread: runs runBenchmark on its share of the users (partition index/count) against the
// coordinator's time origin, and talks to the coordinator (worker-pool.ts) by messages only: finished records in
// batches, windows, progress, its ready time for the start barrier, and finally its RunResult (or its error).
// Nothing here measures or decides anything runBenchmark does not; it is transport.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { RunConfig } from '../config/options.js';
import { PdBenchError, TargetError, type ConfigIssue } from '../errors.js';
import type { RequestRecord } from '../result/record.js';
import type { RunResult, WindowSummary } from '../result/schema.js';
import { runBenchmark } from '../run/run-benchmark.js';
import type { RunProgress } from '../run/options.js';
import { AnswerBook } from '../workload/answer-book.js';

/** What a worker is started with (structured-cloned: plain data only; t0 is a BigInt, which clones). */
export interface WorkerInit {
  config: RunConfig & { baseUrl: string; model: string };
  qps: number;
  runId: string;
  scenario: string | undefined;
  t0: bigint;
  partition: { index: number; count: number };
  /** Frozen history as AnswerBook JSON lines (an AnswerSource object cannot cross threads). */
  history: string | undefined;
  /** Whether the coordinator wants progress (it costs a message every 250 ms). */
  progress: boolean;
}

export type ToWorker = { type: 'go'; startMs: number } | { type: 'abort'; reason: string };

/** An error as plain data, enough to rebuild pd-bench's typed errors on the other side. */
export interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
  code: string | undefined;
  issues: ConfigIssue[] | undefined;
  url: string | undefined;
  status: number | undefined;
  bodyExcerpt: string | undefined;
}

export type FromWorker =
  | { type: 'records'; records: RequestRecord[] }
  | { type: 'window'; window: WindowSummary }
  | { type: 'progress'; progress: RunProgress }
  | { type: 'ready'; readyMs: number }
  | { type: 'result'; result: RunResult }
  | { type: 'error'; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  const e = err instanceof Error ? err : new Error(String(err));
  const x = e as Error & { code?: unknown; issues?: unknown };
  return {
    name: e.name,
    message: e.message,
    stack: e.stack,
    code: typeof x.code === 'string' ? x.code : undefined,
    issues: Array.isArray(x.issues) ? (x.issues as ConfigIssue[]) : undefined,
    url: e instanceof TargetError ? e.url : undefined,
    status: e instanceof TargetError ? e.status : undefined,
    bodyExcerpt: e instanceof TargetError ? e.bodyExcerpt : undefined,
  };
}

/** Batching: one message per finished request costs the coordinator a wake-up each; 10 ms adds no visible delay. */
const FLUSH_MS = 10;
const FLUSH_RECORDS = 256;

async function main(): Promise<void> {
  const port = parentPort;
  if (isMainThread || !port) throw new PdBenchError('PDB_INTERNAL', 'worker-main runs as a worker thread started by runWithWorkers, not on its own');
  const init = workerData as WorkerInit;
  const post = (m: FromWorker): void => port.postMessage(m);
  const nowMs = (): number => Number(process.hrtime.bigint() - init.t0) / 1e6;

  let batch: RequestRecord[] = [];
  let flushTimer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    if (batch.length === 0) return;
    post({ type: 'records', records: batch });
    batch = [];
  };

  const ac = new AbortController();
  let go: ((startMs: number) => void) | undefined;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'go') {
      go?.(m.startMs);
      go = undefined;
    } else if (m.type === 'abort') {
      ac.abort(m.reason);
      // An abort before the barrier opened: start "now", which runBenchmark sees as already stopped.
      go?.(nowMs());
      go = undefined;
    }
  });

  try {
    const result = await runBenchmark(
      {
        config: init.config,
        qps: init.qps,
        runId: init.runId,
        scenario: init.scenario,
        partition: init.partition,
        t0: init.t0,
        ...(init.history !== undefined ? { history: AnswerBook.fromJsonLines(init.history) } : {}),
        onRecord: (r) => {
          batch.push(r);
          if (batch.length >= FLUSH_RECORDS) flush();
          else flushTimer ??= setTimeout(flush, FLUSH_MS);
        },
        onWindow: (w) => {
          flush();
          post({ type: 'window', window: w });
        },
        ...(init.progress ? { onProgress: (p: RunProgress) => post({ type: 'progress', progress: p }) } : {}),
        syncStart: (readyMs) =>
          new Promise<number>((resolve) => {
            flush();
            if (ac.signal.aborted) return resolve(nowMs());
            go = resolve;
            post({ type: 'ready', readyMs });
          }),
      },
      ac.signal,
    );
    flush();
    post({ type: 'result', result });
  } catch (err) {
    flush();
    post({ type: 'error', error: serializeError(err) });
  } finally {
    // Messages already posted are still delivered; closing lets the thread end.
    port.close();
  }
}

await main();
