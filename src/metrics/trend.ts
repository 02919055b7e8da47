// Latency trend for the saturation verdict: is TTFT (or E2EL) rising over a run, by how much per minute, and how
// sure are we. Pure (no IO, no randomness; one reused scratch buffer) and never throws on data.
//
// Method: the Theil–Sen slope (median of all pairwise slopes) with Sen's distribution-free confidence interval,
// whose bounds are order statistics of those slopes at ranks set by the null variance of Kendall's S.
// Why this one: per-request latencies are heavy-tailed and a run can hold a few huge outliers (a stalled request,
// a retry); OLS and its t-interval are dragged by them, while Theil–Sen tolerates ~29 % arbitrary outliers and is
// nearly as efficient as OLS on clean data. The interval needs no noise model beyond independent, identically
// distributed residuals, and "lower bound > 0" is a one-sided Mann–Kendall test: it looks only at the signs of
// the pairwise slopes, so raw or log latency gives the same answer. A bootstrap would need randomness and
// thousands of refits for an interval of the same kind.
//
// Cost: the exact estimator is quadratic, so beyond `maxPoints` points it runs on the medians of `maxPoints`
// equal-count time bins: a bucket sort by time (O(n) for times spread over the run, skipped when they already
// come in order), O(n) medians, O(maxPoints²) pairs. Bin medians keep the robustness and still use every point.
// They also temper a known flaw of the iid interval: latencies of neighbouring requests are correlated (they
// share a queue), which makes an interval over every single request too narrow; bins spanning many requests are
// closer to independent.
//
// Decision: `rising` needs the whole interval above zero (a one-sided test at level (1 - confidence) / 2) AND a
// practically relevant size: the fitted rise over the run's span (slope × span) must be at least `minRelativeRise`
// (default 20 %) of the median latency and at least `minRiseMs` (default 10 ms). The interval narrows like 1/√n,
// so at 100k requests any drift is significant; the size rule keeps a small drift from reading as saturation.

/** One observation: when it happened (seconds, any origin; e.g. the request's send time) and its latency (ms). */
export interface TrendPoint {
  t: number;
  ms: number;
}

export interface TrendOptions {
  /** Two-sided confidence of the slope interval (default 0.95). */
  confidence?: number;
  /** Fewer finite points than this is too little data (default 20). */
  minPoints?: number;
  /** The fitted rise over the span must reach this fraction of the median latency to count (default 0.2). */
  minRelativeRise?: number;
  /** ... and this many milliseconds (default 10). */
  minRiseMs?: number;
  /** Above this many points the fit runs on this many time-bin medians (default 300; at least minPoints). */
  maxPoints?: number;
}

export interface LatencyTrend {
  /** Points used: those with a finite time and value (others are dropped, e.g. a failed request's TTFT). */
  n: number;
  /** Points the slope was fitted on: n, or the number of time-bin medians when n > maxPoints. */
  fitPoints: number;
  /** Last time minus first time, seconds; null when there are no points. */
  spanS: number | null;
  /** Theil–Sen slope and its confidence interval, ms of latency per second of run; null when not estimated. */
  slopeMsPerS: number | null;
  lo: number | null;
  hi: number | null;
  confidence: number;
  /** Median latency over all n points, ms. */
  levelMs: number | null;
  /** slope × span: how much the fitted line rises over the run, ms. */
  riseMs: number | null;
  /** riseMs / levelMs; null when not estimated or the level is not positive. */
  relativeRise: number | null;
  rising: boolean;
  /** Why `rising` is what it is, in words. */
  reason: string;
  /** The slope for people, e.g. "+34.0 s per minute [31.0, 37.0]". */
  text: string;
}

const DEFAULTS = { confidence: 0.95, minPoints: 20, minRelativeRise: 0.2, minRiseMs: 10, maxPoints: 300 };

