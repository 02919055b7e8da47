// report.html of a capacity sweep: the headline, each target's capacity under the SLO with its interval, the
// per-GPU ratios against the baseline, latency and throughput against load, the Pareto frontier of per-user speed
// against per-GPU throughput, and every capacity row. One self-contained page like the comparison report: the same
// stylesheet, script, content security policy and hand-written SVG charts, no external resources. Pure: returns a
// string; the caller writes it.
import { formatSlo, type SloSpec } from '../metrics/slo.js';
import type { CapacityRatio, CapacityRow, SweepReport, TargetCapacity } from '../sweep/types.js';
import { REPORT_CSP, REPORT_CSS, REPORT_SCRIPT, fmt, fmtInt, fmtLimit, fmtPct, missing, section, table } from './html.js';
import { escapeXml, lineChart, paletteColor, type ChartGuide, type ChartLegendMark, type ChartMark, type ChartPoint, type ChartSeries } from './svg-charts.js';

const esc = escapeXml;
const isNum = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

// ---- the rows, grouped for the charts -------------------------------------------------------------------

/** One load of one target: the rows of its repetitions (a search repeats uncertain loads). */
interface LoadGroup {
  point: number;
  rows: CapacityRow[];
  /** Any repetition saturated: the search counts such a load as failing, so the chart shows it the same way. */
  saturated: boolean;
}

interface TargetLoads {
  name: string;
  color: string;
  gpus: number | null;
  loads: LoadGroup[];
  knee: number | null;
}

/** Targets in the report's order (rows of a target missing from it come after), each with its loads by point. */
function groupRows(report: SweepReport): TargetLoads[] {
  const names = [...new Set([...report.targets.map((t) => t.target), ...report.rows.map((r) => r.target)])];
  return names.map((name, i) => {
    const cap = report.targets.find((t) => t.target === name);
    const byPoint = new Map<number, CapacityRow[]>();
    for (const r of report.rows) {
      if (r.target !== name) continue;
      const list = byPoint.get(r.point) ?? [];
      list.push(r);
      byPoint.set(r.point, list);
    }
    const loads = [...byPoint]
      .sort(([a], [b]) => a - b)
      .map(([point, rows]) => ({ point, rows, saturated: rows.some((r) => r.saturated === true) }));
    const gpus = cap?.gpus ?? report.rows.find((r) => r.target === name)?.gpus ?? null;
    return { name, color: paletteColor(i), gpus, loads, knee: cap?.knee?.load ?? null };
  });
}

/** The mean over the repetitions that have a value; null when none has. */
function mean(rows: readonly CapacityRow[], get: (r: CapacityRow) => number | null): number | null {
  let sum = 0;
  let n = 0;
  for (const r of rows) {
    const v = get(r);
    if (isNum(v)) {
      sum += v;
      n++;
    }
  }
  return n ? sum / n : null;
}

const sameLoad = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));

const loadText = (axis: SweepReport['axis']['name'], v: number): string => `${fmtLimit(v)} ${axis === 'qps' ? 'QPS' : 'users'}`;

// ---- charts -----------------------------------------------------------------------------------------------

type Get = (r: CapacityRow) => number | null;

interface ChartSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  x: Get;
  y: Get;
  guides?: ChartGuide[];
}

const SATURATED_COLOR = '#c62828';
const LEGEND_SATURATED: ChartLegendMark = { label: 'saturated', color: SATURATED_COLOR, size: 4.5 };
const LEGEND_KNEE: ChartLegendMark = { label: 'knee', color: '#444', shape: 'diamond', size: 4.5 };

/** A load's mean (x, y), or null when it has no x (nothing to place it at). */
function meanPoint(g: LoadGroup, x: Get, y: Get): ChartPoint | null {
  const mx = mean(g.rows, x);
  return isNum(mx) ? { x: mx, y: mean(g.rows, y) } : null;
}

