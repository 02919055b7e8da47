// Thresholds (k6-like): `ttft.p99<2s`, `error_rate<1%`, `!target.saturated`. Parses the expressions of
// --threshold and a scenario's `thresholds:` (every bad one reported at once, before any traffic) and evaluates
// them against a RunResult, saying which held and by how much each breached one missed. Pure: no IO.
import { ConfigError, type ConfigIssue } from '../errors.js';
import type { RunResult } from '../result/schema.js';
import { catalogEntry, METRIC_NAMES_TEXT, type CatalogEntry, type MetricUnit, type ThresholdExtra } from './metric-catalog.js';

export type { ThresholdExtra } from './metric-catalog.js';
export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** How a limit was written, so messages speak the user's unit back. */
export type DisplayUnit = 'ms' | 's' | 'us' | '%' | '';

export type Threshold =
  | {
      kind: 'compare';
      /** The expression as written (trimmed). */
      expression: string;
      /** Canonical catalog name, e.g. `ttft.p99`. */
      metric: string;
      unit: Exclude<MetricUnit, 'bool'>;
      op: ThresholdOp;
      /** In the metric's unit: ms for latencies, a fraction for shares, req/s or tok/s for rates. */
      limit: number;
      displayUnit: DisplayUnit;
      needsSlo: boolean;
    }
  | { kind: 'bool'; expression: string; metric: string; unit: 'bool'; expect: boolean; needsSlo: false };

export interface ThresholdOutcome {
  expression: string;
  metric: string;
  /** The measured value (in the metric's unit); null when the run has none (e.g. no successful request). */
  value: number | boolean | null;
  op: ThresholdOp | 'is';
  limit: number | boolean;
  passed: boolean;
  /** e.g. "ttft.p99 = 2.31 s, limit < 2 s (15.5% over)". */
  message: string;
}

export const THRESHOLD_GRAMMAR =
  'metric[.stat] OP value[unit] with OP one of < <= > >= == != and unit ms, s or us for latencies, % (or a fraction 0..1) for ' +
  'error_rate and other shares, none for rates and counts; or [!]client.healthy, [!]target.saturated. Metrics: ' +
  METRIC_NAMES_TEXT;

const EXPR = /^\s*([A-Za-z_][A-Za-z0-9_.]*?)\s*(<=|>=|==|!=|<|>)\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(ms|s|us|µs|%|req\/s|tok\/s)?\s*$/i;
const BOOL = /^\s*(!?)\s*([A-Za-z_][A-Za-z0-9_.]*)\s*$/;

type Parsed = { ok: true; t: Threshold } | { ok: false; why: string };

/** One expression, or why it is not one. */
function parseOne(text: string): Parsed {
  const expression = text.trim();
  if (expression === '') return { ok: false, why: 'empty expression' };
  const b = BOOL.exec(expression);
  if (b) {
    const entry = catalogEntry(b[2] as string);
    if (!entry) return { ok: false, why: `unknown metric "${b[2]}"` };
    if (entry.unit !== 'bool') return { ok: false, why: `${entry.name} needs a comparison, e.g. ${entry.name}${example(entry)}` };
    return { ok: true, t: { kind: 'bool', expression, metric: entry.name, unit: 'bool', expect: b[1] !== '!', needsSlo: false } };
  }
  const m = EXPR.exec(expression);
  if (!m) return { ok: false, why: 'not of the form metric[.stat] OP value[unit]' };
  const entry = catalogEntry(m[1] as string);
  if (!entry) {
    const family = (m[1] as string).split('.')[0] as string;
    const withStat = catalogEntry(`${family}.p99`);
    return { ok: false, why: withStat && !(m[1] as string).includes('.') ? `${family} needs a statistic, e.g. ${family}.p99` : `unknown metric "${m[1]}"` };
  }
  if (entry.unit === 'bool') return { ok: false, why: `${entry.name} is a yes/no check: write ${entry.name} or !${entry.name}` };
  const limit = limitIn(entry, Number(m[3]), ((m[4] ?? '') as string).toLowerCase());
  if (typeof limit === 'string') return { ok: false, why: limit };
  return {
    ok: true,
    t: { kind: 'compare', expression, metric: entry.name, unit: entry.unit, op: m[2] as ThresholdOp, limit: limit.value, displayUnit: limit.display, needsSlo: entry.needsSlo === true },
  };
}

function example(e: CatalogEntry): string {
  if (e.unit === 'ms') return '<2s';
  if (e.unit === 'fraction') return '<1%';
  return '>=1';
}

/** The limit in the metric's unit, or why the unit does not fit the metric. */
function limitIn(entry: CatalogEntry, v: number, unit: string): { value: number; display: DisplayUnit } | string {
  if (!Number.isFinite(v)) return `${v} is not a finite number`;
  const rateUnit = unit === 'req/s' || unit === 'tok/s';
  switch (entry.unit) {
    case 'ms':
      if (unit === '' || unit === 'ms') return { value: v, display: 'ms' };
      if (unit === 's') return { value: v * 1000, display: 's' };
      if (unit === 'us' || unit === 'µs') return { value: v / 1000, display: 'us' };
      return `${entry.name} is a latency: give ms, s or us (e.g. ${entry.name}<2s)`;
    case 'fraction':
      if (unit === '%') return { value: v / 100, display: '%' };
      // A bare number over 1 is almost surely a percentage written without its sign: ask rather than guess.
      if (unit === '' && v >= 0 && v <= 1) return { value: v, display: '' };
      return `${entry.name} is a share: give a percentage (e.g. ${entry.name}<1%) or a fraction from 0 to 1`;
    case 'req/s':
    case 'tok/s':
      if (unit === '' || (rateUnit && unit === entry.unit)) return { value: v, display: '' };
      return `${entry.name} is in ${entry.unit}: give a plain number (e.g. ${entry.name}>1.5)`;
    case 'count':
    case 'cores':
      if (unit === '') return { value: v, display: '' };
      return `${entry.name} is a plain number: give no unit`;
    case 'bool':
      return `${entry.name} is a yes/no check: write ${entry.name} or !${entry.name}`;
  }
}

