// report.html: one self-contained page (inline CSS, SVG and a few lines of JS, no external resources) that shows a
// ComparisonReport: verdicts, the comparison tables with their intervals, latency CDFs, behaviour over time and
// by round, SLO attainment, scraped server metrics, errors, notes, config and environment. It also serves a single
// target with no comparison (`pd-bench report` of one run): a section without data becomes a one-line note.
// Pure: returns a string; the caller writes it.
import { createHash } from 'node:crypto';
import type { CompareTarget, ComparedMetric, ComparisonReport, Estimate, MetricComparison, SloResult, SloSpec, TargetComparison, Verdict } from '../compare/types.js';
import type { TimelineBin } from '../compare/timeline.js';
import { LatencyStat } from '../metrics/histogram.js';
import type { RunResult, WindowSummary } from '../result/schema.js';
import type { ScrapeRoleResult } from '../scrape/types.js';
import { escapeXml, lineChart, type ChartMark, type ChartPoint, type ChartSeries } from './svg-charts.js';
import { buildView, type CdfMetric, type TargetView } from './view.js';

const esc = escapeXml;

// ---- number formatting ------------------------------------------------------------------------------

const isNum = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Adaptive precision: about four significant digits, fewer decimals for large values. */
function fmt(v: number | null | undefined): string {
  if (!isNum(v)) return '-';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

const fmtInt = (v: number | null | undefined): string => (isNum(v) ? Math.round(v).toString() : '-');
const fmtPct = (v: number | null | undefined, digits = 1): string => (isNum(v) ? `${(v * 100).toFixed(digits)}%` : '-');
const signed = (s: string, v: number): string => (v > 0 ? `+${s}` : s);

function fmtBytes(b: number): string {
  if (!isNum(b)) return '-';
  if (b >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(1)} GiB`;
  if (b >= 1024 ** 2) return `${(b / 1024 ** 2).toFixed(0)} MiB`;
  return `${b} B`;
}

const pctl = (s: LatencyStat | null, p: number): number | null => (s ? s.percentile(p) : null);

// Percentiles sampled for a CDF curve: dense through the body, finer in the tail where the differences that
// matter for serving live; about 200 points keeps the file small.
const CDF_PERCENTILES: readonly number[] = (() => {
  const ps: number[] = [];
  for (let p = 0; p < 90; p += 0.5) ps.push(p);
  for (let p = 90; p < 99; p += 0.25) ps.push(p);
  ps.push(99, 99.25, 99.5, 99.75, 99.9, 99.95, 99.99, 100);
  return ps;
})();

function cdfPoints(s: LatencyStat): ChartPoint[] {
  const pts: ChartPoint[] = [];
  let lastX = Number.NaN;
  for (const p of CDF_PERCENTILES) {
    const x = s.percentile(p);
    if (!isNum(x)) continue;
    // Only the highest percentile at a repeated value matters for the curve.
    if (x === lastX && pts.length) pts[pts.length - 1] = { x, y: p / 100 };
    else pts.push({ x, y: p / 100 });
    lastX = x;
  }
  return pts;
}

// ---- pieces -------------------------------------------------------------------------------------------

const METRIC_INFO: Record<ComparedMetric, { label: string; unit: string; percent: boolean }> = {
  ttft_ms: { label: 'TTFT', unit: 'ms', percent: false },
  itl_ms: { label: 'ITL', unit: 'ms', percent: false },
  tpot_ms: { label: 'TPOT', unit: 'ms', percent: false },
  e2el_ms: { label: 'E2E latency', unit: 'ms', percent: false },
  request_throughput: { label: 'Completed requests', unit: 'req/s', percent: false },
  output_throughput: { label: 'Output tokens', unit: 'tok/s', percent: false },
  request_goodput: { label: 'Request goodput', unit: 'req/s', percent: false },
  slo_attainment: { label: 'SLO attainment', unit: '%', percent: true },
};

const VERDICT_CLASS: Record<Verdict, string> = {
  better: 'better',
  worse: 'worse',
  'no significant difference': 'ns',
  'insufficient data': 'insufficient',
};
const VERDICT_TEXT: Record<Verdict, string> = {
  better: 'better',
  worse: 'worse',
  'no significant difference': 'n.s.',
  'insufficient data': 'insufficient data',
};

function interval(e: Estimate, f: (v: number) => string): string {
  if (!isNum(e.lo) || !isNum(e.hi)) return '';
  return ` <span class="ci">[${esc(f(e.lo))}, ${esc(f(e.hi))}]</span>`;
}

function estimateCell(e: Estimate, f: (v: number) => string, fi: (v: number) => string = f): string {
  if (!isNum(e.value)) return '<td class="num">-</td>';
  return `<td class="num">${esc(f(e.value))}${interval(e, fi)}</td>`;
}

function comparisonTable(c: TargetComparison): string {
  const rows = c.metrics.map((m: MetricComparison) => {
    const info = METRIC_INFO[m.metric] ?? { label: m.metric, unit: '', percent: false };
    const val = (v: number): string => (info.percent ? `${(v * 100).toFixed(1)}%` : fmt(v));
    const dif = (v: number): string => (info.percent ? signed(`${(v * 100).toFixed(1)} pp`, v) : signed(fmt(v), v));
    const rat = (v: number): string => `×${v.toFixed(3)}`;
    const cls = VERDICT_CLASS[m.verdict] ?? 'insufficient';
    return (
      `<tr class="v-${cls}" data-metric="${esc(m.metric)}" data-stat="${esc(m.stat)}">` +
      `<th scope="row">${esc(info.label)}${info.unit && !info.percent ? ` <span class="unit">(${esc(info.unit)})</span>` : ''}</th>` +
      `<td class="stat">${esc(m.stat)}${m.higherIsBetter ? ' <span class="unit" title="higher is better">↑</span>' : ' <span class="unit" title="lower is better">↓</span>'}</td>` +
      estimateCell(m.baseline, val) +
      estimateCell(m.candidate, val) +
      estimateCell(m.difference, dif) +
      estimateCell(m.ratio, rat, (v) => v.toFixed(3)) +
      `<td class="verdict"><span class="badge ${cls}">${esc(VERDICT_TEXT[m.verdict] ?? m.verdict)}</span></td></tr>`
    );
  });
  const meta =
    `${c.paired ? 'paired' : 'unpaired'} bootstrap over sessions, ${fmtInt(c.sessions)} sessions, ${fmtInt(c.matchedRequests)} matched requests, ` +
    `${fmtInt(c.iterations)} resamples, ${fmtPct(c.confidence, 0)} intervals`;
  return (
    `<div class="cmp-block" data-baseline="${esc(c.baseline)}" data-candidate="${esc(c.candidate)}">` +
    `<h3>${esc(c.candidate)} <span class="vs">vs</span> ${esc(c.baseline)} <span class="unit">(baseline)</span></h3>` +
    `<p class="meta">${esc(meta)}</p>` +
    `<div class="table-wrap"><table class="cmp"><thead><tr><th>metric</th><th>stat</th><th>${esc(c.baseline)}</th><th>${esc(c.candidate)}</th>` +
    `<th>difference [lo, hi]</th><th>ratio [lo, hi]</th><th>verdict</th></tr></thead><tbody>${rows.join('')}</tbody></table></div></div>`
  );
}

function missing(text: string): string {
  return `<p class="missing">${esc(text)}</p>`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[], cls = ''): string {
  // Cells arrive already escaped (some carry markup); headers are plain text.
  return (
    `<div class="table-wrap"><table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`).join('')}</tbody></table></div>`
  );
}