/** Estimates the latency trend of a series and decides whether it is rising. Order of points does not matter. */
export function latencyTrend(points: readonly TrendPoint[], options: TrendOptions = {}): LatencyTrend {
  const o = { ...DEFAULTS, ...options };
  // A bad option is the caller's bug, not the data's; clamp rather than throw so a verdict is always produced.
  const confidence = Number.isFinite(o.confidence) ? Math.min(Math.max(o.confidence, 0.5), 0.999999) : 0.95;
  const minPoints = Math.max(3, Math.floor(o.minPoints));
  const maxPoints = Math.max(minPoints, Math.floor(o.maxPoints));

  const { t, v, sorted } = finiteColumns(points);
  const n = t.length;
  const base = { n, fitPoints: 0, confidence, slopeMsPerS: null, lo: null, hi: null, riseMs: null };
  const none = { ...base, relativeRise: null, rising: false } as const;
  if (n === 0) return { ...none, spanS: null, levelMs: null, reason: 'no points', text: 'no trend (no points)' };

  let tMin = Infinity;
  let tMax = -Infinity;
  for (const x of t) {
    if (x < tMin) tMin = x;
    if (x > tMax) tMax = x;
  }
  const spanS = tMax - tMin;
  const levelMs = median(v.slice());
  if (n < minPoints) {
    const reason = `too few points (${n} < ${minPoints})`;
    return { ...none, spanS, levelMs, reason, text: `no trend (${reason})` };
  }
  const noSpan = {
    ...none,
    spanS,
    levelMs,
    reason: 'no time span (all points at one time)',
    text: 'no trend (no time span)',
  };
  if (!(spanS > 0)) return noSpan;

  const inOrder = sorted ? { x: t, y: v } : sortByTime(t, v, tMin, spanS);
  const fit = n > maxPoints ? binMedians(inOrder.x, inOrder.y, maxPoints) : inOrder;
  const est = theilSen(fit.x, fit.y, confidence);
  if (est === null) return noSpan;

  const riseMs = est.slope * spanS;
  const relativeRise = levelMs > 0 ? riseMs / levelMs : null;
  let rising = false;
  let reason: string;
  if (!(est.lo > 0)) {
    reason = `not rising: the ${pct(confidence)} interval reaches zero or below`;
  } else if (relativeRise === null || relativeRise < o.minRelativeRise || riseMs < o.minRiseMs) {
    reason =
      `not rising: the rise over the run (${round1(riseMs)} ms, ${relativeRise === null ? 'n/a' : pct(relativeRise)}` +
      ` of the median ${round1(levelMs)} ms) is below the minimum (${pct(o.minRelativeRise)} and ${o.minRiseMs} ms)`;
  } else {
    rising = true;
    reason = `rising: +${round1(riseMs)} ms over the run (${pct(relativeRise)} of the median ${round1(levelMs)} ms)`;
  }
  return {
    n,
    fitPoints: fit.x.length,
    spanS,
    slopeMsPerS: est.slope,
    lo: est.lo,
    hi: est.hi,
    confidence,
    levelMs,
    riseMs,
    relativeRise,
    rising,
    reason,
    text: formatSlope(est.slope, est.lo, est.hi),
  };
}

/** Formats a slope in ms/s as a per-minute rise, in s when any of the three reaches 1 s per minute. */
export function formatSlope(slopeMsPerS: number, lo: number, hi: number): string {
  const perMin = [slopeMsPerS * 60, lo * 60, hi * 60];
  const big = Math.max(...perMin.map(Math.abs));
  const [div, unit] = big >= 1000 ? [1000, 's'] : [1, 'ms'];
  const scaled = big / div;
  // One decimal reads well from 1 up; below that keep two significant digits so a slow drift isn't "0.0".
  const decimals = scaled >= 1 || scaled === 0 ? 1 : Math.min(9, 1 - Math.floor(Math.log10(scaled)));
  const f = (x: number): string => {
    const s = (x / div).toFixed(decimals);
    return Number(s) === 0 ? (0).toFixed(decimals) : s; // no "-0.0"
  };
  const [s, l, h] = perMin.map(f) as [string, string, string];
  const sign = Number(s) > 0 ? '+' : '';
  return `${sign}${s} ${unit} per minute [${l}, ${h}]`;
}

interface Estimate {
  slope: number;
  lo: number;
  hi: number;
}

/**
 * Theil–Sen slope with Sen's interval on points sorted by x. Pairs with equal x have no slope and are skipped;
 * the variance of S is corrected for those x ties (as in scipy's theilslopes). Ties in y are not corrected for:
 * they only lower the true variance, so ignoring them widens the interval. Null when no pair has distinct x.
 */
