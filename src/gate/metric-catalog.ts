// The names thresholds address: every figure of a RunResult a CI check may want, each with its unit and how it
// is read. One table, so the parser, the evaluator, the error message and the README list the same names. Pure.
import { METRIC_NAMES, type MetricName, type RunResult, type StatSummary } from '../result/schema.js';

/**
 * How a metric's value is written and shown. `ms`: latencies (limits in ms, s or us); `fraction`: 0..1 (limits as
 * a fraction or with %); `req/s`, `tok/s`: rates; `count`: whole requests; `cores`: CPU share; `bool`: yes/no
 * checks written `name` or `!name`.
 */
export type MetricUnit = 'ms' | 'fraction' | 'req/s' | 'tok/s' | 'count' | 'cores' | 'bool';

/** Figures that are not in the RunResult itself: they need the per-request samples and an SLO. */
export interface ThresholdExtra {
  /** Requests/s meeting every SLO objective (metrics/slo.ts evaluateSlo's requestGoodput); null: no SLO. */
  goodput?: number | null;
  /** Requests meeting every objective / judged requests; null: no SLO. */
  sloAttainment?: number | null;
}

export interface CatalogEntry {
  name: string;
  unit: MetricUnit;
  description: string;
  /** Only defined with an SLO (`--slo`): goodput, slo_attainment. */
  needsSlo?: boolean;
  read(r: RunResult, extra: ThresholdExtra): number | boolean | null;
}

/** Latency families: the threshold name is the RunResult metric without `_ms`. */
export const LATENCY_FAMILIES: readonly string[] = METRIC_NAMES.map((m) => m.replace(/_ms$/, ''));
/** Statistics of a latency family, as `ttft.p99`; `p99.9` is accepted for p999. */
export const LATENCY_STATS = ['p50', 'p90', 'p95', 'p99', 'p999', 'mean', 'max', 'min'] as const;
export type LatencyStatName = (typeof LATENCY_STATS)[number];

const num = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function latencyEntries(): CatalogEntry[] {
  const out: CatalogEntry[] = [];
  for (const metric of METRIC_NAMES) {
    const family = metric.replace(/_ms$/, '');
    for (const stat of LATENCY_STATS) {
      out.push({
        name: `${family}.${stat}`,
        unit: 'ms',
        description: `${stat} of ${metric}`,
        // A metric with no values (no successful request) has null statistics: no value, never a pass.
        read: (r) => ((r.metrics[metric as MetricName] as StatSummary | undefined)?.count ? num((r.metrics[metric as MetricName] as StatSummary)[stat]) : null),
      });
    }
  }
  return out;
}

const SCALARS: readonly CatalogEntry[] = [
  { name: 'error_rate', unit: 'fraction', description: 'failed / launched (measured requests)', read: (r) => (r.counts.launched > 0 ? r.counts.failed / r.counts.launched : null) },
  { name: 'request_throughput', unit: 'req/s', description: 'successful requests / measured duration', read: (r) => num(r.throughput.requestThroughput) },
  { name: 'output_throughput', unit: 'tok/s', description: 'completion tokens of successful requests / measured duration', read: (r) => num(r.throughput.outputThroughput) },
  { name: 'input_throughput', unit: 'tok/s', description: 'prompt tokens of successful requests / measured duration', read: (r) => num(r.throughput.inputThroughput) },
  { name: 'launch_rate', unit: 'req/s', description: 'requests launched / launch window', read: (r) => num(r.throughput.launchRate) },
  { name: 'goodput', unit: 'req/s', needsSlo: true, description: 'requests meeting every --slo objective / measured duration', read: (_r, x) => num(x.goodput) },
  { name: 'slo_attainment', unit: 'fraction', needsSlo: true, description: 'requests meeting every --slo objective / judged requests', read: (_r, x) => num(x.sloAttainment) },
  { name: 'cached_token_share', unit: 'fraction', description: 'cached prompt tokens / prompt tokens', read: (r) => num(r.throughput.cachedTokenShare) },
  { name: 'requests', unit: 'count', description: 'measured requests launched', read: (r) => r.counts.launched },
  { name: 'ok', unit: 'count', description: 'successful requests', read: (r) => r.counts.ok },
  { name: 'failed', unit: 'count', description: 'failed requests', read: (r) => r.counts.failed },
  { name: 'cancelled', unit: 'count', description: 'requests cancelled by the drain deadline or an interrupt', read: (r) => r.counts.cancelled },
  { name: 'late', unit: 'count', description: "turns due while their user's previous turn was running", read: (r) => r.counts.late },
  { name: 'unsent', unit: 'count', description: 'turns due in the launch window but not sent', read: (r) => r.counts.unsent },
  { name: 'client.loop_delay.p99', unit: 'ms', description: "the client's event-loop delay p99", read: (r) => num(r.client.loopDelayMs.p99) },
  { name: 'client.sender_lag.p99', unit: 'ms', description: "the client's sender lag p99", read: (r) => num(r.client.senderLag.p99) },
  { name: 'client.cpu_share', unit: 'cores', description: "the client's CPU time / measured wall time", read: (r) => num(r.client.cpuShare) },
  { name: 'client.healthy', unit: 'bool', description: 'the client kept up (see Client health)', read: (r) => r.client.healthy },
  { name: 'target.saturated', unit: 'bool', description: 'the target could not keep up with the offered load (see Saturation)', read: (r) => r.target.saturated === true },
];

/** Every addressable metric, latencies first. */
export const METRIC_CATALOG: readonly CatalogEntry[] = [...latencyEntries(), ...SCALARS];

const BY_NAME = new Map(METRIC_CATALOG.map((e) => [e.name, e]));

/** The entry for a name (`p99.9` accepted for `p999`), or undefined. */
export function catalogEntry(name: string): CatalogEntry | undefined {
  return BY_NAME.get(name.replace(/\.p99\.9$/, '.p999'));
}

/** The one-line list of names for error messages and --help. */
export const METRIC_NAMES_TEXT =
  `${LATENCY_FAMILIES.join(', ')} with .${LATENCY_STATS.join('|.')}; ` + SCALARS.map((e) => (e.unit === 'bool' ? `[!]${e.name}` : e.name)).join(', ');
