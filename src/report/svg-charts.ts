// Small SVG chart builders for the HTML report: line and step charts with axes, ticks, a legend, optional
// log-scale x (latency CDFs), reference guides and labelled marks. No chart library: the report must be one
// self-contained file that opens offline and prints, so charts are plain inline SVG strings. Pure.

export interface ChartPoint {
  x: number;
  /** null breaks the line (a window with no data is a gap, not a zero). */
  y: number | null;
}

export interface ChartSeries {
  /** Legend text; also written to data-series so tests and readers can find a target's curve. */
  name: string;
  color: string;
  points: readonly ChartPoint[];
  /** SVG stroke-dasharray, e.g. '6 3' (p99 dashed next to a solid p50). */
  dash?: string;
  /** 'step-after': each y holds until the next point's x (interval data such as windows). */
  curve?: 'linear' | 'step-after';
  /** Draw a dot at every point (few points, e.g. rounds). */
  dots?: boolean;
  /** False: no legend entry (a repeat that shares its target's entry). Default true. */
  legend?: boolean;
  /** False: dots only, no connecting path (a scatter beside a frontier drawn as its own series). Default true. */
  line?: boolean;
}

/** How a mark looks; the defaults are the hollow ring of a CDF's p50/p99 marks. */
export interface MarkStyle {
  /** 'ring' (default) or 'diamond'. */
  shape?: 'ring' | 'diamond';
  /** Radius in px; default 3.6. */
  size?: number;
  /** Fill inside the outline; default white (the mark hides the dot under it). */
  fill?: string;
  /** Extra class (CSS and test hooks), e.g. 'saturated'. */
  className?: string;
}

/** A labelled dot, e.g. a target's p50 on its CDF; the label is a native tooltip. */
export interface ChartMark extends MarkStyle {
  x: number;
  y: number;
  color: string;
  label: string;
}

/** A legend entry for a kind of mark (e.g. "saturated"), drawn after the series entries. */
export interface ChartLegendMark extends MarkStyle {
  label: string;
  color: string;
}

/** A dashed reference line across the plot, e.g. y = 0.99 on a CDF; 'diagonal' is the line y = value * x. */
export interface ChartGuide {
  axis: 'x' | 'y' | 'diagonal';
  value: number;
  label: string;
  /** Widen the axis so the line is in view (a threshold above all the data still shows where the limit is). */
  extend?: boolean;
  /** Extra class on the guide's <g> (e.g. 'slo'). */
  className?: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  xLog?: boolean;
  /** Fixed ends of an axis; a null end follows the data. */
  xDomain?: readonly [number | null, number | null];
  yDomain?: readonly [number | null, number | null];
  xFormat?: (v: number) => string;
  yFormat?: (v: number) => string;
  marks?: readonly ChartMark[];
  guides?: readonly ChartGuide[];
  /** Legend entries for mark kinds, after the series entries. */
  legendMarks?: readonly ChartLegendMark[];
  /** Extra class on the <svg> (CSS hooks). */
  className?: string;
  /** Longer series are decimated to about this many points (keeps the file small). Default 600. */
  maxPoints?: number;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'] as const;

export function paletteColor(i: number): string {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length] ?? '#333333';
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** Compact tick label: 1.5k, 250, 12.5, 0.25, 1.2M. */
export function formatTick(v: number): string {
  if (!Number.isFinite(v)) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  const trim = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (a >= 1e9) return trim((v / 1e9).toFixed(2)) + 'G';
  if (a >= 1e6) return trim((v / 1e6).toFixed(2)) + 'M';
  if (a >= 1e4) return trim((v / 1e3).toFixed(1)) + 'k';
  if (a >= 100) return trim(v.toFixed(0));
  if (a >= 1) return trim(v.toFixed(2));
  return trim(v.toPrecision(2));
}

const c1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/** Ticks at 1, 2 or 5 x 10^k, about `count` of them. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(count, 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function linearTicks(lo: number, hi: number, count: number): number[] {
  const step = niceStep(hi - lo, count);
  const out: number[] = [];
  // A small epsilon keeps an end that is a multiple of step from being lost to rounding.
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function logTicks(lo: number, hi: number): number[] {
  const d0 = Math.floor(Math.log10(lo));
  const d1 = Math.ceil(Math.log10(hi));
  // Sparse labels over many decades, denser ones when the range is narrow, so a CDF spanning 20..200 ms still
  // gets four or more labels.
  const sets = [[1], [1, 2, 5], [1, 2, 3, 5, 7], [1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9]];
  let out: number[] = [];
  for (const mults of sets) {
    out = [];
    for (let d = d0; d <= d1; d++) {
      for (const m of mults) {
        const v = m * 10 ** d;
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
      }
    }
    if (out.length >= 4) break;
  }
  return out;
}

interface Scale {
  lo: number;
  hi: number;
  log: boolean;
  map(v: number): number;
  ticks: number[];
}

// Loops, not Math.min(...xs): an hour of 1 s scrapes across many series would overflow the argument limit.
function extent(values: readonly number[]): [number, number] | null {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

function makeScale(values: number[], fixed: readonly [number | null, number | null] | undefined, log: boolean, px0: number, px1: number, tickCount: number): Scale {
  const ext = extent(values.filter((v) => Number.isFinite(v) && (!log || v > 0)));
  let lo = fixed?.[0] ?? (ext ? ext[0] : log ? 1 : 0);
  let hi = fixed?.[1] ?? (ext ? ext[1] : log ? 10 : 1);
  if (log) {
    if (!(lo > 0)) lo = ext ? ext[0] : 1;
    if (!(hi > lo)) hi = lo * 10;
    // A little air on a log axis so the extreme points do not sit on the frame.
    if (fixed?.[0] == null) lo = lo / 1.15;
    if (fixed?.[1] == null) hi = hi * 1.15;
  } else {
    if (hi === lo) {
      const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
      if (fixed?.[0] == null) lo -= pad;
      if (fixed?.[1] == null) hi += pad;
      if (hi === lo) hi = lo + 1;
    }
    // Round free ends out to whole ticks so the axis starts and ends on a label.
    const step = niceStep(hi - lo, tickCount);
    if (fixed?.[0] == null) lo = Math.floor(lo / step + 1e-9) * step;
    if (fixed?.[1] == null) hi = Math.ceil(hi / step - 1e-9) * step;
    if (hi <= lo) hi = lo + step;
  }
  const llo = log ? Math.log10(lo) : lo;
  const lhi = log ? Math.log10(hi) : hi;
  const map = (v: number): number => {
    const t = log ? Math.log10(Math.max(v, lo)) : v;
    return px0 + ((t - llo) / (lhi - llo)) * (px1 - px0);
  };
  return { lo, hi, log, map, ticks: log ? logTicks(lo, hi) : linearTicks(lo, hi, tickCount) };
}

const CHAR_W = 6.2; // approximate width of one 11px sans-serif character, for legend layout

interface LegendItem {
  name: string;
  color: string;
  dash: string | undefined;
  /** Set for a mark kind's entry: drawn as the mark, not as a line. */
  mark?: MarkStyle;
  x: number;
  row: number;
}

