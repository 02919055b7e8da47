// The versioned RunResult: the contract between the measurement core and every reporter (console, CSV,
// JSON, later HTML and compare). Reporters read only this; summary.json is this object.
import type { ArrivalMode, Endpoint, RunConfig } from '../config/options.js';
import type { FORMULAS } from './formulas.js';
import type { ErrorClass, TokenSource } from './record.js';
import type { ScrapeResult } from './server-metrics.js';

export const RESULT_SCHEMA = 'pd-bench/run-result';
export const RESULT_SCHEMA_VERSION = 1;

/** A latency metric: summary in ms plus what is needed to merge it exactly with another run. */
export interface MetricBlock extends StatSummary {
  unit: 'ms';
  /** Exact sum and sum of squares of the recorded values (ms), for exact merged means. */
  sum: number;
  sumSq: number;
  /** Compressed base64 HDR histogram of the values in microseconds. */
  histogram: string;
}

/** Every latency metric a run records, in report order. */
export const METRIC_NAMES = [
  'ttft_ms',
  'ttfb_ms',
  'ttst_ms',
  'itl_ms',
  'icl_ms',
  'tpot_ms',
  'e2el_ms',
  'schedule_lag_ms',
  'wait_ms',
  'sender_lag_ms',
  'connect_wait_ms',
  'ttft_from_intended_ms',
  'e2el_from_intended_ms',
] as const;

/**
 * Why a turn that came due was not sent. `user-busy`: its user's previous turn was still running when --time
 * ended (no new turn starts after --time, as in multi-round-qa.py), or was cancelled by the drain deadline;
 * `slot-wait`: it waited for a --max-concurrency slot past --time; `interrupted`: the run was stopped first.
 */
export type UnsentReason = 'user-busy' | 'slot-wait' | 'interrupted';

export type MetricName = (typeof METRIC_NAMES)[number];

export interface OutcomeCounts {
  launched: number;
  ok: number;
  failed: number;
  cancelled: number;
}

export interface WindowSummary {
  startS: number;
  endS: number;
  launched: number;
  completed: number;
  failed: number;
  cancelled: number;
  inFlight: number;
  ttftP50Ms: number | null;
  ttftP99Ms: number | null;
  itlP50Ms: number | null;
  itlP99Ms: number | null;
  outputTokensPerS: number;
  requestsPerS: number;
}

/** Per-round view: how prefix reuse and growing history play out by question number. */
export interface RoundStat {
  round: number;
  /** Measured requests launched in this round (any outcome) and those that succeeded. */
  requests: number;
  ok: number;
  /** With sum, sumSq and histogram (MetricBlock) so that per-round views of several workers or runs merge exactly. */
  ttft: MetricBlock;
  itl: MetricBlock;
  promptTokensMean: number | null;
  /** Cached prompt tokens / prompt tokens over the round's ok requests that reported cached tokens. */
  cachedTokenShare: number | null;
}