function theilSen(x: Float64Array, y: Float64Array, confidence: number): Estimate | null {
  const m = x.length;
  const slopes = slopeBuffer((m * (m - 1)) / 2);
  let count = 0;
  for (let i = 0; i < m; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    for (let j = i + 1; j < m; j++) {
      const dx = x[j]! - xi;
      if (dx > 0) slopes[count++] = (y[j]! - yi) / dx;
    }
  }
  if (count === 0) return null;
  const a = slopes.subarray(0, count);

  let tieTerm = 0;
  for (let i = 0; i < m; ) {
    let j = i + 1;
    while (j < m && x[j] === x[i]) j++;
    const g = j - i;
    tieTerm += g * (g - 1) * (2 * g + 5);
    i = j;
  }
  const varS = (m * (m - 1) * (2 * m + 5) - tieTerm) / 18;
  const c = normalQuantile(0.5 + confidence / 2) * Math.sqrt(Math.max(varS, 0));
  // 1-based ranks: lower bound is the M1-th smallest slope, upper the (M2 + 1)-th, M1,2 = (N ∓ C) / 2.
  const loRank = clamp(Math.round((count - c) / 2), 1, count);
  const hiRank = clamp(Math.round((count + c) / 2) + 1, 1, count);
  const midHi = count >> 1; // 0-based; for even counts the median averages it with midHi - 1
  const wanted = [loRank - 1, hiRank - 1, midHi, count % 2 === 0 ? midHi - 1 : midHi];
  const ranks = [...new Set(wanted)].sort((p, q) => p - q);
  multiSelect(a, ranks, 0, count - 1);
  const slope = count % 2 === 0 ? (a[midHi - 1]! + a[midHi]!) / 2 : a[midHi]!;
  return { slope, lo: a[loRank - 1]!, hi: a[hiRank - 1]! };
}

// Reused between calls: a fresh 1 MB array per fit costs as much as the fit itself (zeroing plus GC of external
// memory). Safe because a fit runs synchronously and nothing keeps a view of it past the call.
let slopeScratch = new Float64Array(0);
function slopeBuffer(size: number): Float64Array {
  if (slopeScratch.length < size) slopeScratch = new Float64Array(size);
  return slopeScratch;
}

/** Keeps points with a finite t and ms, as columns in input order, and says whether they come in time order. */
function finiteColumns(points: readonly TrendPoint[]): { t: Float64Array; v: Float64Array; sorted: boolean } {
  const t = new Float64Array(points.length);
  const v = new Float64Array(points.length);
  let n = 0;
  let sorted = true;
  for (const p of points) {
    if (!Number.isFinite(p.t) || !Number.isFinite(p.ms)) continue;
    if (n > 0 && p.t < t[n - 1]!) sorted = false;
    t[n] = p.t;
    v[n] = p.ms;
    n++;
  }
  return { t: t.slice(0, n), v: v.slice(0, n), sorted };
}

/**
 * The columns in time order, by a bucket sort: n buckets of equal time width, then an insertion sort inside each
 * (a comparator sort for a crowded one). Send times spread over a run sort in O(n) and bursty ones in no worse
 * than O(n log n); at 100k points this is several times faster than sorting an index array with a comparator.
 */
function sortByTime(
  t: Float64Array,
  v: Float64Array,
  tMin: number,
  span: number,
): { x: Float64Array; y: Float64Array } {
  const n = t.length;
  const bucketOf = new Uint32Array(n);
  const start = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const k = Math.min(n - 1, Math.floor(((t[i]! - tMin) / span) * n));
    bucketOf[i] = k;
    start[k + 1] = start[k + 1]! + 1;
  }
  for (let k = 0; k < n; k++) start[k + 1] = start[k + 1]! + start[k]!;
  const fill = start.slice(0, n);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = bucketOf[i]!;
    const at = fill[k]!;
    fill[k] = at + 1;
    x[at] = t[i]!;
    y[at] = v[i]!;
  }
  for (let k = 0; k < n; k++) {
    const from = start[k]!;
    const to = start[k + 1]!;
    if (to - from <= 32) {
      for (let i = from + 1; i < to; i++) {
        const xi = x[i]!;
        const yi = y[i]!;
        let j = i - 1;
        for (; j >= from && x[j]! > xi; j--) {
          x[j + 1] = x[j]!;
          y[j + 1] = y[j]!;
        }
        x[j + 1] = xi;
        y[j + 1] = yi;
      }
    } else {
      const order = Array.from({ length: to - from }, (_, i) => from + i).sort((i, j) => x[i]! - x[j]!);
      const xs = order.map((i) => x[i]!);
      const ys = order.map((i) => y[i]!);
      x.set(xs, from);
      y.set(ys, from);
    }
  }
  return { x, y };
}

