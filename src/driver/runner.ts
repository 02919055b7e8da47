// Picks how one point is run: in this thread, or spread over --workers threads. A crashed worker's siblings'
// merged result is still returned (interrupted, the failure in its notes) so nothing measured is lost; the caller
// hears of the crash through onCrash and exits 1.
import type { RunConfig } from '../config/options.js';
import { WorkerCrashError, runWithWorkers } from '../driver/worker-pool.js';
import type { RunResult } from '../result/schema.js';
import { runBenchmark } from '../run/run-benchmark.js';
import type { RunOptions } from '../run/options.js';

export type Runner = (options: RunOptions, signal?: AbortSignal) => Promise<RunResult>;

export function runnerFor(config: RunConfig, onCrash?: (err: WorkerCrashError) => void): Runner {
  if (config.workers <= 1) return runBenchmark;
  return async (options, signal) => {
    try {
      return await runWithWorkers({ ...options, workers: config.workers }, signal);
    } catch (err) {
      if (!(err instanceof WorkerCrashError) || !err.result) throw err;
      onCrash?.(err);
      return err.result;
    }
  };
}