function swatch(v: TargetView): string {
  return `<span class="tname"><span class="swatch" style="background:${esc(v.color)}"></span>${esc(v.target.name)}</span>`;
}

function runName(v: TargetView, i: number): string {
  return v.target.runs.length > 1 ? `${v.target.name} #${i + 1}` : v.target.name;
}

const RUN_DASHES = [undefined, '5 3', '2 2', '8 3 2 3'] as const;
const runDash = (i: number): string | undefined => RUN_DASHES[i % RUN_DASHES.length];

// ---- sections -----------------------------------------------------------------------------------------

function reportTitle(report: ComparisonReport): string {
  return report.comparisons.length > 0
    ? `pd-bench: ${report.comparisons.map((c) => c.candidate).join(', ')} vs ${report.baseline}`
    : `pd-bench report: ${(report.targets ?? []).map((t) => t.name).join(', ') || 'no targets'}`;
}

/** "2 better, 1 worse, 4 n.s.": the verdict column at a glance, under each sentence. */
function verdictTally(c: TargetComparison): string {
  const order: Verdict[] = ['better', 'worse', 'no significant difference', 'insufficient data'];
  const parts = order
    .map((v) => [v, c.metrics.filter((m) => m.verdict === v).length] as const)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `<span class="badge ${VERDICT_CLASS[v]}">${n} ${esc(VERDICT_TEXT[v])}</span>`);
  return parts.length ? `<p class="tally">${esc(`${c.candidate} vs ${c.baseline}:`)} ${parts.join(' ')}</p>` : '';
}