/**
 * Medians of about `bins` equal-count bins of time-sorted columns: x the bin's median time, y its median value
 * (ys is reordered). Bin b holds the times in [edge_b, edge_b+1), the edges being the times at ranks b·n/bins, so
 * tied times never straddle two bins (a tie at an edge goes whole into one bin, leaving an empty bin, skipped).
 */
function binMedians(ts: Float64Array, ys: Float64Array, bins: number): { x: Float64Array; y: Float64Array } {
  const n = ts.length;
  const start = new Uint32Array(bins + 1);
  let i = 0;
  for (let b = 0; b < bins; b++) {
    const edge = ts[Math.floor((b * n) / bins)]!;
    while (i < n && ts[i]! < edge) i++;
    start[b] = i;
  }
  start[bins] = n;
  const x: number[] = [];
  const y: number[] = [];
  for (let b = 0; b < bins; b++) {
    const s = start[b]!;
    const len = start[b + 1]! - s;
    if (len === 0) continue;
    const mid = s + (len >> 1);
    x.push(len % 2 === 1 ? ts[mid]! : (ts[mid - 1]! + ts[mid]!) / 2);
    y.push(median(ys.subarray(s, s + len)));
  }
  return { x: Float64Array.from(x), y: Float64Array.from(y) };
}

/** Median of a non-empty array; reorders it. */
function median(a: Float64Array): number {
  const n = a.length;
  if (n === 0) return NaN;
  const hi = n >> 1;
  if (n % 2 === 1) {
    select(a, hi, 0, n - 1);
    return a[hi]!;
  }
  multiSelect(a, [hi - 1, hi], 0, n - 1);
  return (a[hi - 1]! + a[hi]!) / 2;
}

/** Puts each 0-based rank in `ranks` (sorted ascending, distinct, within [lo, hi]) in its sorted place. */
function multiSelect(a: Float64Array, ranks: readonly number[], lo: number, hi: number): void {
  if (ranks.length === 0) return;
  const mid = ranks.length >> 1;
  const k = ranks[mid]!;
  select(a, k, lo, hi);
  // After selecting k, a[lo..k-1] ≤ a[k] ≤ a[k+1..hi], so the other ranks only need their own side.
  multiSelect(a, ranks.slice(0, mid), lo, k - 1);
  multiSelect(a, ranks.slice(mid + 1), k + 1, hi);
}

/**
 * Floyd–Rivest selection: afterwards a[k] is the k-th smallest of a[lo..hi], with nothing larger before it and
 * nothing smaller after. It first recurses on a small sample around k's expected place, so the partition pivot is
 * nearly exact and the whole costs about 1.5 comparisons per element, half of a plain quickselect; the selects
 * dominate the fit's time. The partition stays linear when many values are equal (an exact line: equal slopes).
 */
function select(a: Float64Array, k: number, lo: number, hi: number): void {
  while (hi > lo) {
    if (hi - lo > 600) {
      const n = hi - lo + 1;
      const i = k - lo + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (i - n / 2 < 0 ? -1 : 1);
      const sampleLo = Math.max(lo, Math.floor(k - (i * s) / n + sd));
      const sampleHi = Math.min(hi, Math.floor(k + ((n - i) * s) / n + sd));
      select(a, k, sampleLo, sampleHi);
    }
    const pivot = a[k]!;
    let i = lo;
    let j = hi;
    swap(a, lo, k);
    if (a[hi]! > pivot) swap(a, lo, hi);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
    }
    if (a[lo] === pivot) swap(a, lo, j);
    else {
      j++;
      swap(a, j, hi);
    }
    if (j <= k) lo = j + 1;
    if (k <= j) hi = j - 1;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const tmp = a[i]!;
  a[i] = a[j]!;
  a[j] = tmp;
}

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9); p in (0, 1). */
export function normalQuantile(p: number): number {
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  const tail = (q: number): number =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < pLow) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - pLow) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

function round1(x: number): string {
  return x.toFixed(1);
}

function pct(x: number): string {
  return `${Number((x * 100).toPrecision(3))} %`;
}
