// Two or more runs of the same workload side by side, with the relative difference of each run to the first
// (the baseline). Pure: returns a string. Statistics with confidence intervals belong to `compare`.
import type { MetricName, RunResult } from '../result/schema.js';

export interface NamedResult {
  name: string;
  result: RunResult;
  gpus?: number | undefined;
}

type Row = { label: string; get: (r: RunResult) => number | null; digits: number; lowerIsBetter: boolean };

const lat = (m: MetricName, stat: 'p50' | 'p90' | 'p99' | 'mean', label: string, digits = 1): Row => ({
  label,
  get: (r) => r.metrics[m][stat],
  digits,
  lowerIsBetter: true,
});

export const SIDE_BY_SIDE_ROWS: Row[] = [
  lat('ttft_ms', 'p50', 'TTFT p50 (ms)'),
  lat('ttft_ms', 'p99', 'TTFT p99 (ms)'),
  lat('itl_ms', 'p50', 'ITL p50 (ms)', 2),
  lat('itl_ms', 'p99', 'ITL p99 (ms)', 2),
  lat('tpot_ms', 'p50', 'TPOT p50 (ms)', 2),
  lat('e2el_ms', 'p50', 'E2E p50 (ms)'),
  lat('e2el_ms', 'p99', 'E2E p99 (ms)'),
  { label: 'completed req/s', get: (r) => r.throughput.requestThroughput, digits: 3, lowerIsBetter: false },
  { label: 'output tok/s', get: (r) => r.throughput.outputThroughput, digits: 1, lowerIsBetter: false },
  { label: 'cached prompt tokens (%)', get: (r) => (r.throughput.cachedTokenShare === null ? null : r.throughput.cachedTokenShare * 100), digits: 1, lowerIsBetter: false },
  { label: 'failed requests', get: (r) => r.counts.failed, digits: 0, lowerIsBetter: true },
];

function fmt(v: number | null, digits: number): string {
  return v === null || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

function diff(base: number | null, v: number | null): string {
  if (base === null || v === null || !Number.isFinite(base) || !Number.isFinite(v)) return '';
  if (base === 0) return v === 0 ? '(=)' : '';
  const pct = ((v - base) / Math.abs(base)) * 100;
  return `(${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%)`;
}

export function formatSideBySide(runs: readonly NamedResult[]): string {
  if (runs.length === 0) return '';
  const base = runs[0] as NamedResult;
  const header = ['', ...runs.map((r) => (r.gpus ? `${r.name} (${r.gpus} GPU)` : r.name))];
  const rows: string[][] = [header];
  for (const row of SIDE_BY_SIDE_ROWS) {
    const b = row.get(base.result);
    rows.push([row.label, ...runs.map((r, i) => (i === 0 ? fmt(b, row.digits) : `${fmt(row.get(r.result), row.digits)} ${diff(b, row.get(r.result))}`.trim()))]);
  }
  if (runs.every((r) => r.gpus)) {
    const per = (r: NamedResult): number => r.result.throughput.outputThroughput / (r.gpus as number);
    rows.push(['output tok/s per GPU', ...runs.map((r, i) => (i === 0 ? per(r).toFixed(1) : `${per(r).toFixed(1)} ${diff(per(base), per(r))}`))]);
  }
  const widths = header.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines.join('\n') + `\n(differences relative to ${base.name}; same seed, same users, same schedule)`;
}
