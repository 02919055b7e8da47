// The gate as GitHub-flavoured markdown (--markdown FILE, and appended to $GITHUB_STEP_SUMMARY): the verdict line,
// the metric table, thresholds, why it was inconclusive, the trend of the last runs and the method. Pure.
import { TREND_METRICS, trendLine } from './console.js';
import type { HistoryRow } from './history.js';
import { formatChange, formatValue } from './text.js';
import { formatTolerance, GATED_METRICS } from './tolerance.js';
import type { GateReport, GateVerdict } from './types.js';

const HEAD: Record<GateVerdict, string> = { pass: 'PASS', regression: 'REGRESSION', 'threshold breach': 'THRESHOLD BREACHED', inconclusive: 'INCONCLUSIVE' };

/** Table cells may not hold a pipe or a newline. */
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const row = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;

function metricTable(r: GateReport): string[] {
  if (r.metrics.length === 0) return [];
  const level = `${Number((r.confidence * 100).toFixed(1))}%`;
  const out = [row(['metric', 'baseline', 'current', `change [${level} interval]`, 'tolerance', 'verdict']), '|---|---:|---:|---:|---:|---|'];
  for (const m of r.metrics) {
    const v = m.verdict === 'regression' ? '**regression**' : m.verdict === 'insufficient data' ? `insufficient data: ${m.why ?? ''}` : m.verdict;
    out.push(row([`\`${m.name}\``, formatValue(m.unit, m.baseline), formatValue(m.unit, m.current), formatChange(m), formatTolerance(m), v]));
  }
  return out;
}

function thresholdTable(r: GateReport): string[] {
  if (r.thresholds.length === 0) return [];
  return ['', '**Thresholds**', '', row(['threshold', 'result', 'detail']), '|---|---|---|', ...r.thresholds.map((t) => row([`\`${t.expression}\``, t.passed ? 'held' : '**breached**', t.message]))];
}

function trendTable(rows: readonly HistoryRow[]): string[] {
  if (rows.length === 0) return [];
  const unitOf = (m: string): (typeof GATED_METRICS)[number]['unit'] => GATED_METRICS.find((g) => g.name === m)?.unit ?? 'ms';
  const value = (r: HistoryRow, m: string): string => (r[m] ? formatValue(unitOf(m), Number(r[m])) : '-');
  const out = ['', `**Trend** (last ${rows.length} gate runs of this target and workload, oldest first)`, ''];
  out.push(row(['time', 'label', 'verdict', ...TREND_METRICS]), `|---|---|---|${TREND_METRICS.map(() => '---:').join('|')}|`);
  for (const r of rows) out.push(row([r.time ?? '', r.label ? `\`${r.label.slice(0, 12)}\`` : '', r.verdict ?? '', ...TREND_METRICS.map((m) => value(r, m))]));
  const spark = trendLine(rows);
  if (spark) out.push('', spark);
  return out;
}

function method(r: GateReport): string[] {
  const fields = Object.entries(r.workload.fields).map(([k, v]) => `${k}=${v}`).join(', ');
  return [
    '',
    '<details><summary>Method and workload</summary>',
    '',
    `Current: ${r.current.source} (${r.current.requests} requests). Baseline: ${r.baseline ? `${r.baseline.source} (${r.baseline.requests} requests, ${r.baseline.startedAt})` : 'none'}.`,
    `Workload ${r.workload.hash}: ${fields}.`,
    `Ratios current / baseline (error_rate: the difference) with ${Number((r.confidence * 100).toFixed(1))}% percentile-bootstrap intervals over ${r.iterations} resamples of ${r.sessions} sessions${r.paired ? ', paired' : ''}. ` +
      'A metric regressed only when its whole interval is worse than its tolerance, improved only when it is wholly better; anything else is within noise.',
    '',
    '</details>',
  ];
}

export function gateMarkdown(r: GateReport, trend: readonly HistoryRow[] = []): string {
  const where = `${r.workload.fields.scenario ?? 'custom'} @ ${r.workload.fields.qps ?? '?'} QPS`;
  const lines = [`### pd-bench gate: ${HEAD[r.verdict]} — \`${r.target}\`, ${where}`, '', `> ${cell(r.sentence)}`, ''];
  lines.push(...metricTable(r));
  lines.push(...thresholdTable(r));
  if (r.problems.length > 0) lines.push('', '**Inconclusive because**', '', ...r.problems.map((p) => `- ${p}`));
  if (r.notes.length > 0) lines.push('', ...r.notes.map((n) => `- ${n}`));
  lines.push(...trendTable(trend));
  lines.push(...method(r));
  return lines.join('\n') + '\n';
}