function headerSection(report: ComparisonReport, views: readonly TargetView[]): string {
  const title = reportTitle(report);
  const first = views[0]?.target.runs[0];
  const facts: [string, string][] = [
    ['created', esc(report.createdAt)],
    ['order', esc(report.order)],
    ['history', esc(report.history)],
    ['repetitions', esc(String(report.repeat))],
    ['baseline', esc(report.baseline)],
    ['configured QPS', esc(isNum(report.qps) ? fmtLimit(report.qps) : '-')],
  ];
  if (first) {
    facts.push(['scenario', esc(first.scenario ?? '-')]);
    facts.push(['schedule', esc(`${first.schedule.label} (${first.schedule.arrival})`)]);
  }
  const targets = views
    .map(
      (v) =>
        `<li>${swatch(v)}${v.target.runs.some((r) => r.target.saturated === true) ? ' <span class="tag saturated">saturated</span>' : ''} <span class="muted">${esc(v.target.baseUrl)} · ${esc(v.target.model)} · ${v.target.gpus === null ? 'GPUs unknown' : `${v.target.gpus} GPU`} · ${v.target.runs.length} run${v.target.runs.length === 1 ? '' : 's'}</span></li>`,
    )
    .join('');
  const verdicts = report.comparisons.length
    ? `<div class="verdicts">${report.comparisons.map((c) => `<p class="sentence">${esc(c.sentence)}</p>${verdictTally(c)}`).join('')}</div>`
    : `<div class="verdicts single">${missing(views.length === 1 ? 'One target: no comparison, so no verdict.' : 'No comparisons in this report.')}</div>`;
  const saturated = views.filter((v) => v.target.runs.some((r) => r.target.saturated === true));
  const banner = saturated.length
    ? `<div class="banner saturated" role="alert"><strong>Saturated:</strong> ${saturated
        .map((v) => `${esc(v.target.name)} (${esc([...new Set(v.target.runs.flatMap((r) => r.target.reasons ?? []))].join('; '))})`)
        .join('; ')}. Latencies at a saturated load measure queueing, not service: lower the load, or run a sweep to find capacity.</div>`
    : '';
  return (
    `<header>${banner}<h1>${esc(title)}</h1>${verdicts}` +
    `<dl class="facts">${facts.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${v}</dd></div>`).join('')}</dl>` +
    `<ul class="targets">${targets}</ul></header>`
  );
}

function summarySection(views: readonly TargetView[]): string {
  if (!views.length) return section('summary', 'Summary per target', missing('No targets in this report.'));
  type Row = [string, (v: TargetView) => string];
  const lat = (m: CdfMetric, p: number, label: string): Row => [label, (v) => fmt(pctl(v.merged[m], p))];
  const rows: Row[] = [
    ['requests launched / ok', (v) => `${v.counts.launched} / ${v.counts.ok}`],
    ['failed / cancelled', (v) => `${v.counts.failed} / ${v.counts.cancelled}`],
    lat('ttft_ms', 50, 'TTFT p50 (ms)'),
    lat('ttft_ms', 90, 'TTFT p90 (ms)'),
    lat('ttft_ms', 99, 'TTFT p99 (ms)'),
    lat('itl_ms', 50, 'ITL p50 (ms)'),
    lat('itl_ms', 99, 'ITL p99 (ms)'),
    lat('tpot_ms', 50, 'TPOT p50 (ms)'),
    lat('e2el_ms', 50, 'E2E p50 (ms)'),
    lat('e2el_ms', 99, 'E2E p99 (ms)'),
    ['completed req/s', (v) => fmt(v.requestThroughput)],
    ['output tok/s', (v) => fmt(v.outputThroughput)],
    ['output tok/s per GPU', (v) => (v.target.gpus && isNum(v.outputThroughput) ? fmt(v.outputThroughput / v.target.gpus) : '-')],
    ['cached prompt tokens', (v) => fmtPct(v.cachedShare)],
    ['measured time (s)', (v) => fmt(v.durationS)],
  ];
  return section(
    'summary',
    'Summary per target',
    table(
      ['', ...views.map((v) => v.target.name)],
      rows.map(([label, get]) => [esc(label), ...views.map((v) => esc(get(v)))]),
      'summary num',
    ) + `<p class="muted">Percentiles over all runs of a target (merged histograms); rates over the summed measured time.</p>`,
  );
}

function comparisonSection(report: ComparisonReport, views: readonly TargetView[]): string {
  if (!report.comparisons.length) {
    return section('comparison', 'Comparison', missing(views.length <= 1 ? 'One target: there is nothing to compare against.' : 'No comparisons were computed.'));
  }
  return section('comparison', 'Comparison against the baseline', report.comparisons.map((c) => comparisonTable(c)).join(''));
}

function cdfSection(views: readonly TargetView[]): string {
  const parts: string[] = [];
  const tables: string[] = [];
  for (const [metric, label] of [
    ['ttft_ms', 'TTFT'],
    ['itl_ms', 'ITL (per token)'],
  ] as const) {
    const withData = views.filter((v) => v.merged[metric] !== null && (v.merged[metric]?.count ?? 0) > 0);
    const damaged = views.filter((v) => v.undecodable.has(metric)).map((v) => v.target.name);
    if (damaged.length) parts.push(missing(`${label}: the histogram of ${damaged.join(', ')} could not be read (see the notes); ${withData.length ? 'drawn without it' : 'no CDF'}.`));
    if (!withData.length) {
      if (!damaged.length) parts.push(missing(`${label}: no measured values, no CDF.`));
      continue;
    }
    const series: ChartSeries[] = withData.map((v) => ({ name: v.target.name, color: v.color, points: cdfPoints(v.merged[metric] as LatencyStat) }));
    const marks: ChartMark[] = [];
    for (const v of withData) {
      const s = v.merged[metric] as LatencyStat;
      for (const p of [50, 99]) {
        const x = s.percentile(p);
        if (isNum(x)) marks.push({ x, y: p / 100, color: v.color, label: `${v.target.name} ${label} p${p} = ${fmt(x)} ms` });
      }
    }
    parts.push(
      `<figure class="chart-fig" data-chart="cdf-${metric}">` +
        lineChart(series, {
          title: `${label} CDF`,
          xLabel: `${label} (ms)`,
          yLabel: 'fraction of values ≤ x',
          xLog: true,
          yDomain: [0, 1],
          marks,
          guides: [
            { axis: 'y', value: 0.5, label: 'p50' },
            { axis: 'y', value: 0.99, label: 'p99' },
          ],
        }) +
        '</figure>',
    );
    tables.push(
      `<h3>${esc(label)} percentiles (ms)</h3>` +
        table(
          ['target', 'count', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'max'],
          withData.map((v) => {
            const s = v.merged[metric] as LatencyStat;
            const sum = s.summary();
            return [swatch(v), fmtInt(sum.count), fmt(sum.mean), fmt(sum.p50), fmt(sum.p90), fmt(sum.p99), fmt(sum.p999), fmt(sum.max)].map((c, i) => (i === 0 ? c : esc(c)));
          }),
          'num',
        ),
    );
  }
  return section(
    'cdf',
    'Latency distributions',
    `<p class="muted">All runs of a target merged; circles mark p50 and p99.</p><div class="chart-grid">${parts.join('')}</div>${tables.join('')}`,
  );
}

function windowSeries(views: readonly TargetView[], get: (w: WindowSummary) => number | null): ChartSeries[] {
  const out: ChartSeries[] = [];
  for (const v of views) {
    v.target.runs.forEach((run, i) => {
      const ws = run.windows ?? [];
      if (!ws.length) return;
      const pts: ChartPoint[] = ws.map((w) => ({ x: w.startS, y: get(w) }));
      const last = ws[ws.length - 1] as WindowSummary;
      pts.push({ x: last.endS, y: get(last) });
      out.push({ name: runName(v, i), color: v.color, points: pts, curve: 'step-after', ...(runDash(i) ? { dash: runDash(i) as string } : {}) });
    });
  }
  return out;
}

/** A target's binned series (reports from before the timeline existed have only the --log-interval windows). */
function binSeries(views: readonly TargetView[], get: (b: TimelineBin) => number | null): ChartSeries[] {
  const out: ChartSeries[] = [];
  for (const v of views) {
    for (const tl of v.target.timeline ?? []) {
      if (!tl.bins.length) continue;
      const pts: ChartPoint[] = tl.bins.map((b) => ({ x: b.startS, y: get(b) }));
      const last = tl.bins[tl.bins.length - 1] as TimelineBin;
      pts.push({ x: tl.spanS, y: get(last) });
      out.push({ name: runName(v, tl.rep), color: v.color, points: pts, curve: 'step-after', ...(runDash(tl.rep) ? { dash: runDash(tl.rep) as string } : {}) });
    }
  }
  return out;
}

function timelineSection(views: readonly TargetView[]): string {
  const binned = views.some((v) => (v.target.timeline ?? []).some((t) => t.bins.some((b) => b.completed > 0)));
  const hasWindows = views.some((v) => v.target.runs.some((r) => (r.windows ?? []).length > 0));
  if (!binned && !hasWindows) return section('timeline', 'Over time', missing('No window summaries were recorded (runs shorter than --log-interval record one at the end).'));
  const charts: [string, string, (b: TimelineBin) => number | null, (w: WindowSummary) => number | null][] = [
    ['TTFT p50 over time', 'TTFT p50 (ms)', (b) => b.ttftP50Ms, (w) => w.ttftP50Ms],
    ['TTFT p99 over time', 'TTFT p99 (ms)', (b) => b.ttftP99Ms, (w) => w.ttftP99Ms],
    ['ITL p99 over time', 'ITL p99 (ms)', (b) => b.itlP99Ms, (w) => w.itlP99Ms],
    ['Output tokens/s over time', 'output tok/s', (b) => b.outputTokensPerS, (w) => w.outputTokensPerS],
  ];
  const figs = charts.map(
    ([title, yLabel, getBin, getWindow], i) =>
      `<figure class="chart-fig" data-chart="timeline-${i}">` +
      lineChart(binned ? binSeries(views, getBin) : windowSeries(views, getWindow), { title, xLabel: 'time since measured start (s)', yLabel, xDomain: [0, null], yDomain: [0, null] }) +
      '</figure>',
  );
  const widths = [...new Set(views.flatMap((v) => (v.target.timeline ?? []).map((t) => t.binS)))].sort((a, b) => a - b);
  const how = binned
    ? `Requests binned by completion time, ${widths.map((w) => `${w} s`).join(' / ')} per bin: latency percentiles are nearest-rank over the ok requests that finished in the bin (with few requests, p99 is the bin's largest value; a gap is a bin where none finished); output tokens/s spreads each request's tokens evenly from its first token to its end.`
    : 'One step per --log-interval window.';
  const repeats = views.some((v) => v.target.runs.length > 1) ? ' Repetitions are drawn dashed and dotted, numbered #1, #2, ...' : '';
  return section('timeline', 'Over time', `<p class="muted">${esc(how + repeats)}</p><div class="chart-grid">${figs.join('')}</div>`);
}

function roundsSection(report: ComparisonReport, views: readonly TargetView[]): string {
  const withRounds = views.filter((v) => (v.target.rounds ?? []).length > 0);
  const parts: string[] = [];
  if (!withRounds.length) {
    parts.push(missing('No per-round statistics in this report.'));
  } else {
    const mk = (get: (r: CompareTarget['rounds'][number]) => number | null, dash?: string, suffix = ''): ChartSeries[] =>
      withRounds.map((v) => ({
        name: v.target.name + suffix,
        color: v.color,
        points: v.target.rounds.map((r) => ({ x: r.round, y: get(r) })),
        dots: true,
        ...(dash ? { dash } : {}),
      }));
    const roundTick = (x: number): string => (Number.isInteger(x) ? String(x) : '');
    const figs = [
      lineChart([...mk((r) => r.ttft.p50, undefined, ' p50'), ...mk((r) => r.ttft.p99, '6 3', ' p99')], {
        title: 'TTFT by round',
        xLabel: 'round',
        yLabel: 'TTFT (ms)',
        xFormat: roundTick,
        yDomain: [0, null],
      }),
      lineChart(mk((r) => r.itl.p50), { title: 'ITL p50 by round', xLabel: 'round', yLabel: 'ITL p50 (ms)', xFormat: roundTick, yDomain: [0, null] }),
      lineChart(mk((r) => r.cachedTokenShare), {
        title: 'Cached prompt-token share by round',
        xLabel: 'round',
        yLabel: 'cached / prompt tokens',
        xFormat: roundTick,
        yDomain: [0, 1],
        yFormat: (v) => `${Math.round(v * 100)}%`,
      }),
    ];
    parts.push(`<div class="chart-grid">${figs.map((f, i) => `<figure class="chart-fig" data-chart="rounds-${i}">${f}</figure>`).join('')}</div>`);
    const rounds = [...new Set(withRounds.flatMap((v) => v.target.rounds.map((r) => r.round)))].sort((a, b) => a - b);
    const rows: string[][] = [];
    for (const round of rounds) {
      for (const v of withRounds) {
        const r = v.target.rounds.find((x) => x.round === round);
        if (!r) continue;
        rows.push([
          esc(String(round)),
          swatch(v),
          esc(`${r.requests} / ${r.ok}`),
          esc(fmt(r.ttft.p50)),
          esc(fmt(r.ttft.p99)),
          esc(fmt(r.itl.p50)),
          esc(fmt(r.promptTokensMean)),
          esc(fmtPct(r.cachedTokenShare)),
        ]);
      }
    }
    parts.push(
      `<details><summary>Per-round table (${rounds.length} rounds)</summary>` +
        table(['round', 'target', 'requests / ok', 'TTFT p50 (ms)', 'TTFT p99 (ms)', 'ITL p50 (ms)', 'prompt tokens (mean)', 'cached share'], rows, 'num rounds') +
        '</details>',
    );
  }
  const drift = report.promptDrift ?? [];
  if (drift.length) {
    const names = views.map((v) => v.target.name);
    parts.push(
      '<h3>Prompt drift</h3><p class="muted">Live history: each target carries its own answers, so later prompts differ in length. Mean prompt tokens by round:</p>' +
        table(
          ['round', ...names],
          drift.map((d) => [esc(String(d.round)), ...names.map((n) => esc(fmt(d.promptTokensMean[n] ?? null)))]),
          'num drift',
        ),
    );
  } else {
    parts.push(
      missing(
        views.length < 2
          ? 'Prompt drift: needs two or more targets.'
          : report.history === 'frozen'
            ? 'Prompt drift: none (frozen history, identical prompts).'
            : 'Prompt drift: no data.',
      ),
    );
  }
  return section('rounds', 'By round', parts.join(''));
}

const ITL_STAT_TEXT: Record<SloSpec['itlStat'], string> = {
  max: 'largest gap',
  mean: 'mean gap',
  p50: 'p50 of gaps',
  p90: 'p90 of gaps',
  p95: 'p95 of gaps',
  p99: 'p99 of gaps',
};

/** Limits are round numbers people typed: shown as given, without padding decimals. */
const fmtLimit = (v: number): string => String(Number(v.toPrecision(6)));

export function sloSpecText(s: SloSpec): string {
  const parts: string[] = [];
  if (isNum(s.ttftMs)) parts.push(`TTFT ≤ ${fmtLimit(s.ttftMs)} ms`);
  if (isNum(s.itlMs)) parts.push(`ITL (${ITL_STAT_TEXT[s.itlStat] ?? s.itlStat} per request) ≤ ${fmtLimit(s.itlMs)} ms`);
  if (isNum(s.tpotMs)) parts.push(`TPOT ≤ ${fmtLimit(s.tpotMs)} ms`);
  if (isNum(s.e2elMs)) parts.push(`E2E latency ≤ ${fmtLimit(s.e2elMs)} ms`);
  const body = parts.length ? parts.join(', ') : 'no limits set';
  return s.preset ? `${s.preset}: ${body}` : body;
}

function sloSection(report: ComparisonReport, views: readonly TargetView[]): string {
  if (!report.slo) return section('slo', 'SLO attainment', missing('No SLO was set for this report, so attainment and goodput are not computed.'));
  // Figures down, targets across (like the summary): stays narrow however many figures there are.
  type Row = [string, (s: SloResult) => string];
  const rows: Row[] = [
    ['requests met / judged', (s) => esc(`${s.met} / ${s.requests}`)],
    ['attainment', (s) => `<strong>${esc(fmtPct(s.attainment))}</strong>`],
    ['missed by error / ttft / itl / tpot / e2el', (s) => esc([s.missedBy.error, s.missedBy.ttft, s.missedBy.itl, s.missedBy.tpot, s.missedBy.e2el].map((n) => fmtInt(n)).join(' / '))],
    ['sessions met / judged', (s) => esc(`${s.sessionsMet} / ${s.sessions}`)],
    ['session attainment', (s) => esc(fmtPct(s.sessionAttainment))],
    ['goodput (req/s)', (s) => esc(fmt(s.requestGoodput))],
    ['session goodput (sessions/s)', (s) => esc(fmt(s.sessionGoodput))],
    ['goodput per GPU (req/s)', (s) => esc(fmt(s.requestGoodputPerGpu))],
    ['output tok/s per GPU', (s) => esc(fmt(s.outputThroughputPerGpu))],
  ];
  const body = table(
    ['', ...views.map((v) => v.target.name)],
    rows.map(([label, get]) => [esc(label), ...views.map((v) => (v.target.slo ? get(v.target.slo) : '-'))]),
    'num slo',
  );
  return section('slo', 'SLO attainment', `<p class="slo-spec">SLO: <strong>${esc(sloSpecText(report.slo))}</strong>. Failed requests count as misses.</p>${body}`);
}

// Series colours inside one role's chart: not the target palette, since all of them belong to one target.
const SERIES_COLORS = ['#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3', '#937860', '#da8bc3', '#8c8c8c'] as const;

function roleBlock(role: ScrapeRoleResult): string {
  const out: string[] = [];
  const failed = role.failures ? `, <span class="bad">${role.failures} failed</span>` : '';
  out.push(`<h4>${esc(role.role)} <span class="muted">${esc(role.url)} · ${role.scrapes} scrapes${failed}</span></h4>`);
  if (role.errors?.length) {
    out.push(`<ul class="errors">${role.errors.map((e) => `<li>${esc(e.message)} <span class="muted">×${e.count}</span></li>`).join('')}</ul>`);
  }
  const times = role.timesS ?? [];
  const keys = Object.keys(role.series ?? {}).filter((k) => (role.series[k] ?? []).some((x) => isNum(x)));
  if (keys.length && times.length) {
    // Queue lengths, cache usage and token counters share no unit: each series is drawn as a share of its own
    // maximum (the shapes line up in time), and the table beside it gives the real values.
    const drawn = keys.slice(0, SERIES_COLORS.length);
    const stats: string[][] = [];
    const series: ChartSeries[] = drawn.map((k, j) => {
      const ys = role.series[k] ?? [];
      let max = 0;
      for (const y of ys) if (isNum(y) && Math.abs(y) > max) max = Math.abs(y);
      return {
        name: k,
        color: SERIES_COLORS[j] as string,
        points: times.map((t, i) => {
          const y = ys[i];
          return { x: t, y: isNum(y) ? (max > 0 ? y / max : 0) : null };
        }),
      };
    });
    for (const k of keys) {
      const ys = role.series[k] ?? [];
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      let sum = 0;
      let n = 0;
      let last: number | null = null;
      for (const y of ys) {
        if (!isNum(y)) continue;
        if (y < min) min = y;
        if (y > max) max = y;
        sum += y;
        n++;
        last = y;
      }
      stats.push([esc(k), esc(fmt(min)), esc(fmt(n ? sum / n : null)), esc(fmt(max)), esc(fmt(last))]);
    }
    out.push(
      `<figure class="chart-fig" data-chart="server-role">${lineChart(series, {
        title: `${role.role}: scraped series`,
        xLabel: 'time since measured start (s)',
        yLabel: 'share of the series maximum',
        yDomain: [0, 1],
        xDomain: [0, null],
        height: 240,
        maxPoints: 300,
        yFormat: (v) => `${Math.round(v * 100)}%`,
      })}</figure>`,
    );
    if (keys.length > drawn.length) out.push(`<p class="muted">${keys.length - drawn.length} more series in the table only.</p>`);
    out.push(table(['series', 'min', 'mean', 'max', 'last'], stats, 'num kv'));
  } else {
    out.push(missing('No time series with values for this role.'));
  }
  const derived = Object.entries(role.derived ?? {});
  if (derived.length) out.push(table(['derived', 'value'], derived.map(([k, x]) => [esc(k), esc(fmt(x))]), 'num kv'));
  const deltas = Object.entries(role.deltas ?? {});
  if (deltas.length) {
    out.push(
      `<details><summary>Counter deltas over the run (${deltas.length})</summary>` +
        table(['counter', 'first', 'last', 'delta'], deltas.map(([k, d]) => [esc(k), esc(fmt(role.before?.[k])), esc(fmt(role.after?.[k])), esc(fmt(d))]), 'num kv') +
        '</details>',
    );
  }
  return `<div class="role" data-role="${esc(role.role)}">${out.join('')}</div>`;
}

function serverSection(views: readonly TargetView[]): string {
  const parts: string[] = [];
  for (const v of views) {
    v.target.runs.forEach((run, i) => {
      if (!run.server || !run.server.roles?.length) return;
      parts.push(
        `<div class="server-target" data-target="${esc(v.target.name)}"><h3>${swatch(v)}${v.target.runs.length > 1 ? esc(` run #${i + 1}`) : ''} <span class="muted">scraped every ${esc(fmt(run.server.intervalS))} s</span></h3>` +
          `<div class="role-grid">${run.server.roles.map((r) => roleBlock(r)).join('')}</div>` +
          '</div>',
      );
    });
  }
  if (!parts.length) return section('server', 'Server metrics', missing('No server metrics were scraped (--scrape role=URL).'));
  return section('server', 'Server metrics', parts.join(''));
}

function errorsSection(views: readonly TargetView[]): string {
  if (!views.length) return section('errors', 'Errors', missing('No targets.'));
  const parts: string[] = [];
  const classes = [...new Set(views.flatMap((v) => Object.keys(v.target.errors ?? {})))].sort();
  if (classes.length) {
    parts.push(
      table(
        ['error class', ...views.map((v) => v.target.name)],
        classes.map((c) => [esc(c), ...views.map((v) => {
          const n = v.target.errors?.[c] ?? 0;
          return n > 0 ? `<span class="bad">${esc(String(n))}</span>` : '0';
        })]),
        'num errors',
      ),
    );
  }
  for (const v of views) {
    const total = Object.values(v.target.errors ?? {}).reduce((a, b) => a + b, 0);
    if (total === 0) parts.push(`<p class="ok-line">${swatch(v)}: no errors.</p>`);
  }
  const runRows: string[][] = [];
  for (const v of views) {
    v.target.runs.forEach((r, i) => {
      const c = r.counts;
      runRows.push([
        esc(runName(v, i)),
        esc(r.runId),
        fmtInt(c.launched),
        fmtInt(c.ok),
        c.failed ? `<span class="bad">${c.failed}</span>` : '0',
        c.cancelled ? `<span class="bad">${c.cancelled}</span>` : '0',
        fmtInt(c.late),
        fmtInt(c.unsent),
        esc(`${c.warmup.ok} / ${c.warmup.launched}`),
        r.interrupted ? '<span class="bad">yes</span>' : 'no',
        r.client.healthy ? 'healthy' : `<span class="bad" title="${esc(r.client.reasons.join('; '))}">unhealthy</span>`,
      ]);
    });
  }
  parts.push(
    '<h3>Requests per run</h3>' +
      table(['run', 'run id', 'launched', 'ok', 'failed', 'cancelled', 'late', 'unsent', 'warmup ok / sent', 'interrupted', 'client'], runRows, 'num runs'),
  );
  return section('errors', 'Errors and request counts', parts.join(''));
}

function notesSection(report: ComparisonReport, views: readonly TargetView[], problems: readonly string[]): string {
  const items: string[] = [];
  // A note every run carries (the pacing note: every run has the same workload) is said once, for the comparison.
  const shared = sharedRunNotes(views.flatMap((v) => v.target.runs));
  for (const n of [...(report.notes ?? []), ...shared]) items.push(`<li>${esc(n)}</li>`);
  for (const p of problems) items.push(`<li class="bad">${esc(p)}</li>`);
  for (const v of views) {
    const seen = new Set<string>(shared);
    v.target.runs.forEach((r, i) => {
      for (const n of r.notes ?? []) {
        if (seen.has(n)) continue;
        seen.add(n);
        items.push(`<li><span class="muted">${esc(runName(v, i))}:</span> ${esc(n)}</li>`);
      }
    });
  }
  if (!items.length) return section('notes', 'Notes', missing('No notes.'));
  return section('notes', 'Notes', `<ul class="notes">${items.join('')}</ul>`);
}

/** The notes every one of several runs carries, in the first run's order (none for a single run: it names its run). */
function sharedRunNotes(runs: readonly Pick<RunResult, 'notes'>[]): string[] {
  const [first, ...rest] = runs;
  if (!first || rest.length === 0) return [];
  return [...new Set(first.notes ?? [])].filter((n) => rest.every((r) => (r.notes ?? []).includes(n)));
}

function configSection(views: readonly TargetView[]): string {
  const withRuns = views.filter((v) => v.target.runs.length > 0);
  if (!withRuns.length) return section('config', 'Config and environment', missing('No runs, so no config.'));
  const cfgs = withRuns.map((v) => (v.target.runs[0] as RunResult).config as unknown as Record<string, unknown>);
  const keys = [...new Set(cfgs.flatMap((c) => Object.keys(c)))];
  const show = (x: unknown): string => (x === undefined ? '-' : typeof x === 'string' ? x : JSON.stringify(x));
  const cfgRows = keys.map((k) => {
    const vals = cfgs.map((c) => show(c[k]));
    const differs = new Set(vals).size > 1;
    return [`${esc(k)}${differs ? ' <span class="diff-mark" title="differs between targets">≠</span>' : ''}`, ...vals.map((x) => esc(x))];
  });
  const envRows: string[][] = [];
  for (const v of withRuns) {
    v.target.runs.forEach((r, i) => {
      const e = r.environment;
      const h = r.client;
      envRows.push([
        esc(runName(v, i)),
        esc(`${r.tool.name} ${r.tool.version}`),
        esc(`node ${e.node}${e.nodeFlags?.length ? ` ${e.nodeFlags.join(' ')}` : ''}, ${e.platform}/${e.arch}`),
        esc(`${e.cpus} × ${e.cpuModel}${e.availableCpus !== undefined && e.availableCpus < e.cpus ? ` (${e.availableCpus} available to pd-bench)` : ''}`),
        esc(fmtBytes(e.totalMemoryBytes)),
        esc(`${r.startedAt} → ${r.endedAt}`),
        esc(`loop delay p99 ${fmt(h.loopDelayMs.p99)} ms, schedule lag p99 ${fmt(h.scheduleLagP99Ms)} ms, CPU ${fmt(h.cpuShare)} core, RSS ${fmtBytes(h.maxRssBytes)}`),
      ]);
    });
  }
  const formulas = Object.entries((withRuns[0]?.target.runs[0] as RunResult).formulas ?? {});
  return section(
    'config',
    'Config and environment',
    `<p class="muted">The first run's resolved config of each target (secrets removed); ≠ marks fields that differ.</p>` +
      table(['field', ...withRuns.map((v) => v.target.name)], cfgRows, 'config') +
      '<h3>Environment and client health</h3>' +
      table(['run', 'tool', 'runtime', 'CPUs', 'memory', 'time', 'client'], envRows, 'env') +
      (formulas.length
        ? `<details><summary>How the metrics are computed</summary>${table(['metric', 'formula'], formulas.map(([k, f]) => [esc(k), esc(String(f))]), 'kv')}</details>`
        : ''),
  );
}