function layoutLegend(series: readonly ChartSeries[], width: number, left: number, marks: readonly ChartLegendMark[] = []): { items: LegendItem[]; rows: number } {
  const items: LegendItem[] = [];
  let x = left;
  let row = 0;
  const seen = new Set<string>();
  const entries = [
    ...series.filter((s) => s.legend !== false).map((s) => ({ name: s.name, color: s.color, dash: s.dash, mark: undefined })),
    ...marks.map((m) => ({ name: m.label, color: m.color, dash: undefined, mark: m })),
  ];
  for (const e of entries) {
    if (seen.has(e.name)) continue;
    seen.add(e.name);
    const label = e.name.length > 60 ? e.name.slice(0, 57) + '...' : e.name;
    const w = 26 + label.length * CHAR_W + 14;
    if (x + w > width - 8 && x > left) {
      row++;
      x = left;
    }
    items.push({ name: label, color: e.color, dash: e.dash, ...(e.mark ? { mark: e.mark } : {}), x, row });
    x += w;
  }
  return { items, rows: items.length ? row + 1 : 0 };
}

/**
 * At most about `max` points, keeping each bucket's lowest and highest value (a spike in a long scrape series
 * must survive) and its gaps. Short series pass through untouched.
 */
export function decimate(points: readonly ChartPoint[], max: number): readonly ChartPoint[] {
  if (points.length <= max) return points;
  const buckets = Math.max(1, Math.floor(max / 2));
  const size = points.length / buckets;
  const out: ChartPoint[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size);
    const to = Math.min(points.length, Math.floor((b + 1) * size));
    let lo: ChartPoint | undefined;
    let hi: ChartPoint | undefined;
    let gap = false;
    for (let i = from; i < to; i++) {
      const p = points[i] as ChartPoint;
      if (p.y === null || !Number.isFinite(p.y)) {
        gap = true;
        continue;
      }
      if (!lo || p.y < (lo.y as number)) lo = p;
      if (!hi || p.y > (hi.y as number)) hi = p;
    }
    if (lo && hi) {
      if (lo === hi) out.push(lo);
      else if (lo.x <= hi.x) out.push(lo, hi);
      else out.push(hi, lo);
    }
    if (gap) out.push({ x: points[Math.max(from, to - 1)]?.x ?? 0, y: null });
  }
  return out;
}

