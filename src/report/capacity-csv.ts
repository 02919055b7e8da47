// capacity.csv (one row per target x load x repetition: flat columns a planner pivots, units in the names) and
// capacity-summary.csv (one row per target: its capacity under the SLO with the interval, the knee, the first
// saturated load, and its capacity per GPU against the baseline). Pure.
import type { CapacityRow, SweepReport } from '../sweep/types.js';

/** capacity.csv's columns, in order: the CapacityRow fields. */
export const CAPACITY_COLUMNS: readonly (keyof CapacityRow)[] = [
  'target', 'gpus', 'axis', 'point', 'qps', 'users', 'repetition', 'step',
  'offered_rps', 'launched_rps', 'completed_rps', 'input_tok_s', 'output_tok_s', 'output_tok_s_per_gpu', 'output_tok_s_per_user',
  'ttft_p50_ms', 'ttft_p90_ms', 'ttft_p99_ms', 'itl_p50_ms', 'itl_p90_ms', 'itl_p99_ms',
  'tpot_p50_ms', 'tpot_p90_ms', 'tpot_p99_ms', 'e2el_p50_ms', 'e2el_p90_ms', 'e2el_p99_ms',
  'requests', 'failed', 'error_rate', 'goodput_rps', 'goodput_rps_per_gpu',
  'slo_attainment', 'slo_attainment_lo', 'slo_attainment_hi', 'slo_verdict',
  'saturated', 'client_healthy', 'interrupted', 'duration_s', 'run_dir',
];

export const CAPACITY_SUMMARY_COLUMNS = [
  'target', 'gpus', 'axis', 'slo', 'attainment_goal', 'outcome',
  'max_load', 'max_load_lo', 'max_load_hi', 'capacity_rps', 'capacity_rps_lo', 'capacity_rps_hi', 'capacity_rps_per_gpu',
  'launched_rps', 'goodput_rps', 'goodput_rps_per_gpu', 'output_tok_s_per_gpu', 'attainment', 'uncertain',
  'first_failing_load', 'first_failing_why', 'knee_load', 'knee_reason', 'first_saturated_load', 'first_saturated_why',
  'stopped_because', 'runs', 'baseline', 'capacity_per_gpu_ratio', 'capacity_per_gpu_ratio_lo', 'capacity_per_gpu_ratio_hi',
] as const;

type SummaryRow = Record<(typeof CAPACITY_SUMMARY_COLUMNS)[number], string | number | boolean | null>;

/** Numbers as plain decimals with up to 6 significant digits; null as an empty cell. */
const cell = (v: unknown): string | number | boolean | null => (typeof v === 'number' ? (Number.isFinite(v) ? Number(v.toPrecision(6)) : null) : (v as string | boolean | null));

export function capacityCsvRows(report: SweepReport): Record<string, string | number | boolean | null>[] {
  return report.rows.map((r) => Object.fromEntries(CAPACITY_COLUMNS.map((c) => [c, cell(r[c])])));
}

export function capacitySummaryRows(report: SweepReport): SummaryRow[] {
  const slo = report.slo ? (report.slo.preset ?? 'custom') : null;
  return report.targets.map((t) => {
    const ratio = report.ratios.find((r) => r.target === t.target);
    const row: SummaryRow = {
      target: t.target,
      gpus: t.gpus,
      axis: report.axis.name,
      slo,
      attainment_goal: report.goal,
      outcome: t.outcome,
      max_load: t.maxLoad,
      max_load_lo: t.maxLoadLo,
      max_load_hi: t.maxLoadHi,
      capacity_rps: t.capacityRps,
      capacity_rps_lo: t.capacityRpsLo,
      capacity_rps_hi: t.capacityRpsHi,
      capacity_rps_per_gpu: t.capacityRpsPerGpu,
      launched_rps: t.launchedRps,
      goodput_rps: t.goodputRps,
      goodput_rps_per_gpu: t.goodputRpsPerGpu,
      output_tok_s_per_gpu: t.outputTokSPerGpu,
      attainment: t.attainment,
      uncertain: t.uncertain,
      first_failing_load: t.firstFailing?.load ?? null,
      first_failing_why: t.firstFailing?.why ?? null,
      knee_load: t.knee?.load ?? null,
      knee_reason: t.knee?.reason ?? null,
      first_saturated_load: t.firstSaturated?.load ?? null,
      first_saturated_why: t.firstSaturated?.reasons[0] ?? null,
      stopped_because: t.stoppedBecause,
      runs: t.probes,
      baseline: report.baseline,
      capacity_per_gpu_ratio: ratio?.ratio ?? (t.target === report.baseline && t.capacityRps !== null ? 1 : null),
      capacity_per_gpu_ratio_lo: ratio?.lo ?? null,
      capacity_per_gpu_ratio_hi: ratio?.hi ?? null,
    };
    for (const k of CAPACITY_SUMMARY_COLUMNS) row[k] = cell(row[k]);
    return row;
  });
}
