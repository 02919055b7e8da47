// The sweep's result schema: one probe per run (target x load x repetition), the flat capacity rows a planner
// pivots (capacity.csv), one capacity summary per target (capacity-summary.csv) and the per-GPU capacity ratios
// against the baseline. summary.json of a sweep is a SweepReport.
import type { SloResult, SloSpec } from '../metrics/slo.js';
import type { RunResult } from '../result/schema.js';
import type { PointVerdict } from './attainment.js';
import type { AxisName } from './axis.js';
import type { Knee } from './knee.js';
import type { SearchOutcome } from './search.js';

export const SWEEP_SCHEMA = 'pd-bench/sweep';
export const SWEEP_SCHEMA_VERSION = 1;

export type FindMode = 'max-qps' | 'max-users';

/** One run of a sweep. */
export interface SweepProbe {
  target: string;
  gpus: number | null;
  axis: AxisName;
  /** The point on the axis (QPS, or users). */
  value: number;
  /** 1-based repetition at this load (a search repeats uncertain loads). */
  rep: number;
  /** 1-based position in the order runs happened. */
  step: number;
  /** The run's directory, relative to the sweep's. */
  dir: string;
  result: RunResult;
  /** SLO evaluation of this run's requests (null without --slo). */
  slo: SloResult | null;
}

/** One row of capacity.csv: a target at a load point, one repetition. Units in the names. */
export interface CapacityRow {
  target: string;
  gpus: number | null;
  axis: AxisName;
  point: number;
  qps: number;
  users: number;
  repetition: number;
  step: number;
  offered_rps: number;
  launched_rps: number;
  completed_rps: number;
  input_tok_s: number;
  output_tok_s: number;
  output_tok_s_per_gpu: number | null;
  /** Per-stream decode speed: 1000 / mean TPOT. */
  output_tok_s_per_user: number | null;
  ttft_p50_ms: number | null;
  ttft_p90_ms: number | null;
  ttft_p99_ms: number | null;
  itl_p50_ms: number | null;
  itl_p90_ms: number | null;
  itl_p99_ms: number | null;
  tpot_p50_ms: number | null;
  tpot_p90_ms: number | null;
  tpot_p99_ms: number | null;
  e2el_p50_ms: number | null;
  e2el_p90_ms: number | null;
  e2el_p99_ms: number | null;
  requests: number;
  failed: number;
  error_rate: number | null;
  goodput_rps: number | null;
  goodput_rps_per_gpu: number | null;
  slo_attainment: number | null;
  slo_attainment_lo: number | null;
  slo_attainment_hi: number | null;
  /** The verdict of this load, pooled over all its runs (the same on every run of the load). */
  slo_verdict: PointVerdict | null;
  saturated: boolean | null;
  client_healthy: boolean;
  interrupted: boolean;
  duration_s: number;
  run_dir: string;
}

/** The capacity of one target (a row of capacity-summary.csv). */
export interface TargetCapacity {
  target: string;
  gpus: number | null;
  /** How the search or sweep ended; 'no-slo' when there was no SLO to meet. */
  outcome: SearchOutcome['kind'] | 'no-slo' | 'interrupted';
  /** The largest load meeting the SLO, and the interval the true capacity lies in: [lo, hi). */
  maxLoad: number | null;
  maxLoadLo: number | null;
  maxLoadHi: number | null;
  /** The same in offered requests per second (the schedule's rate at those loads), and per GPU. */
  capacityRps: number | null;
  capacityRpsLo: number | null;
  capacityRpsHi: number | null;
  capacityRpsPerGpu: number | null;
  /** At the largest load meeting the SLO. */
  launchedRps: number | null;
  goodputRps: number | null;
  goodputRpsPerGpu: number | null;
  outputTokSPerGpu: number | null;
  attainment: number | null;
  /** Whether the decision at the capacity's bounds rested on an estimate (the interval straddled the goal). */
  uncertain: boolean;
  firstFailing: { load: number; why: string } | null;
  lowest: { load: number; attainment: number | null } | null;
  knee: Knee | null;
  firstSaturated: { load: number; reasons: string[] } | null;
  /** Why the sweep stopped early for this target, if it did. */
  stoppedBecause: string | null;
  probes: number;
}

/** Capacity per GPU of a target against the baseline's, with the interval the search brackets give. */
export interface CapacityRatio {
  target: string;
  baseline: string;
  ratio: number | null;
  lo: number | null;
  hi: number | null;
  sentence: string;
}

export interface SweepReport {
  schema: typeof SWEEP_SCHEMA;
  schemaVersion: typeof SWEEP_SCHEMA_VERSION;
  tool: { name: 'pd-bench'; version: string };
  runId: string;
  scenario: string | null;
  startedAt: string;
  endedAt: string;
  interrupted: boolean;
  axis: { name: AxisName; text: string; points: number[]; min: number; max: number };
  find: FindMode | null;
  slo: SloSpec | null;
  goal: number | null;
  confidence: number;
  precision: number | null;
  baseline: string;
  /** The workload of the first run (secrets redacted), without its per-point qps and users. */
  config: RunResult['config'] | null;
  targets: TargetCapacity[];
  ratios: CapacityRatio[];
  /** The headline, e.g. "pd carries 1.3x [1.2, 1.4] the req/s per GPU of colocated under dynamo-short". */
  sentence: string;
  rows: CapacityRow[];
  notes: string[];
  method: string;
}
