// The gate on the console: a header naming both sides, one row per gated metric (values, change with interval,
// tolerance, verdict), the thresholds, what made it inconclusive, the trend, and the verdict line last. Pure.
import type { HistoryRow } from './history.js';
import { formatChange, formatValue, sparkline } from './text.js';
import { formatTolerance } from './tolerance.js';
import type { GateReport } from './types.js';

function pad(cells: string[][]): string {
  const widths: number[] = [];
  for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return cells.map((row) => row.map((c, i) => (i === 0 || i === row.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

/** The metrics the trend line follows, when the history has them. */
export const TREND_METRICS = ['ttft.p50', 'ttft.p99', 'itl.p99', 'e2el.p99', 'output_throughput', 'error_rate'] as const;

/** "trend (last 8): ttft.p50 ▂▃▃▂▅ ..." from history rows, oldest first; empty with fewer than 2 rows. */
export function trendLine(rows: readonly HistoryRow[]): string {
  if (rows.length < 2) return '';
  const parts = TREND_METRICS.map((m) => {
    const line = sparkline(rows.map((r) => (r[m] ? Number(r[m]) : null)));
    return line ? `${m} ${line}` : '';
  }).filter((s) => s !== '');
  return parts.length > 0 ? `trend (last ${rows.length} gate runs, oldest first): ${parts.join('  ')}` : '';
}

export function formatGate(r: GateReport, trend: readonly HistoryRow[] = []): string {
  const lines: string[] = [];
  const where = `${r.workload.fields.scenario ?? 'custom'}@${r.workload.fields.qps ?? '?'}qps`;
  lines.push(`== pd-bench gate: ${r.target} (${where}, workload ${r.workload.hash})`);
  lines.push(`current:  ${r.current.source} (${r.current.requests} requests, ${r.current.startedAt})`);
  lines.push(`baseline: ${r.baseline ? `${r.baseline.source} (${r.baseline.requests} requests, ${r.baseline.startedAt})` : 'none'}`);
  if (r.metrics.length > 0) {
    lines.push(`${r.sessions} sessions${r.paired ? ' paired' : ''}, ${Number((r.confidence * 100).toFixed(1))}% bootstrap intervals (${r.iterations} resamples); regression = whole interval worse than the tolerance`);
    const rows = [['metric', 'baseline', 'current', 'change [interval]', 'tolerance', 'verdict']];
    for (const m of r.metrics) rows.push([m.name, formatValue(m.unit, m.baseline), formatValue(m.unit, m.current), formatChange(m), formatTolerance(m), m.verdict === 'insufficient data' ? `insufficient data (${m.why ?? ''})` : m.verdict]);
    lines.push(pad(rows));
  }
  if (r.thresholds.length > 0) {
    lines.push('thresholds:');
    for (const t of r.thresholds) lines.push(`  ${t.passed ? 'ok    ' : 'BREACH'} ${t.expression}: ${t.message}`);
  }
  for (const p of r.problems) lines.push(`inconclusive: ${p}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  const t = trendLine(trend);
  if (t) lines.push(t);
  lines.push(`gate: ${r.sentence}`);
  return lines.join('\n');
}