function pathFor(s: ChartSeries, xs: Scale, ys: Scale): string {
  const parts: string[] = [];
  let open = false;
  const pts = s.points.filter((p) => Number.isFinite(p.x) && (!xs.log || p.x > 0));
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i] as ChartPoint;
    if (p.y === null || !Number.isFinite(p.y)) {
      open = false;
      continue;
    }
    const X = xs.map(p.x);
    const Y = ys.map(Math.min(Math.max(p.y, ys.lo), ys.hi));
    parts.push(`${open ? 'L' : 'M'}${c1(X)} ${c1(Y)}`);
    open = true;
    if (s.curve === 'step-after') {
      const next = pts[i + 1];
      if (next) parts.push(`L${c1(xs.map(next.x))} ${c1(Y)}`);
    }
  }
  return parts.join('');
}

/** Where a chart draws: its size, the plot area inside the axes, the scales and the tick label formats. */
interface ChartFrame {
  width: number;
  /** The height without the legend rows (the legend goes below it). */
  baseHeight: number;
  height: number;
  plot: { x0: number; x1: number; y0: number; y1: number };
  xs: Scale;
  ys: Scale;
  fx: (v: number) => string;
  fy: (v: number) => string;
}

/**
 * A line (or step) chart as an <svg> string. Every series is a <g class="series" data-series=NAME> holding one
 * <path>; the legend is inside the SVG so it survives printing and screenshots; data-* attributes on the
 * <svg> describe the plot area and domains so the report's optional script can show a cursor readout.
 */
export function lineChart(input: readonly ChartSeries[], opts: ChartOptions): string {
  const series = input.map((s) => ({ ...s, points: decimate(s.points, opts.maxPoints ?? 600) }));
  const width = opts.width ?? 600;
  const baseHeight = opts.height ?? 300;
  const margin = { left: 58, right: 18, top: 30, bottom: 40 };
  const legend = layoutLegend(series, width, margin.left, opts.legendMarks);
  // The legend goes below the x-axis label, one 16 px row each, so it never covers data or the label.
  const height = baseHeight + (legend.rows ? legend.rows * 16 + 6 : 0);
  const plot = { x0: margin.left, x1: width - margin.right, y0: margin.top, y1: baseHeight - margin.bottom };
  const data = plottedValues(series, opts.marks ?? []);
  // Decided before the guides widen the axes: a threshold alone is not data.
  const noData = data.xs.length === 0;
  for (const g of opts.guides ?? []) {
    if (g.extend && g.axis === 'x') data.xs.push(g.value);
    if (g.extend && g.axis === 'y') data.ys.push(g.value);
  }
  const f: ChartFrame = {
    width,
    baseHeight,
    height,
    plot,
    xs: makeScale(data.xs, opts.xDomain, opts.xLog ?? false, plot.x0, plot.x1, Math.max(3, Math.round(width / 110))),
    ys: makeScale(data.ys, opts.yDomain, false, plot.y1, plot.y0, Math.max(3, Math.round(baseHeight / 60))),
    fx: opts.xFormat ?? formatTick,
    fy: opts.yFormat ?? formatTick,
  };

  const out: string[] = [];
  drawFrame(out, f, opts);
  // Guides under the data so curves stay readable.
  drawGuides(out, f, opts.guides ?? []);
  if (noData) {
    out.push(`<text class="nodata" x="${c1((plot.x0 + plot.x1) / 2)}" y="${c1((plot.y0 + plot.y1) / 2)}" text-anchor="middle" font-size="12" fill="#888">no data</text>`);
  }
  drawSeries(out, f, series);
  if (opts.marks?.length) drawMarks(out, f, opts.marks);
  if (legend.items.length) drawLegend(out, f, legend.items);
  // The cursor readout the report's script fills in; empty (invisible) without script and in print.
  out.push(`<g class="cursor" pointer-events="none"><line class="cursor-line" x1="0" y1="${plot.y0}" x2="0" y2="${plot.y1}" stroke="#444" stroke-width="0.8" visibility="hidden"/>`);
  out.push(`<text class="readout" x="${plot.x1}" y="18" text-anchor="end" font-size="11" fill="#444"></text></g>`);
  out.push('</svg>');
  return out.join('');
}