/** Hollow red rings on saturated loads and a diamond on each knee, at the load's mean position in this chart. */
function loadMarks(targets: readonly TargetLoads[], axis: SweepReport['axis']['name'], x: Get, y: Get): ChartMark[] {
  const marks: ChartMark[] = [];
  for (const t of targets) {
    for (const g of t.loads) {
      const p = meanPoint(g, x, y);
      if (!p || !isNum(p.y)) continue;
      const at = loadText(axis, g.point);
      if (g.saturated) marks.push({ x: p.x, y: p.y, color: SATURATED_COLOR, size: 5.5, className: 'saturated', label: `${t.name} at ${at}: saturated (its latencies measure queueing)` });
      if (t.knee !== null && sameLoad(t.knee, g.point)) marks.push({ x: p.x, y: p.y, color: t.color, shape: 'diamond', size: 5.5, className: 'knee', label: `${t.name}: knee at ${at}` });
    }
  }
  return marks;
}

function legendMarks(marks: readonly ChartMark[]): ChartLegendMark[] {
  return [
    ...(marks.some((m) => m.className === 'saturated') ? [LEGEND_SATURATED] : []),
    ...(marks.some((m) => m.className === 'knee') ? [LEGEND_KNEE] : []),
  ];
}

function figure(id: string, svg: string): string {
  return `<figure class="chart-fig" data-chart="${esc(id)}">${svg}</figure>`;
}

/** One line per target through its loads in load order (a curve that bends back past saturation shows it). */
function loadChart(targets: readonly TargetLoads[], axis: SweepReport['axis']['name'], spec: ChartSpec): string {
  const series: ChartSeries[] = targets.map((t) => ({
    name: t.name,
    color: t.color,
    dots: true,
    points: t.loads.map((g) => meanPoint(g, spec.x, spec.y)).filter((p): p is ChartPoint => p !== null),
  }));
  const marks = loadMarks(targets, axis, spec.x, spec.y);
  return figure(
    spec.id,
    lineChart(series, {
      title: spec.title,
      xLabel: spec.xLabel,
      yLabel: spec.yLabel,
      xDomain: [0, null],
      yDomain: [0, null],
      height: 280,
      marks,
      legendMarks: legendMarks(marks),
      guides: spec.guides ?? [],
    }),
  );
}

type SloMetricKey = 'ttftMs' | 'itlMs' | 'tpotMs' | 'e2elMs';

// A limit far above every plotted value would squash the curves into the bottom of the chart; past this factor
// the line is left out and the caption says where the limit is.
const SLO_SCALE_LIMIT = 4;

/** The SLO's threshold for this chart's metric as a guide, or a caption note when it is off the scale. */
function sloGuide(slo: SloSpec | null, key: SloMetricKey, label: string, yMax: number | null): { guides: ChartGuide[]; note: string | null } {
  const limit = slo?.[key];
  if (!slo || !isNum(limit)) return { guides: [], note: null };
  const text = key === 'itlMs' ? `SLO ${label}(${slo.itlStat} per request) ≤ ${fmtLimit(limit)} ms` : `SLO ${label} ≤ ${fmtLimit(limit)} ms`;
  if (isNum(yMax) && limit > yMax * SLO_SCALE_LIMIT) return { guides: [], note: `${text}: above this chart (more than ${SLO_SCALE_LIMIT}× its largest value).` };
  return { guides: [{ axis: 'y', value: limit, label: text, extend: true, className: 'slo' }], note: null };
}

function maxMean(targets: readonly TargetLoads[], get: Get): number | null {
  let max: number | null = null;
  for (const t of targets) for (const g of t.loads) {
    const v = mean(g.rows, get);
    if (isNum(v) && (max === null || v > max)) max = v;
  }
  return max;
}

