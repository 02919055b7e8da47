// Types shared by the comparison pipeline: per-request samples (what the statistics resample), SLO specs and
// results, paired comparisons with confidence intervals, and the ComparisonReport that compare.json,
// comparison.csv and report.html are written from. Types only.
import type { RoundStat, RunResult } from '../result/schema.js';
import type { RequestSample } from '../metrics/request-sample.js';
import type { SloResult, SloSpec } from '../metrics/slo.js';
import type { RunTimeline } from './timeline.js';

export type { RoundStat };
export type { RequestSample } from '../metrics/request-sample.js';
export type { ItlStat, SloMetric, SloResult, SloSpec } from '../metrics/slo.js';


/** All measured requests of one target (every repetition), and the time they were measured over. */
export interface TargetSamples {
  name: string;
  samples: readonly RequestSample[];
  /** Sum of the measured durations (s) of the target's runs: the throughput denominator. */
  durationS: number;
  /** GPUs behind the target, for per-GPU throughput and goodput (null: unknown). */
  gpus: number | null;
}


/** A point estimate and its confidence interval (null when there is not enough data). */
export interface Estimate {
  value: number | null;
  lo: number | null;
  hi: number | null;
}

export type Verdict = 'better' | 'worse' | 'no significant difference' | 'insufficient data';

export type ComparedMetric =
  | 'ttft_ms'
  | 'itl_ms'
  | 'tpot_ms'
  | 'e2el_ms'
  | 'request_throughput'
  | 'output_throughput'
  | 'request_goodput'
  | 'slo_attainment';

export interface MetricComparison {
  metric: ComparedMetric;
  /** Latencies: the percentile compared; rates: 'value'. */
  stat: 'p50' | 'p90' | 'p99' | 'value';
  higherIsBetter: boolean;
  baseline: Estimate;
  candidate: Estimate;
  /** candidate - baseline, with its interval from the same bootstrap resamples. */
  difference: Estimate;
  /** candidate / baseline. */
  ratio: Estimate;
  verdict: Verdict;
}

export interface TargetComparison {
  baseline: string;
  candidate: string;
  /** True when sessions were resampled in pairs (the same (rep, user) drawn for both targets). */
  paired: boolean;
  /** Sessions present in both targets (paired) or in each (unpaired: the smaller). */
  sessions: number;
  /** (rep, user, round) requests present and ok in both targets. */
  matchedRequests: number;
  iterations: number;
  confidence: number;
  metrics: MetricComparison[];
  /** e.g. "pd cut p99 ITL by 41% [35%, 47%] and raised p50 TTFT by 12% [8%, 15%] against colocated at 1.1 QPS". */
  sentence: string;
}

export interface CompareTarget {
  name: string;
  baseUrl: string;
  model: string;
  gpus: number | null;
  /** One RunResult per repetition, in run order. */
  runs: RunResult[];
  /** Error counts over all runs, by class: shown per target, never dropped. */
  errors: Record<string, number>;
  slo: SloResult | null;
  rounds: RoundStat[];
  /** Latency and throughput over time, one series per run, binned from the samples (absent in reports before 2026-11-24 22:00). */
  timeline?: RunTimeline[];
}

export type CompareOrder = 'sequential' | 'interleaved' | 'simultaneous' | 'offline';
export type HistoryMode = 'live' | 'frozen';

export interface ComparisonReport {
  schema: 'pd-bench/comparison';
  schemaVersion: 1;
  createdAt: string;
  order: CompareOrder;
  history: HistoryMode;
  repeat: number;
  /** The configured QPS the comparison ran at. */
  qps: number;
  baseline: string;
  targets: CompareTarget[];
  comparisons: TargetComparison[];
  /** Live history: mean prompt tokens per round and target (answers differ, so later prompts drift). */
  promptDrift: { round: number; promptTokensMean: Record<string, number | null> }[];
  slo: SloSpec | null;
  notes: string[];
}
