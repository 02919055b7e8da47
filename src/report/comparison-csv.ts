// comparison.csv: one row per target x compared metric, with the estimate and its interval, and for candidates
// the difference and ratio to the baseline with intervals and the verdict; throughput rows also per GPU when the
// GPU count is known. For spreadsheets. Pure.
import type { ComparedMetric, ComparisonReport, Estimate, MetricComparison } from '../compare/types.js';

export const COMPARISON_COLUMNS = [
  'target',
  'role',
  'baseline',
  'metric',
  'stat',
  'unit',
  'estimate',
  'estimate_lo',
  'estimate_hi',
  'difference',
  'difference_lo',
  'difference_hi',
  'ratio',
  'ratio_lo',
  'ratio_hi',
  'verdict',
  'gpus',
  'estimate_per_gpu',
  'paired',
  'sessions',
  'confidence',
  'qps',
] as const;

const UNITS: Record<ComparedMetric, string> = {
  ttft_ms: 'ms',
  itl_ms: 'ms',
  tpot_ms: 'ms',
  e2el_ms: 'ms',
  request_throughput: 'req/s',
  output_throughput: 'tok/s',
  request_goodput: 'req/s',
  slo_attainment: 'share',
};

type Cell = string | number | boolean | null;
const r6 = (v: number | null): Cell => (v === null || !Number.isFinite(v) ? null : Math.round(v * 1e6) / 1e6);
const est = (e: Estimate): Cell[] => [r6(e.value), r6(e.lo), r6(e.hi)];
const perGpu = (m: MetricComparison, e: Estimate, gpus: number | null): Cell =>
  gpus && UNITS[m.metric] !== 'ms' && m.metric !== 'slo_attainment' && e.value !== null ? r6(e.value / gpus) : null;

export function comparisonRows(report: ComparisonReport): Cell[][] {
  const rows: Cell[][] = [];
  const gpusOf = (name: string): number | null => report.targets.find((t) => t.name === name)?.gpus ?? null;
  const first = report.comparisons[0];
  if (first) {
    // The baseline's own estimates are the same in every comparison (same data, same seed): one set of rows.
    for (const m of first.metrics) {
      const g = gpusOf(report.baseline);
      rows.push([report.baseline, 'baseline', report.baseline, m.metric, m.stat, UNITS[m.metric], ...est(m.baseline), null, null, null, null, null, null, null, g, perGpu(m, m.baseline, g), first.paired, first.sessions, first.confidence, report.qps]);
    }
  }
  for (const c of report.comparisons) {
    const g = gpusOf(c.candidate);
    for (const m of c.metrics) {
      rows.push([c.candidate, 'candidate', c.baseline, m.metric, m.stat, UNITS[m.metric], ...est(m.candidate), ...est(m.difference), ...est(m.ratio), m.verdict, g, perGpu(m, m.candidate, g), c.paired, c.sessions, c.confidence, report.qps]);
    }
  }
  return rows;
}