/**
 * Parses threshold expressions. Throws one ConfigError (field `--threshold`, or `thresholds` with `source`) naming
 * every bad expression, why, and the grammar, so the CLI prints one line per bad expression and exits 2 before
 * anything is sent.
 */
export function parseThresholds(texts: string[], source?: string): Threshold[] {
  const issues: ConfigIssue[] = [];
  const out: Threshold[] = [];
  for (const text of texts) {
    const p = parseOne(text);
    if (p.ok) out.push(p.t);
    else issues.push({ field: source ? 'thresholds' : '--threshold', value: text, allowed: `${p.why}; allowed: ${THRESHOLD_GRAMMAR}`, ...(source ? { source } : {}) });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

/** The thresholds that can only be evaluated with an SLO (goodput, slo_attainment). */
export function thresholdsNeedingSlo(ts: readonly Threshold[]): Threshold[] {
  return ts.filter((t) => t.needsSlo);
}

/** A number with at most 4 significant digits and no exponent for everyday magnitudes: 2310, 2.31, 0.0123. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const r = Number(v.toPrecision(4));
  return Object.is(r, -0) ? '0' : String(r);
}

/** A value in the unit its limit was written in: "2.31 s", "2.5%", "480". */
function shown(t: Extract<Threshold, { kind: 'compare' }>, v: number): string {
  switch (t.displayUnit) {
    case 's':
      return `${formatNumber(v / 1000)} s`;
    case 'us':
      return `${formatNumber(v * 1000)} us`;
    case 'ms':
      return `${formatNumber(v)} ms`;
    case '%':
      return `${formatNumber(v * 100)}%`;
    case '':
      return formatNumber(v);
  }
}

function holds(op: ThresholdOp, v: number, limit: number): boolean {
  switch (op) {
    case '<':
      return v < limit;
    case '<=':
      return v <= limit;
    case '>':
      return v > limit;
    case '>=':
      return v >= limit;
    case '==':
      return v === limit;
    case '!=':
      return v !== limit;
  }
}

/** "(15.5% over)" for a breached upper limit, "(12% under)" for a lower one; shares in percentage points. */
function byHowMuch(t: Extract<Threshold, { kind: 'compare' }>, v: number, passed: boolean): string {
  if (t.op === '==' || t.op === '!=') return '';
  const upper = t.op === '<' || t.op === '<=';
  if (t.unit === 'fraction') {
    const pts = Math.abs(v - t.limit) * 100;
    return passed ? ` (${formatNumber(pts)} points of headroom)` : ` (${formatNumber(pts)} points ${upper ? 'over' : 'under'})`;
  }
  if (t.limit === 0) return '';
  const rel = (Math.abs(v - t.limit) / Math.abs(t.limit)) * 100;
  const pct = `${rel >= 100 ? rel.toFixed(0) : rel.toFixed(1)}%`;
  return passed ? ` (${pct} headroom)` : ` (${pct} ${upper ? 'over' : 'under'})`;
}

function evaluateCompare(t: Extract<Threshold, { kind: 'compare' }>, value: number | null): ThresholdOutcome {
  const limitText = `limit ${t.op} ${shown(t, t.limit)}`;
  if (value === null) {
    const why = t.needsSlo ? 'no value: it needs --slo' : 'no value (nothing was measured for it)';
    return { expression: t.expression, metric: t.metric, value: null, op: t.op, limit: t.limit, passed: false, message: `${t.metric}: ${why}, ${limitText}` };
  }
  const passed = holds(t.op, value, t.limit);
  return { expression: t.expression, metric: t.metric, value, op: t.op, limit: t.limit, passed, message: `${t.metric} = ${shown(t, value)}, ${limitText}${byHowMuch(t, value, passed)}` };
}

function evaluateBool(t: Extract<Threshold, { kind: 'bool' }>, value: boolean, result: RunResult): ThresholdOutcome {
  const passed = value === t.expect;
  // A failed yes/no check is only actionable with its evidence.
  const reasons = t.metric === 'client.healthy' ? result.client.reasons : t.metric === 'target.saturated' ? (result.target.reasons ?? []) : [];
  const why = !passed && reasons.length > 0 ? ` (${reasons.join('; ')})` : '';
  return { expression: t.expression, metric: t.metric, value, op: 'is', limit: t.expect, passed, message: `${t.metric} = ${value}, required ${t.expect}${why}` };
}

/** Evaluates every threshold against one result; goodput and slo_attainment come from `extra` (null: no SLO). */
export function evaluateThresholds(ts: Threshold[], result: RunResult, extra: ThresholdExtra = {}): ThresholdOutcome[] {
  return ts.map((t) => {
    const entry = catalogEntry(t.metric) as CatalogEntry;
    const v = entry.read(result, extra);
    if (t.kind === 'bool') return evaluateBool(t, v === true, result);
    return evaluateCompare(t, typeof v === 'number' ? v : null);
  });
}