// ---- page ---------------------------------------------------------------------------------------------

const CSS = `
:root{--fg:#1d1d1f;--muted:#666;--line:#ddd;--better:#1a7f37;--better-bg:#e6f4ea;--worse:#c62828;--worse-bg:#fdecea;--ns:#6b6b6b;--ns-bg:#f0f0f0}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1280px;padding:16px 24px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:#fff}
h1{font-size:22px;margin:8px 0 12px}h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:2px solid #333}h3{font-size:15px;margin:18px 0 8px}h4{font-size:14px;margin:14px 0 6px}
nav{font-size:13px;margin:0 0 8px;color:var(--muted)}nav a{color:inherit;margin-right:10px}
.verdicts{border-left:5px solid #333;background:#f7f7f9;padding:10px 14px;margin:0 0 14px}
.sentence{font-size:17px;font-weight:600;margin:4px 0}
.facts{display:flex;flex-wrap:wrap;gap:6px 22px;margin:0 0 8px}.facts div{display:flex;gap:6px}.facts dt{color:var(--muted)}.facts dd{margin:0;font-weight:600}
.targets{list-style:none;padding:0;margin:0}.targets li{margin:2px 0}
.tname{white-space:nowrap}.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.muted,.unit{color:var(--muted);font-weight:normal}.vs{color:var(--muted);font-weight:normal}
.banner.saturated{background:#fdecea;border:1px solid #e0a39c;border-radius:6px;padding:10px 14px;margin:0 0 12px;color:#611a15}.tag.saturated{background:#fdecea;color:#611a15;border-radius:4px;padding:0 6px;font-size:12px}
.missing{color:var(--muted);font-style:italic;margin:6px 0}
.bad{color:var(--worse);font-weight:600}.ok-line{margin:4px 0}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid #999;background:#fafafa}
table.cmp thead th{white-space:nowrap}
.table-wrap{max-width:100%;overflow-x:auto}
table.num td{text-align:right;font-variant-numeric:tabular-nums}table.num thead th:not(:first-child){text-align:right}
table.cmp td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ci{color:var(--muted);font-size:12px}table.cmp td.stat{white-space:nowrap}table.cmp thead th:nth-child(n+3):nth-child(-n+6){text-align:right}
tr.v-better th{border-left:4px solid var(--better)}tr.v-worse th{border-left:4px solid var(--worse)}tr.v-ns th,tr.v-insufficient th{border-left:4px solid #bbb}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px}
.badge.better{background:var(--better-bg);color:var(--better)}.badge.worse{background:var(--worse-bg);color:var(--worse)}.badge.ns,.badge.insufficient{background:var(--ns-bg);color:var(--ns)}
.tally{margin:2px 0 8px;font-size:13px;color:var(--muted)}
.badge.insufficient{font-style:italic}
.meta{color:var(--muted);margin:0 0 4px;font-size:13px}
.chart-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:10px 18px}
.role-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:10px 18px}
figure{margin:0}svg.chart{max-width:100%;height:auto;display:block}
.config td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.diff-mark{color:var(--worse);font-weight:700}
details summary{cursor:pointer;color:#333;margin:6px 0}
.notes li{margin:3px 0}
footer{margin-top:32px;color:var(--muted);font-size:12px}
@media print{
  body{max-width:none;padding:0;font-size:10.5pt}
  nav{display:none}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  h2{break-after:avoid}h3,h4{break-after:avoid}
  figure,.cmp-block,tr{break-inside:avoid}
  .chart-grid,.role-grid{display:block}.chart-grid figure{margin-bottom:8px}.role{break-inside:avoid}
  .table-wrap{overflow:visible}
  svg.chart .cursor{display:none}
  table{font-size:9pt}th,td{padding:3px 5px}
  table.cmp td.num{white-space:normal}table.cmp .ci{display:block;white-space:nowrap}
  details>summary{list-style:none}
}
@page{margin:14mm}
`;