/** The x and y values the axes must show: every drawable point and every mark. */
function plottedValues(series: readonly ChartSeries[], marks: readonly ChartMark[]): { xs: number[]; ys: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series) {
    for (const p of s.points) {
      if (p.y === null || !Number.isFinite(p.y) || !Number.isFinite(p.x)) continue;
      xs.push(p.x);
      ys.push(p.y);
    }
  }
  for (const m of marks) {
    xs.push(m.x);
    ys.push(m.y);
  }
  return { xs, ys };
}

/** The <svg> element with its data-* description, the title, the grid, the axes, their ticks and labels. */
function drawFrame(out: string[], f: ChartFrame, opts: ChartOptions): void {
  const { width, height, plot, xs, ys } = f;
  const cls = ['chart', opts.className].filter(Boolean).join(' ');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="${escapeXml(cls)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
      `data-plot="${plot.x0} ${plot.y0} ${plot.x1} ${plot.y1}" data-x="${xs.lo} ${xs.hi} ${xs.log ? 'log' : 'lin'}" data-y="${ys.lo} ${ys.hi}" ` +
      `data-xlabel="${escapeXml(opts.xLabel)}" data-ylabel="${escapeXml(opts.yLabel)}">`,
  );
  out.push(`<title>${escapeXml(opts.title)}</title>`);
  out.push(`<rect class="bg" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text class="title" x="${plot.x0}" y="18" font-size="13" font-weight="600" fill="#222">${escapeXml(opts.title)}</text>`);

  out.push('<g class="grid" stroke="#e6e6e6" stroke-width="1">');
  for (const t of xs.ticks) out.push(`<line x1="${c1(xs.map(t))}" y1="${plot.y0}" x2="${c1(xs.map(t))}" y2="${plot.y1}"/>`);
  for (const t of ys.ticks) out.push(`<line x1="${plot.x0}" y1="${c1(ys.map(t))}" x2="${plot.x1}" y2="${c1(ys.map(t))}"/>`);
  out.push('</g>');
  out.push(`<g class="axes" stroke="#555" stroke-width="1" fill="none"><path d="M${plot.x0} ${plot.y0}V${plot.y1}H${plot.x1}"/></g>`);
  out.push('<g class="ticks" font-size="10.5" fill="#444">');
  for (const t of xs.ticks) out.push(`<text x="${c1(xs.map(t))}" y="${plot.y1 + 14}" text-anchor="middle">${escapeXml(f.fx(t))}</text>`);
  for (const t of ys.ticks) out.push(`<text x="${plot.x0 - 5}" y="${c1(ys.map(t) + 3.5)}" text-anchor="end">${escapeXml(f.fy(t))}</text>`);
  out.push('</g>');
  out.push(
    `<text class="xlabel" x="${c1((plot.x0 + plot.x1) / 2)}" y="${plot.y1 + 31}" text-anchor="middle" font-size="11" fill="#333">${escapeXml(opts.xLabel + (xs.log ? ' (log scale)' : ''))}</text>`,
  );
  out.push(
    `<text class="ylabel" transform="translate(14 ${c1((plot.y0 + plot.y1) / 2)}) rotate(-90)" text-anchor="middle" font-size="11" fill="#333">${escapeXml(opts.yLabel)}</text>`,
  );
}

/** Dashed reference lines with their labels; a guide outside the axis range is left out. */
function drawGuides(out: string[], f: ChartFrame, guides: readonly ChartGuide[]): void {
  const { plot, xs, ys } = f;
  for (const g of guides) {
    const cls = g.className ? `guide ${escapeXml(g.className)}` : 'guide';
    if (g.axis === 'diagonal') {
      drawDiagonal(out, f, g, cls);
    } else if (g.axis === 'y') {
      if (g.value < ys.lo || g.value > ys.hi) continue;
      const y = c1(ys.map(g.value));
      out.push(
        `<g class="${cls}"><line x1="${plot.x0}" y1="${y}" x2="${plot.x1}" y2="${y}" stroke="#999" stroke-dasharray="2 3"/>` +
          `<text x="${plot.x1 - 2}" y="${c1(ys.map(g.value) - 3)}" text-anchor="end" font-size="10" fill="#777">${escapeXml(g.label)}</text></g>`,
      );
    } else {
      if (g.value < xs.lo || g.value > xs.hi) continue;
      const x = c1(xs.map(g.value));
      out.push(
        `<g class="${cls}"><line x1="${x}" y1="${plot.y0}" x2="${x}" y2="${plot.y1}" stroke="#999" stroke-dasharray="2 3"/>` +
          `<text x="${c1(xs.map(g.value) + 3)}" y="${plot.y0 + 10}" font-size="10" fill="#777">${escapeXml(g.label)}</text></g>`,
      );
    }
  }
}