function latencyCharts(report: SweepReport, targets: readonly TargetLoads[]): string {
  const metrics: [string, string, SloMetricKey, string, Get][] = [
    ['ttft-p50', 'TTFT p50', 'ttftMs', 'ttft', (r) => r.ttft_p50_ms],
    ['ttft-p99', 'TTFT p99', 'ttftMs', 'ttft', (r) => r.ttft_p99_ms],
    ['itl-p99', 'ITL p99', 'itlMs', 'itl', (r) => r.itl_p99_ms],
    ['e2el-p50', 'E2E latency p50', 'e2elMs', 'e2el', (r) => r.e2el_p50_ms],
  ];
  // TPOT is not among the usual four; it gets a chart when the SLO judges it, so its limit has a place.
  if (isNum(report.slo?.tpotMs)) metrics.push(['tpot-p99', 'TPOT p99', 'tpotMs', 'tpot', (r) => r.tpot_p99_ms]);
  const notes: string[] = [];
  const figs = metrics.map(([id, title, key, short, y]) => {
    const { guides, note } = sloGuide(report.slo, key, short, maxMean(targets, y));
    if (note) notes.push(`${title}: ${note}`);
    const spec = { id: `latency-${id}`, title: `${title} vs achieved load`, xLabel: 'completed req/s', yLabel: `${title} (ms)`, x: (r: CapacityRow) => r.completed_rps, y, guides };
    return loadChart(targets, report.axis.name, spec);
  });
  return `<h3>Latency against achieved load</h3><div class="chart-grid">${figs.join('')}</div>${notes.map((n) => `<p class="muted">${esc(n)}</p>`).join('')}`;
}

function throughputCharts(report: SweepReport, targets: readonly TargetLoads[]): string {
  const offered: Get = (r) => r.offered_rps;
  const figs = [
    loadChart(targets, report.axis.name, {
      id: 'throughput-requests',
      title: 'Completed vs offered requests',
      xLabel: 'offered req/s',
      yLabel: 'completed req/s',
      x: offered,
      y: (r) => r.completed_rps,
      guides: [{ axis: 'diagonal', value: 1, label: 'completed = offered' }],
    }),
    loadChart(targets, report.axis.name, { id: 'throughput-tokens', title: 'Output tokens vs offered requests', xLabel: 'offered req/s', yLabel: 'output tok/s', x: offered, y: (r) => r.output_tok_s }),
  ];
  return (
    '<h3>Throughput against offered load</h3>' +
    '<p class="muted">Below the dashed line a target completes fewer requests than it is offered: the rest queue or fail.</p>' +
    `<div class="chart-grid">${figs.join('')}</div>`
  );
}

/**
 * The loads no other load of the same target beats on both per-user speed and per-GPU throughput. Saturated loads
 * are left out: their throughput is not one the target sustains.
 */
function frontier(points: readonly (ChartPoint & { saturated: boolean })[]): ChartPoint[] {
  const ok = points.filter((p) => !p.saturated && isNum(p.y)).sort((a, b) => b.x - a.x || (b.y as number) - (a.y as number));
  const out: ChartPoint[] = [];
  let best = Number.NEGATIVE_INFINITY;
  for (const p of ok) {
    if ((p.y as number) > best) {
      out.push({ x: p.x, y: p.y });
      best = p.y as number;
    }
  }
  return out.reverse();
}

function paretoChart(report: SweepReport, targets: readonly TargetLoads[]): string {
  // Without a GPU count there is nothing to divide by: such a target is drawn with its total throughput.
  const y: Get = (r) => (r.gpus === null ? r.output_tok_s : r.output_tok_s_per_gpu);
  const x: Get = (r) => r.output_tok_s_per_user;
  const series: ChartSeries[] = [];
  for (const t of targets) {
    const pts = t.loads.flatMap((g) => {
      const p = meanPoint(g, x, y);
      return p ? [{ ...p, saturated: g.saturated }] : [];
    });
    series.push({ name: t.name, color: t.color, points: pts.map((p) => ({ x: p.x, y: p.y })), dots: true, line: false, legend: false });
    series.push({ name: t.name, color: t.color, points: frontier(pts), dots: true });
  }
  const marks = loadMarks(targets, report.axis.name, x, y);
  const totals = targets.filter((t) => t.gpus === null).map((t) => t.name);
  const svg = lineChart(series, {
    title: 'Per-GPU throughput vs per-user speed',
    xLabel: 'output tok/s per user (1000 / mean TPOT)',
    yLabel: totals.length ? 'output tok/s per GPU (total where GPUs unknown)' : 'output tok/s per GPU',
    xDomain: [0, null],
    yDomain: [0, null],
    height: 320,
    marks,
    legendMarks: legendMarks(marks),
  });
  const how =
    'Every load is a dot; the line joins each target’s Pareto frontier, the loads no other load of it beats on both axes ' +
    '(saturated loads left out: a saturated throughput is not sustained). Up and to the right is better.' +
    (totals.length ? ` GPUs unknown for ${totals.join(', ')}: total output tok/s instead.` : '');
  return `<h3>Pareto: throughput per GPU against speed per user</h3><p class="muted">${esc(how)}</p><div class="chart-grid">${figure('pareto', svg)}</div>`;
}

