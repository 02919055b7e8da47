// Types of the regression gate: the gated metrics with their tolerances, each metric's change against the
// baseline with its interval and verdict, and the GateReport that gate.json, the JUnit file, the markdown summary
// and history.csv are written from. Types only.
import type { Estimate } from '../compare/types.js';
import type { SloSpec } from '../metrics/slo.js';
import type { ThresholdOutcome } from './thresholds.js';

/**
 * `regression`: the whole interval of the change is worse than the tolerance; `improvement`: the whole interval
 * is better than it; `within noise`: anything else; `insufficient data`: too few samples for an interval.
 */
export type MetricVerdict = 'regression' | 'improvement' | 'within noise' | 'insufficient data';

/** pass: exit 0; regression: 7; threshold breach: 6; inconclusive: 8 (README "Failures, interrupts, exit codes"). */
export type GateVerdict = 'pass' | 'regression' | 'threshold breach' | 'inconclusive';

export interface GatedMetric {
  /** e.g. `ttft.p99`, `output_throughput`, `error_rate`. */
  name: string;
  unit: 'ms' | 'req/s' | 'tok/s' | 'fraction';
  higherIsBetter: boolean;
  /** `relative`: the ratio current / baseline is judged (latencies, rates); `absolute`: the difference (error_rate). */
  kind: 'relative' | 'absolute';
  /** Relative: a share (0.1 = 10%); absolute: in the metric's unit (0.01 = 1 percentage point of error rate). */
  tolerance: number;
  baseline: number | null;
  current: number | null;
  /** Relative: the ratio current / baseline; absolute: current - baseline; each with its bootstrap interval. */
  change: Estimate;
  verdict: MetricVerdict;
  /** Why the verdict is `insufficient data`, when it is. */
  why?: string;
}

/** Which runs a side of the gate stands for. */
export interface GateSide {
  /** Where it came from: a directory, a baseline-store entry, or the run the gate just made. */
  source: string;
  runIds: string[];
  startedAt: string;
  /** Measured requests (all repetitions). */
  requests: number;
  clientHealthy: boolean;
  saturated: boolean;
}

export interface GateReport {
  schema: 'pd-bench/gate';
  schemaVersion: 1;
  createdAt: string;
  /** --label, or the CI commit ($GITHUB_SHA, $CI_COMMIT_SHA, ...); null when neither is known. */
  label: string | null;
  /** The target's label in the baseline store (--target-label). */
  target: string;
  /** The workload fingerprint and the fields it covers. */
  workload: { hash: string; fields: Record<string, string> };
  /** Null when there was no baseline to compare with (a first night). */
  baseline: GateSide | null;
  current: GateSide;
  slo: SloSpec | null;
  confidence: number;
  iterations: number;
  /** Sessions resampled in pairs (both sides ran the same users). */
  paired: boolean;
  sessions: number;
  metrics: GatedMetric[];
  thresholds: ThresholdOutcome[];
  /**
   * What undermines the comparison as a whole (client unhealthy, target saturated, interrupted, no baseline); a
   * metric with too few samples says so in its own verdict instead.
   */
  problems: string[];
  verdict: GateVerdict;
  exitCode: number;
  /** The one verdict line, e.g. "REGRESSION: ttft.p99 +23% [+15%, +31%] over a 10% tolerance ...". */
  sentence: string;
  /** Whether tonight's result became the store's baseline (--update-baseline and the gate passed). */
  baselineUpdated: boolean;
  notes: string[];
}