// Readout of the cursor position in data units, and every <details> opened for printing. Written defensively:
// a report that throws in the reader's browser is a broken report.
const SCRIPT = `(function(){'use strict';
function f(v){if(!isFinite(v))return '';var a=Math.abs(v);return a>=1000?v.toFixed(0):a>=100?v.toFixed(1):a>=1?v.toFixed(2):v.toPrecision(2);}
function attach(svg){
  var p=(svg.getAttribute('data-plot')||'').split(' ').map(Number),dx=(svg.getAttribute('data-x')||'').split(' '),dy=(svg.getAttribute('data-y')||'').split(' ').map(Number);
  if(p.length!==4||dx.length!==3||dy.length!==2)return;
  var x0=Number(dx[0]),x1=Number(dx[1]),log=dx[2]==='log',line=svg.querySelector('.cursor-line'),text=svg.querySelector('.readout');
  var xl=svg.getAttribute('data-xlabel')||'x',yl=svg.getAttribute('data-ylabel')||'y';
  if(!line||!text||!(x1>x0))return;
  function hide(){line.setAttribute('visibility','hidden');text.textContent='';}
  svg.addEventListener('mousemove',function(ev){
    var m=svg.getScreenCTM();if(!m||typeof svg.createSVGPoint!=='function')return;
    var pt=svg.createSVGPoint();pt.x=ev.clientX;pt.y=ev.clientY;var q=pt.matrixTransform(m.inverse());
    if(q.x<p[0]||q.x>p[2]||q.y<p[1]||q.y>p[3]){hide();return;}
    var t=(q.x-p[0])/(p[2]-p[0]);
    var xv=log?Math.pow(10,Math.log10(x0)+t*(Math.log10(x1)-Math.log10(x0))):x0+t*(x1-x0);
    var yv=dy[0]+(p[3]-q.y)/(p[3]-p[1])*(dy[1]-dy[0]);
    line.setAttribute('x1',String(q.x));line.setAttribute('x2',String(q.x));line.setAttribute('visibility','visible');
    text.textContent=xl+' '+f(xv)+(yl?' · '+yl+' '+f(yv):'');
  });
  svg.addEventListener('mouseleave',hide);
}
var charts=document.querySelectorAll('svg.chart[data-plot]');
for(var i=0;i<charts.length;i++){try{attach(charts[i]);}catch(e){}}
window.addEventListener('beforeprint',function(){var d=document.querySelectorAll('details');for(var j=0;j<d.length;j++)d[j].open=true;});
document.documentElement.setAttribute('data-report-script','ready');
})();`;