function chartsSection(report: SweepReport, targets: readonly TargetLoads[]): string {
  if (!report.rows.length) return section('charts', 'Charts', missing('No capacity rows: nothing ran.'));
  const reps = Math.max(...targets.flatMap((t) => t.loads.map((g) => g.rows.length)), 1);
  const how =
    (reps > 1 ? 'Each point is the mean over the repetitions of that load (up to ' + reps + '). ' : 'One point per load. ') +
    'Hollow red rings mark saturated loads (any repetition saturated); diamonds mark each target’s knee. ' +
    'Dashed horizontal lines are the SLO’s limits; the SLO judges each request, so a percentile over a line is a warning, not the verdict.';
  return section('charts', 'Charts', `<p class="muted">${esc(how)}</p>${latencyCharts(report, targets)}${throughputCharts(report, targets)}${paretoChart(report, targets)}`);
}

// ---- header and capacity ------------------------------------------------------------------------------

function swatch(name: string, color: string): string {
  return `<span class="tname"><span class="swatch" style="background:${esc(color)}"></span>${esc(name)}</span>`;
}

const percent = (v: number): string => `${Number((v * 100).toPrecision(6))}%`;

function headerSection(report: SweepReport, title: string): string {
  const axis = report.axis;
  const facts: [string, string][] = [
    ['run id', report.runId],
    ['scenario', report.scenario ?? '-'],
    ['axis', `${axis.name} ${axis.text} (${axis.points.length} points, ${fmtLimit(axis.min)} to ${fmtLimit(axis.max)})`],
    ['find', report.find ?? 'none: every point of the axis'],
    ['SLO', report.slo ? `${report.slo.preset ? `${report.slo.preset}: ` : ''}${formatSlo(report.slo)}` : 'none'],
    ['goal', isNum(report.goal) ? `${percent(report.goal)} of requests meet the SLO, at ${percent(report.confidence)} confidence` : '-'],
    ['baseline', report.baseline],
    ['time', `${report.startedAt} → ${report.endedAt}`],
  ];
  if (report.find && isNum(report.precision)) facts.splice(4, 0, ['precision', percent(report.precision)]);
  const banner = report.interrupted
    ? '<div class="banner saturated" role="alert"><strong>Interrupted:</strong> the sweep stopped before its end; the capacities rest on the loads that ran.</div>'
    : '';
  return (
    `<header>${banner}<h1>${esc(title)}</h1><div class="verdicts"><p class="sentence">${esc(report.sentence)}</p></div>` +
    `<dl class="facts">${facts.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl></header>`
  );
}

const OUTCOME_TEXT: Record<TargetCapacity['outcome'], string> = {
  found: 'found',
  'none-meets': 'no load met the SLO',
  'above-max': 'above the axis: its highest load met the SLO',
  'no-slo': 'no SLO to meet',
  interrupted: 'interrupted',
};

const why = (text: string): string => `<span class="why">${esc(text)}</span>`;

/** "[lo, hi)"; an open end (the highest load met, so capacity is at least lo) is written ∞. */
function bracket(lo: number | null, hi: number | null, f: (v: number) => string): string {
  if (!isNum(lo) && !isNum(hi)) return '';
  return ` <span class="ci">[${esc(isNum(lo) ? f(lo) : '-')}, ${esc(isNum(hi) ? f(hi) : '∞')})</span>`;
}

function maxLoadCell(t: TargetCapacity, axis: SweepReport['axis']['name']): string {
  const uncertain = t.uncertain
    ? ' <span class="tag uncertain" title="The attainment interval at a bound straddled the goal after every repetition: decided by its estimate.">uncertain</span>'
    : '';
  if (!isNum(t.maxLoad)) {
    const lowest = t.lowest ? ` (lowest tried: ${loadText(axis, t.lowest.load)}, attainment ${fmtPct(t.lowest.attainment)})` : '';
    return `none${esc(lowest)}${uncertain}`;
  }
  return `<strong>${esc(loadText(axis, t.maxLoad))}</strong>${bracket(t.maxLoadLo, t.maxLoadHi, fmtLimit)}${uncertain}`;
}

