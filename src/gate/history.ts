// history.csv of a baseline store: one row per gate run (time, label, target, workload, verdict, and per gated
// metric tonight's value, its change against the baseline with the interval, and the verdict), and reading it back
// for the trend of the last runs. Columns are fixed, so a spreadsheet or a plotting script can rely on them. Pure.
import { GATED_METRICS } from './tolerance.js';
import type { GateReport } from './types.js';

const METRIC_COLUMNS = GATED_METRICS.flatMap((g) => [g.name, `${g.name}_change`, `${g.name}_change_lo`, `${g.name}_change_hi`, `${g.name}_verdict`]);

/**
 * The columns, in order. `<metric>` is tonight's value (ms, req/s, tok/s; error_rate a fraction); `_change` the
 * ratio current / baseline (error_rate: the difference), `_lo`/`_hi` its interval.
 */
export const HISTORY_COLUMNS: readonly string[] = [
  'time',
  'label',
  'target',
  'workload',
  'scenario',
  'qps',
  'verdict',
  'exit_code',
  'baseline_started_at',
  'current_run_id',
  'thresholds_breached',
  'problems',
  'baseline_updated',
  ...METRIC_COLUMNS,
];

export type HistoryRow = Record<string, string>;

const cell = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '' : String(Number(v.toPrecision(6))));

/** The row of one gate run, keyed by column. */
export function historyRow(r: GateReport): HistoryRow {
  const row: HistoryRow = {
    time: r.createdAt,
    label: r.label ?? '',
    target: r.target,
    workload: r.workload.hash,
    scenario: r.workload.fields.scenario ?? '',
    qps: r.workload.fields.qps ?? '',
    verdict: r.verdict,
    exit_code: String(r.exitCode),
    baseline_started_at: r.baseline?.startedAt ?? '',
    current_run_id: r.current.runIds.join(' '),
    thresholds_breached: r.thresholds.filter((t) => !t.passed).map((t) => t.expression).join(' '),
    problems: [...r.problems, ...r.metrics.filter((m) => m.verdict === 'insufficient data').map((m) => `${m.name}: too few samples`)].join('; '),
    baseline_updated: String(r.baselineUpdated),
  };
  for (const m of r.metrics) {
    row[m.name] = cell(m.current);
    row[`${m.name}_change`] = cell(m.change.value);
    row[`${m.name}_change_lo`] = cell(m.change.lo);
    row[`${m.name}_change_hi`] = cell(m.change.hi);
    row[`${m.name}_verdict`] = m.verdict;
  }
  return row;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: readonly string[]): string {
  return values.map(csvField).join(',') + '\n';
}

/** RFC 4180 records (quoted fields may hold commas, quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Rows of a history.csv keyed by its own header (an older file with other columns still reads). */
export function parseHistory(text: string): HistoryRow[] {
  const [header, ...records] = parseCsv(text);
  if (!header) return [];
  return records.filter((r) => r.length > 1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

/** The last `n` rows of one target and workload, oldest first. */
export function trendRows(rows: readonly HistoryRow[], target: string, workload: string, n: number): HistoryRow[] {
  return rows.filter((r) => r.target === target && r.workload === workload).slice(-n);
}