export interface RunResult {
  schema: typeof RESULT_SCHEMA;
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  tool: { name: 'pd-bench'; version: string };
  runId: string;
  /** e.g. "run-pd@1.1qps" */
  label: string;
  startedAt: string;
  endedAt: string;
  /** Epoch ms of the run's time origin: record times (ms since origin) + this = wall time. */
  wallStartMs: number;
  interrupted: boolean;
  scenario: string | null;
  /** The resolved config with secrets removed; `qps` here is the list, `schedule.configuredQps` this point. */
  config: Omit<RunConfig, 'apiKey'> & { apiKey: '<redacted>' | null };
  target: {
    baseUrl: string;
    model: string;
    endpoint: Endpoint;
    /** Could the target not keep up with the offered load? (absent in results of older versions) */
    saturated?: boolean;
    /** The evidence that decided it, one line each (empty when not saturated). */
    reasons?: string[];
  };
  /** The saturation verdict with its figures (metrics/saturation.ts); absent in results of older versions. */
  saturation?: SaturationSummary;
  schedule: {
    kind: 'multi-round';
    /** How turn launch times were drawn (--arrival) and the gamma shape (--burstiness). */
    arrival: ArrivalMode;
    burstiness: number;
    label: string;
    configuredQps: number;
    gapPerUserS: number;
    gapBetweenUsersS: number;
    sessionSpanS: number;
    /** The rate multi-round pacing produces at steady state: qps * rounds / (rounds - 1). */
    expectedRate: number;
  };
  environment: {
    node: string;
    platform: string;
    arch: string;
    cpus: number;
    /** CPUs this process may run on (its affinity mask, e.g. under taskset); absent in results from before 2026-11-24. */
    availableCpus?: number;
    /** Node's own flags (`process.execArgv`): pd-bench adds --single-threaded-gc on one CPU. */
    nodeFlags?: string[];
    cpuModel: string;
    totalMemoryBytes: number;
  };
  /** Measured-phase requests: launched = ok + failed + cancelled. */
  counts: OutcomeCounts & {
    /** Turns that were due while the same user's previous turn was still running. */
    late: number;
    /** Turns that came due inside the launch window but were not sent; launched + unsent = turns due. */
    unsent: number;
    /** The same by reason (absent in results of older versions). */
    unsentByReason?: Partial<Record<UnsentReason, number>>;
    errorsByClass: Partial<Record<ErrorClass, number>>;
    warmup: OutcomeCounts;
  };
  tokens: {
    prompt: number;
    completion: number;
    cached: number;
    /** 'mixed' when some requests had usage and some did not. */
    source: TokenSource | 'mixed' | 'none';
    perChunkUsage: boolean;
    /**
     * Distribution of (estimate - usage) / usage * 100 over requests with usage: the prompt sizing error. Its
     * percentiles are of |error|. `histogram`: LatencyStat's encoding of |error| (so results merge exactly).
     */
    promptEstimateErrorPct: StatSummary & { histogram?: string };
    /** Tokens per content chunk (mean), from per-chunk usage or 1 when unknown. */
    tokensPerChunkMean: number | null;
    /**
     * Their distribution: a server that batches tokens into chunks shows here (ITL spreads each gap over them).
     * `histogram`: LatencyStat's encoding of the values (so results merge exactly).
     */
    tokensPerChunk: StatSummary & { histogram?: string };
  };
  throughput: {
    measuredDurationS: number;
    launchWindowS: number;
    configuredQps: number;
    expectedRate: number;
    launchRate: number;
    requestThroughput: number;
    inputThroughput: number;
    outputThroughput: number;
    cachedTokenShare: number | null;
  };
  /** Whether the client itself kept up (event-loop delay, schedule lag), with its CPU and memory. */
  client: ClientHealth;
  metrics: Record<MetricName, MetricBlock>;
  windows: WindowSummary[];
  /** TTFT, ITL and cached share by round index. */
  rounds: RoundStat[];
  /** Server metrics scraped during the run (--scrape role=URL); null when nothing was scraped. */
  server: ScrapeResult | null;
  formulas: typeof FORMULAS;
  notes: string[];
  /** vLLM `bench serve` compatible keys, for tools that already read those. */
  vllm: Record<string, number | null>;
}

/** Summary statistics of one metric, in the metric's unit (ms for latencies). */
export interface StatSummary {
  count: number;
  mean: number | null;
  stddev: number | null;
  min: number | null;
  max: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
}

export interface ClientHealthThresholds {
  /** Event-loop delay above this (ms, at the judged tail percentile) makes the client unhealthy. */
  maxLoopDelayMs: number;
  /** Sender lag above this (ms, at the judged tail percentile; --max-schedule-lag) makes the client unhealthy. */
  maxSenderLagMs: number;
}

export interface ClientHealth {
  healthy: boolean;
  /** Why not, one line each; empty when healthy. */
  reasons: string[];
  thresholds: ClientHealthThresholds;
  /** Event-loop delay beyond the 1 ms sampling interval, ms. */
  loopDelayMs: { mean: number; p50: number; p99: number; max: number; samples: number };
  /** CPU time of this process over the measured wall time (1.0 = one core busy). */
  cpuShare: number;
  cpuSeconds: number;
  maxRssBytes: number;
  /** Schedule lag p99 (ms): wait + sender lag; shown, not judged (waits are the server's or the workload's). */
  scheduleLagP99Ms: number | null;
  /** Sender lag (dispatch - ready, the client's own lateness) as the verdict judged it. */
  senderLag: { samples: number; p90: number | null; p99: number | null };
}

/** What the saturation verdict saw: the shares, the trends and the scraped queues (see metrics/saturation.ts). */
export interface SaturationSummary {
  saturated: boolean;
  reasons: string[];
  evidence: {
    waitedShare: number | null;
    launchRatio: number | null;
    ttftTrend: TrendSummary | null;
    backlogTrend: TrendSummary | null;
    queue: { role: string; median: number; max: number }[];
  };
}

export interface TrendSummary {
  n: number;
  slopeMsPerS: number | null;
  lo: number | null;
  hi: number | null;
  rising: boolean;
  reason: string;
  text: string;
}