function capacityRow(t: TargetCapacity, color: string, axis: SweepReport['axis']['name']): string[] {
  const knee = t.knee ? `${esc(loadText(axis, t.knee.load))}${why(t.knee.reason)}` : '-';
  const sat = t.firstSaturated ? `<span class="bad">${esc(loadText(axis, t.firstSaturated.load))}</span>${why(t.firstSaturated.reasons.join('; '))}` : 'none';
  const failing = t.firstFailing ? `${esc(loadText(axis, t.firstFailing.load))}${why(t.firstFailing.why)}` : 'none';
  const outcome = `${esc(OUTCOME_TEXT[t.outcome] ?? t.outcome)}${t.stoppedBecause ? why(`stopped: ${t.stoppedBecause}`) : ''}`;
  return [
    swatch(t.target, color),
    esc(t.gpus === null ? 'unknown' : String(t.gpus)),
    maxLoadCell(t, axis),
    `${esc(fmt(t.capacityRps))}${bracket(t.capacityRpsLo, t.capacityRpsHi, fmt)}`,
    esc(fmt(t.capacityRpsPerGpu)),
    esc(fmt(t.goodputRpsPerGpu)),
    esc(fmt(t.outputTokSPerGpu)),
    esc(fmtPct(t.attainment, 2)),
    knee,
    sat,
    failing,
    outcome,
    esc(fmtInt(t.probes)),
  ];
}

function ratiosBlock(ratios: readonly CapacityRatio[]): string {
  if (!ratios.length) return `<h3>Against the baseline</h3>${missing('No ratios: one target, or no capacity to divide by.')}`;
  const interval = (r: CapacityRatio): string => `${esc(isNum(r.ratio) ? `${r.ratio.toFixed(2)}×` : '-')}${isNum(r.lo) || isNum(r.hi) ? ` <span class="ci">[${esc(fmt(r.lo))}, ${esc(fmt(r.hi))}]</span>` : ''}`;
  return (
    '<h3>Capacity per GPU against the baseline</h3>' +
    `<ul class="ratios">${ratios.map((r) => `<li>${esc(r.sentence)}</li>`).join('')}</ul>` +
    table(['target', 'baseline', 'req/s per GPU ratio [lo, hi]'], ratios.map((r) => [esc(r.target), esc(r.baseline), interval(r)]), 'ratios num')
  );
}

function capacitySection(report: SweepReport, targets: readonly TargetLoads[]): string {
  if (!report.targets.length) return section('capacity', 'Capacity', missing('No targets in this sweep.'));
  const color = (name: string): string => targets.find((t) => t.name === name)?.color ?? '#333';
  const head = ['target', 'GPUs', 'max load under the SLO [lo, hi)', 'capacity (offered req/s) [lo, hi)', 'req/s per GPU', 'goodput per GPU (req/s)', 'output tok/s per GPU', 'attainment', 'knee', 'first saturated', 'first failing', 'outcome', 'runs'];
  const body = table(head, report.targets.map((t) => capacityRow(t, color(t.target), report.axis.name)), 'capacity');
  const how =
    'The largest load meeting the SLO goal, with the interval the true capacity lies in; goodput, tokens and attainment are at that load. ' +
    'Uncertain: a bound was decided by its estimate because its attainment interval still straddled the goal.';
  return section('capacity', 'Capacity', `<p class="muted">${esc(how)}</p>${body}${ratiosBlock(report.ratios)}`);
}

// ---- rows, notes, method, page ------------------------------------------------------------------------