/** The line y = value * x across the part of the plot where both ends are in range (linear axes only). */
function drawDiagonal(out: string[], f: ChartFrame, g: ChartGuide, cls: string): void {
  const { xs, ys } = f;
  const k = g.value;
  if (xs.log || !(k > 0) || !Number.isFinite(k)) return;
  const from = Math.max(xs.lo, ys.lo / k);
  const to = Math.min(xs.hi, ys.hi / k);
  if (!(to > from)) return;
  const [x0, y0, x1, y1] = [xs.map(from), ys.map(k * from), xs.map(to), ys.map(k * to)];
  out.push(
    `<g class="${cls}"><line x1="${c1(x0)}" y1="${c1(y0)}" x2="${c1(x1)}" y2="${c1(y1)}" stroke="#999" stroke-dasharray="2 3"/>` +
      `<text x="${c1(x1 - 3)}" y="${c1(y1 + 12)}" text-anchor="end" font-size="10" fill="#777">${escapeXml(g.label)}</text></g>`,
  );
}

/** One <g class="series"> per series: its path and, when asked for, a dot with a tooltip at every point. */
function drawSeries(out: string[], f: ChartFrame, series: readonly ChartSeries[]): void {
  const { xs, ys } = f;
  out.push(`<g class="data">`);
  for (const s of series) {
    const d = s.line === false ? '' : pathFor(s, xs, ys);
    out.push(`<g class="series" data-series="${escapeXml(s.name)}">`);
    if (d) {
      out.push(
        `<path class="line" d="${d}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="1.8" stroke-linejoin="round"${s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : ''}/>`,
      );
    }
    if (s.dots) {
      for (const p of s.points) {
        if (p.y === null || !Number.isFinite(p.y) || !Number.isFinite(p.x) || (xs.log && p.x <= 0)) continue;
        out.push(`<circle cx="${c1(xs.map(p.x))}" cy="${c1(ys.map(p.y))}" r="2.6" fill="${escapeXml(s.color)}"><title>${escapeXml(`${s.name}: ${f.fx(p.x)}, ${f.fy(p.y)}`)}</title></circle>`);
      }
    }
    out.push('</g>');
  }
  out.push('</g>');
}

function drawMarks(out: string[], f: ChartFrame, marks: readonly ChartMark[]): void {
  const { xs, ys } = f;
  out.push('<g class="marks">');
  for (const m of marks) {
    if (!Number.isFinite(m.x) || !Number.isFinite(m.y) || (xs.log && m.x <= 0)) continue;
    out.push(markShape(m, xs.map(m.x), ys.map(m.y), `<title>${escapeXml(m.label)}</title>`));
  }
  out.push('</g>');
}

/** A mark's outline at (X, Y) in px, with `inner` (its tooltip) inside the element. */
function markShape(m: MarkStyle & { color: string }, X: number, Y: number, inner: string): string {
  const r = m.size ?? 3.6;
  const cls = m.className ? ` class="${escapeXml(m.className)}"` : '';
  const paint = `fill="${escapeXml(m.fill ?? '#fff')}" stroke="${escapeXml(m.color)}" stroke-width="2"`;
  if (m.shape === 'diamond') {
    const d = `M${c1(X)} ${c1(Y - r)}L${c1(X + r)} ${c1(Y)}L${c1(X)} ${c1(Y + r)}L${c1(X - r)} ${c1(Y)}Z`;
    return `<path${cls} d="${d}" ${paint}>${inner}</path>`;
  }
  return `<circle${cls} cx="${c1(X)}" cy="${c1(Y)}" r="${r}" ${paint}>${inner}</circle>`;
}

function drawLegend(out: string[], f: ChartFrame, items: readonly LegendItem[]): void {
  out.push('<g class="legend" font-size="11" fill="#222">');
  for (const it of items) {
    const y = f.baseHeight + 12 + it.row * 16;
    if (it.mark) {
      out.push(`<g class="legend-item legend-mark">${markShape({ ...it.mark, color: it.color }, it.x + 10, y - 4, '')}<text x="${c1(it.x + 25)}" y="${y}">${escapeXml(it.name)}</text></g>`);
      continue;
    }
    out.push(
      `<g class="legend-item"><line x1="${c1(it.x)}" y1="${y - 4}" x2="${c1(it.x + 20)}" y2="${y - 4}" stroke="${escapeXml(it.color)}" stroke-width="2.5"${it.dash ? ` stroke-dasharray="${escapeXml(it.dash)}"` : ''}/>` +
        `<text x="${c1(it.x + 25)}" y="${y}">${escapeXml(it.name)}</text></g>`,
    );
  }
  out.push('</g>');
}