// Only this script may run (CSP hash): even if some text escaped escaping, an injected script would not execute,
// and default-src 'none' makes any accidental external reference fail loudly instead of phoning home.
const SCRIPT_HASH = createHash('sha256').update(SCRIPT, 'utf8').digest('base64');
const CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; img-src data:; base-uri 'none'; form-action 'none'`;

export function renderHtmlReport(report: ComparisonReport): string {
  const problems: string[] = [];
  const targets = report.targets ?? [];
  const views = targets.map((t, i) => buildView(t, i, problems));
  const title = reportTitle(report);
  const sections = [
    summarySection(views),
    comparisonSection(report, views),
    cdfSection(views),
    timelineSection(views),
    roundsSection(report, views),
    sloSection(report, views),
    serverSection(views),
    errorsSection(views),
    notesSection(report, views, problems),
    configSection(views),
  ];
  const nav = [
    ['summary', 'summary'],
    ['comparison', 'comparison'],
    ['cdf', 'distributions'],
    ['timeline', 'over time'],
    ['rounds', 'by round'],
    ['slo', 'SLO'],
    ['server', 'server'],
    ['errors', 'errors'],
    ['notes', 'notes'],
    ['config', 'config'],
  ]
    .map(([id, label]) => `<a href="#${id}">${label}</a>`)
    .join('');
  const version = targets[0]?.runs[0]?.tool.version;
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${esc(CSP)}">` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<meta name="generator" content="pd-bench${version ? ' ' + esc(version) : ''}">` +
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>` +
    `<nav>${nav}</nav>` +
    headerSection(report, views) +
    `<main>${sections.join('\n')}</main>` +
    `<footer>Generated by pd-bench from ${esc(report.schema)} v${esc(String(report.schemaVersion))}, created ${esc(report.createdAt)}.</footer>` +
    `<script>${SCRIPT}</script></body></html>\n`
  );
}

// The sweep report (sweep-html.ts) shares the page's look, script and policy, and these formatters and builders.
export { CSP as REPORT_CSP, CSS as REPORT_CSS, SCRIPT as REPORT_SCRIPT, fmt, fmtInt, fmtLimit, fmtPct, missing, section, table };