// Every column of capacity.csv, in its order; a Record so the compiler flags a column added to CapacityRow.
const ROW_COLUMNS: Record<keyof CapacityRow, true> = {
  target: true, gpus: true, axis: true, point: true, qps: true, users: true, repetition: true, step: true,
  offered_rps: true, launched_rps: true, completed_rps: true, input_tok_s: true, output_tok_s: true, output_tok_s_per_gpu: true, output_tok_s_per_user: true,
  ttft_p50_ms: true, ttft_p90_ms: true, ttft_p99_ms: true, itl_p50_ms: true, itl_p90_ms: true, itl_p99_ms: true,
  tpot_p50_ms: true, tpot_p90_ms: true, tpot_p99_ms: true, e2el_p50_ms: true, e2el_p90_ms: true, e2el_p99_ms: true,
  requests: true, failed: true, error_rate: true, goodput_rps: true, goodput_rps_per_gpu: true,
  slo_attainment: true, slo_attainment_lo: true, slo_attainment_hi: true, slo_verdict: true,
  saturated: true, client_healthy: true, interrupted: true, duration_s: true, run_dir: true,
};

function cellOf(key: keyof CapacityRow, v: CapacityRow[keyof CapacityRow]): string {
  if (v === null) return '-';
  if (typeof v === 'boolean') {
    const text = v ? 'yes' : 'no';
    return (key === 'client_healthy' ? !v : v) ? `<span class="bad">${text}</span>` : text;
  }
  if (typeof v === 'number') {
    // Attainments near a 99% goal need the fourth digit; counts, steps and GPUs print as whole numbers.
    if (key === 'slo_attainment' || key === 'slo_attainment_lo' || key === 'slo_attainment_hi') return esc(v.toFixed(4));
    return esc(Number.isInteger(v) ? String(v) : fmt(v));
  }
  return esc(v);
}

function rowsSection(report: SweepReport): string {
  if (!report.rows.length) return section('rows', 'Capacity rows', missing('No capacity rows.'));
  const keys = Object.keys(ROW_COLUMNS) as (keyof CapacityRow)[];
  const rows = report.rows.map((r) => keys.map((k) => cellOf(k, r[k])));
  return section(
    'rows',
    'Capacity rows',
    `<details><summary>All ${report.rows.length} rows: one per target, load and repetition (the columns of capacity.csv)</summary>${table(keys, rows, 'num rows')}</details>`,
  );
}

function notesSection(report: SweepReport): string {
  const notes = report.notes.length ? `<ul class="notes">${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : missing('No notes.');
  const paras = report.method.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  const method = paras.length ? `<div class="method">${paras.map((p) => `<p>${esc(p)}</p>`).join('')}</div>` : missing('No method recorded.');
  return section('notes', 'Notes', notes) + section('method', 'Method', method);
}

const SWEEP_CSS = `
.tag.uncertain{background:#fff4e0;color:#7a4b00;border-radius:4px;padding:0 6px;font-size:12px}
table.capacity td{white-space:nowrap}.why{display:block;white-space:normal;color:var(--muted);font-size:12px;max-width:26em}
.ratios li{margin:3px 0}.method p{max-width:70em}
table.rows{font-size:12px}table.rows td{white-space:nowrap}
`;

export function renderSweepHtml(report: SweepReport): string {
  const targets = groupRows(report);
  const title = `pd-bench sweep: ${targets.map((t) => t.name).join(', ') || 'no targets'}${report.scenario ? ` (${report.scenario})` : ''}`;
  const nav = [
    ['capacity', 'capacity'],
    ['charts', 'charts'],
    ['rows', 'rows'],
    ['notes', 'notes'],
    ['method', 'method'],
  ]
    .map(([id, label]) => `<a href="#${id}">${label}</a>`)
    .join('');
  const sections = [capacitySection(report, targets), chartsSection(report, targets), rowsSection(report), notesSection(report)];
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${esc(REPORT_CSP)}">` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<meta name="generator" content="pd-bench ${esc(report.tool.version)}">` +
    `<title>${esc(title)}</title><style>${REPORT_CSS}${SWEEP_CSS}</style></head><body>` +
    `<nav>${nav}</nav>` +
    headerSection(report, title) +
    `<main>${sections.join('\n')}</main>` +
    `<footer>Generated by pd-bench ${esc(report.tool.version)} from ${esc(report.schema)} v${esc(String(report.schemaVersion))}, run ${esc(report.runId)}.</footer>` +
    `<script>${REPORT_SCRIPT}</script></body></html>\n`
  );
}
