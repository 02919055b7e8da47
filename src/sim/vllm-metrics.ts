// Prometheus text for simulated engines under vLLM's metric names (vllm:num_requests_running,
// vllm:kv_cache_usage_perc, vllm:time_to_first_token_seconds, ...), so scrapers written for a real vLLM
// deployment read the simulator unchanged. Times are simulated seconds.
import type { EngineStats } from './engine.js';

// vLLM's bucket boundaries for time_to_first_token_seconds and inter_token_latency_seconds.
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

export class PromHistogram {
  readonly bounds: readonly number[];
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = bounds.map(() => 0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    const i = this.bounds.findIndex((b) => v <= b);
    if (i >= 0) this.counts[i] = (this.counts[i] ?? 0) + 1;
  }
}

/** What one simulated engine exposes besides its engine stats. */
export class EngineMetrics {
  readonly ttft = new PromHistogram(TTFT_BUCKETS);
  readonly itl = new PromHistogram(ITL_BUCKETS);
  readonly e2e = new PromHistogram(E2E_BUCKETS);
  success = 0;
  failed = 0;
  kvTransfers = 0;
  kvTransferSeconds = 0;
}

export interface EngineMetricsSource {
  labels: Record<string, string>;
  stats(): EngineStats;
  metrics: EngineMetrics;
}

const fmtLabels = (l: Record<string, string>, extra?: Record<string, string>): string => {
  const all = { ...l, ...extra };
  return '{' + Object.entries(all).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',') + '}';
};

/** One Prometheus text page for all engines (one HELP/TYPE per family, a sample per engine). */
export function renderVllmMetrics(sources: readonly EngineMetricsSource[]): string {
  const out: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter', help: string, value: (s: EngineMetricsSource) => number): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const s of sources) out.push(`${name}${fmtLabels(s.labels)} ${value(s)}`);
  };
  const hist = (name: string, help: string, pick: (s: EngineMetricsSource) => PromHistogram): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const s of sources) {
      const h = pick(s);
      let cum = 0;
      h.bounds.forEach((b, i) => {
        cum += h.counts[i] ?? 0;
        out.push(`${name}_bucket${fmtLabels(s.labels, { le: String(b) })} ${cum}`);
      });
      out.push(`${name}_bucket${fmtLabels(s.labels, { le: '+Inf' })} ${h.count}`);
      out.push(`${name}_sum${fmtLabels(s.labels)} ${h.sum}`);
      out.push(`${name}_count${fmtLabels(s.labels)} ${h.count}`);
    }
  };
  family('vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', (s) => s.stats().running);
  family('vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', (s) => s.stats().waiting);
  family('vllm:kv_cache_usage_perc', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', (s) => s.stats().kvUsage);
  family('vllm:prefix_cache_queries_total', 'counter', 'Prefix cache queries, in terms of number of queried tokens.', (s) => s.stats().prefixQueryTokens);
  family('vllm:prefix_cache_hits_total', 'counter', 'Prefix cache hits, in terms of number of cached tokens.', (s) => s.stats().prefixHitTokens);
  family('vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', (s) => s.stats().promptTokens);
  family('vllm:generation_tokens_total', 'counter', 'Number of generation tokens processed.', (s) => s.stats().generationTokens);
  family('vllm:request_success_total', 'counter', 'Count of successfully processed requests.', (s) => s.metrics.success);
  family('pdbench_sim:request_failed_total', 'counter', 'Requests the simulator failed on purpose (fault knobs) or rejected.', (s) => s.metrics.failed);
  family('pdbench_sim:kv_transfers_total', 'counter', 'PD: KV hand-offs received by this decode engine.', (s) => s.metrics.kvTransfers);
  family('pdbench_sim:kv_transfer_seconds_total', 'counter', 'PD: simulated seconds spent moving KV to this decode engine.', (s) => s.metrics.kvTransferSeconds);
  hist('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', (s) => s.metrics.ttft);
  hist('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', (s) => s.metrics.itl);
  hist('vllm:e2e_request_latency_seconds', 'Histogram of end to end request latency in seconds.', (s) => s.metrics.e2e);
  return out.join('\n') + '\n';
}
