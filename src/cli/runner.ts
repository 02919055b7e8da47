// Picks how one point is run: in this thread, or spread over --workers threads.
import type { RunConfig } from '../config/options.js';
import type { RunResult } from '../result/schema.js';
import { runBenchmark, type RunOptions } from '../run.js';

export function runnerFor(_config: RunConfig): (options: RunOptions, signal?: AbortSignal) => Promise<RunResult> {
  return runBenchmark;
}
