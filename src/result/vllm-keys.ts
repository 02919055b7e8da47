// The vLLM `bench serve` compatible keys of a RunResult (mean_ttft_ms, p99_itl_ms, request_throughput, ...), for
// tools that already read those. Computed from the result's own metrics and throughput, in one place. Pure.
import type { RunResult } from './schema.js';

const METRICS = ['ttft', 'tpot', 'itl', 'e2el'] as const;

export function vllmCompatibleKeys(r: Pick<RunResult, 'counts' | 'tokens' | 'throughput' | 'metrics'>): Record<string, number | null> {
  const t = r.throughput;
  const keys: Record<string, number | null> = {
    completed: r.counts.ok,
    failed: r.counts.failed,
    duration: t.measuredDurationS,
    total_input_tokens: r.tokens.prompt,
    total_output_tokens: r.tokens.completion,
    request_throughput: t.requestThroughput,
    output_throughput: t.outputThroughput,
    total_token_throughput: t.inputThroughput + t.outputThroughput,
  };
  for (const name of METRICS) {
    const m = r.metrics[`${name}_ms`];
    keys[`mean_${name}_ms`] = m.mean;
    keys[`median_${name}_ms`] = m.p50;
    keys[`std_${name}_ms`] = m.stddev;
    keys[`p90_${name}_ms`] = m.p90;
    keys[`p95_${name}_ms`] = m.p95;
    keys[`p99_${name}_ms`] = m.p99;
  }
  return keys;
}
