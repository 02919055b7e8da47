// summary.csv: one row per run (or per QPS point of a sweep), flat columns for spreadsheets. Pure.
import type { MetricName, RunResult } from '../result/schema.js';

const LATENCY: readonly MetricName[] = ['ttft_ms', 'itl_ms', 'tpot_ms', 'e2el_ms', 'ttfb_ms', 'schedule_lag_ms', 'ttft_from_intended_ms'];
const STATS = ['mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const;

export function summaryColumns(): string[] {
  const cols = [
    'run_id',
    'label',
    'started_at',
    'interrupted',
    'base_url',
    'model',
    'configured_qps',
    'expected_rate',
    'launch_rate',
    'request_throughput',
    'input_throughput',
    'output_throughput',
    'measured_duration_s',
    'launched',
    'ok',
    'failed',
    'cancelled',
    'late',
    'unsent',
    'tokens_per_chunk_mean',
    'tokens_per_chunk_max',
    'client_healthy',
    'client_loop_delay_p99_ms',
    'client_cpu_share',
    'client_max_rss_mb',
    'prompt_tokens',
    'completion_tokens',
    'cached_tokens',
    'cached_token_share',
    'token_source',
  ];
  for (const m of LATENCY) for (const st of STATS) cols.push(`${m.replace(/_ms$/, '')}_${st}_ms`);
  // Added after the others so earlier columns keep their positions.
  cols.push('saturated', 'saturation_reasons', 'wait_p99_ms', 'sender_lag_p99_ms', 'unsent_user_busy', 'unsent_slot_wait', 'unsent_interrupted');
  return cols;
}

export function summaryRow(r: RunResult): Array<string | number | boolean | null> {
  const t = r.throughput;
  const row: Array<string | number | boolean | null> = [
    r.runId,
    r.label,
    r.startedAt,
    r.interrupted,
    r.target.baseUrl,
    r.target.model,
    t.configuredQps,
    t.expectedRate,
    t.launchRate,
    t.requestThroughput,
    t.inputThroughput,
    t.outputThroughput,
    t.measuredDurationS,
    r.counts.launched,
    r.counts.ok,
    r.counts.failed,
    r.counts.cancelled,
    r.counts.late,
    r.counts.unsent,
    r.tokens.tokensPerChunkMean,
    r.tokens.tokensPerChunk.max,
    r.client.healthy,
    r.client.loopDelayMs.p99,
    r.client.cpuShare,
    Math.round(r.client.maxRssBytes / 1e6),
    r.tokens.prompt,
    r.tokens.completion,
    r.tokens.cached,
    t.cachedTokenShare,
    r.tokens.source,
  ];
  for (const m of LATENCY) for (const st of STATS) row.push(r.metrics[m][st]);
  const why = r.counts.unsentByReason;
  row.push(
    r.target.saturated ?? null,
    (r.target.reasons ?? []).join('; '),
    r.metrics.wait_ms?.p99 ?? null,
    r.metrics.sender_lag_ms?.p99 ?? null,
    why ? (why['user-busy'] ?? 0) : null,
    why ? (why['slot-wait'] ?? 0) : null,
    why ? (why.interrupted ?? 0) : null,
  );
  return row;
}
