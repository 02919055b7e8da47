// The library entry of one load point (runBenchmark) and its option types; the implementation lives in run/.
export { runBenchmark } from './run/run-benchmark.js';
export type { RunOptions, RunProgress } from './run/options.js';
