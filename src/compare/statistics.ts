// Compares two targets' request samples: percentile latencies, throughput, goodput and SLO attainment, each
// with a seeded cluster-bootstrap interval (sessions are the resampling unit, paired when both targets ran
// the same sessions), a verdict, and one sentence naming what changed. Pure: no IO.
import { ConfigError } from '../errors.js';
import { requestMeetsSlo } from '../metrics/slo.js';
import { prng } from '../util/prng.js';
import {
  binValues,
  type BinnedValues,
  ClusterHistogram,
  drawWeights,
  EMPTY_BINNED,
  LogBinning,
  nearestRank,
  percentileInterval,
} from './bootstrap.js';
import type {
  ComparedMetric,
  Estimate,
  MetricComparison,
  RequestSample,
  SloSpec,
  TargetComparison,
  TargetSamples,
  Verdict,
} from './types.js';

export const DEFAULT_ITERATIONS = 2000;
export const DEFAULT_CONFIDENCE = 0.95;
export const DEFAULT_SEED = 1;
export const DEFAULT_MIN_EFFECT = 0.01;

export interface CompareOptions {
  /** Bootstrap resamples (default 2000). */
  iterations?: number;
  /** Two-sided interval level in (0, 1) (default 0.95). */
  confidence?: number;
  /** PRNG seed: the same inputs and seed give identical output (default 1). */
  seed?: number;
  /** Adds request_goodput and slo_attainment when given. */
  slo?: SloSpec | null;
  /** The configured QPS, only for the summary sentence. */
  qps?: number;
  /** Relative changes smaller than this are 'no significant difference' even when their interval excludes 1 (default 0.01). */
  minEffect?: number;
}

/** How the numbers are computed, for report footnotes. */
export const COMPARISON_METHOD =
  'Percentile-bootstrap intervals with sessions (rep, user) as the resampling unit, paired when both targets ' +
  'ran the same sessions (latencies then use only rounds ok in both). Point estimates are exact nearest-rank ' +
  'percentiles; resampled percentiles use 0.5%-wide log bins. Verdicts: the ratio interval excludes 1 and the change is at least --min-effect (1% by default). ' +
  'A percentile q needs at least 1/(1-q) values per target (p50: 2, p90: 10, p99: 100) and every statistic ' +
  'at least 2 sessions per target, else "insufficient data" (the point estimates are still given).';

const LATENCY_METRICS = ['ttft_ms', 'itl_ms', 'tpot_ms', 'e2el_ms'] as const;
type LatencyMetric = (typeof LATENCY_METRICS)[number];
const PERCENTILES = [
  ['p50', 0.5],
  ['p90', 0.9],
  ['p99', 0.99],
] as const;
const QS: readonly number[] = PERCENTILES.map(([, q]) => q);
type RateMetric = Exclude<ComparedMetric, LatencyMetric>;

/**
 * Fewest values for a percentile q to be judged: 1/(1-q) (p50: 2, p90: 10, p99: 100). Below that the
 * nearest-rank percentile is the sample maximum in most resamples, so its interval describes the largest
 * value, not the percentile.
 */
export function minValuesFor(q: number): number {
  return Math.ceil(1 / (1 - q) - 1e-9);
}
/** Fewest sessions per target for any interval: one session cannot show session-to-session variation. */
export const MIN_SESSIONS = 2;

interface Stat {
  metric: ComparedMetric;
  stat: MetricComparison['stat'];
  higherIsBetter: boolean;
}

/** The statistics compared, in report order. */
export function comparedStats(withSlo: boolean): Stat[] {
  const out: Stat[] = [];
  for (const metric of LATENCY_METRICS) for (const [stat] of PERCENTILES) out.push({ metric, stat, higherIsBetter: false });
  const rates: RateMetric[] = ['request_throughput', 'output_throughput'];
  if (withSlo) rates.push('request_goodput', 'slo_attainment');
  for (const metric of rates) out.push({ metric, stat: 'value', higherIsBetter: true });
  return out;
}

/** One session of one target, reduced to what a resample needs. */
interface SessionSummary {
  /** Per latency metric, the session's values binned. */
  latency: BinnedValues[];
  ok: number;
  outputTokens: number;
  judged: number;
  met: number;
}

const EMPTY_SESSION: SessionSummary = {
  latency: LATENCY_METRICS.map(() => EMPTY_BINNED),
  ok: 0,
  outputTokens: 0,
  judged: 0,
  met: 0,
};

/** One target prepared for resampling: sessions aligned with the drawn keys, plus exact totals. */
interface Side {
  sessions: SessionSummary[];
  /** Per latency metric: all values ascending (point estimates), their range, sessions having any. */
  sorted: Float64Array[];
  sessionsWith: number[];
  /** Sessions with any sample, and with any judged (not cancelled) request. */
  sessionCount: number;
  judgedSessions: number;
  ok: number;
  outputTokens: number;
  judged: number;
  met: number;
  durationS: number;
}

const sessionKey = (r: RequestSample): string => `${r.rep}:${r.userId}`;
const requestKey = (r: RequestSample): string => `${r.rep}:${r.userId}:${r.round}`;

function groupSessions(samples: readonly RequestSample[]): Map<string, RequestSample[]> {
  const m = new Map<string, RequestSample[]>();
  for (const r of samples) {
    const k = sessionKey(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

/** Session keys in (rep, user) order, so results do not depend on the order samples arrive in. */
function orderedKeys(keys: Iterable<string>): string[] {
  const parsed = [...keys].map((k) => [k, ...k.split(':').map(Number)] as [string, number, number]);
  parsed.sort((a, b) => a[1] - b[1] || a[2] - b[2]);
  return parsed.map(([k]) => k);
}

function okKeys(samples: readonly RequestSample[]): Set<string> {
  const s = new Set<string>();
  for (const r of samples) if (r.outcome === 'ok') s.add(requestKey(r));
  return s;
}

/** A request's values of each latency metric (ITL: all its gaps, so the distribution is pooled). */
function pushLatencies(r: RequestSample, into: number[][]): void {
  const [ttft, itl, tpot, e2el] = into as [number[], number[], number[], number[]];
  if (r.ttftMs !== undefined) ttft.push(r.ttftMs);
  for (const g of r.itlMs) itl.push(g);
  if (r.tpotMs !== undefined) tpot.push(r.tpotMs);
  e2el.push(r.e2elMs);
}

/** Raw per-session latency values of one target; `matched` (paired) keeps only rounds ok in both targets. */
function rawLatencies(groups: Map<string, RequestSample[]>, keys: readonly string[], matched: Set<string> | null): (number[][] | null)[] {
  return keys.map((k) => {
    const list = groups.get(k);
    if (!list) return null;
    const vals: number[][] = LATENCY_METRICS.map(() => []);
    for (const r of list) if (r.outcome === 'ok' && (matched === null || matched.has(requestKey(r)))) pushLatencies(r, vals);
    return vals;
  });
}

function buildSide(
  t: TargetSamples,
  groups: Map<string, RequestSample[]>,
  keys: readonly string[],
  raw: (number[][] | null)[],
  binnings: LogBinning[],
  slo: SloSpec | null,
): Side {
  const side: Side = {
    sessions: [],
    sorted: [],
    sessionsWith: LATENCY_METRICS.map(() => 0),
    sessionCount: 0,
    judgedSessions: 0,
    ok: 0,
    outputTokens: 0,
    judged: 0,
    met: 0,
    durationS: t.durationS,
  };
  const pooled: number[][] = LATENCY_METRICS.map(() => []);
  keys.forEach((k, i) => {
    const list = groups.get(k);
    const vals = raw[i];
    if (!list || !vals) {
      side.sessions.push(EMPTY_SESSION);
      return;
    }
    const s: SessionSummary = { latency: [], ok: 0, outputTokens: 0, judged: 0, met: 0 };
    vals.forEach((v, m) => {
      s.latency.push(binValues(v, binnings[m] as LogBinning));
      if (v.length > 0) (side.sessionsWith[m] as number)++;
      const p = pooled[m] as number[];
      for (const x of v) p.push(x);
    });
    for (const r of list) {
      if (r.outcome === 'ok') {
        s.ok++;
        s.outputTokens += r.outputTokens ?? 0;
      }
      if (slo && r.outcome !== 'cancelled') {
        s.judged++;
        if (requestMeetsSlo(r, slo).met) s.met++;
      }
    }
    side.sessionCount++;
    if (s.judged > 0) side.judgedSessions++;
    side.ok += s.ok;
    side.outputTokens += s.outputTokens;
    side.judged += s.judged;
    side.met += s.met;
    side.sessions.push(s);
  });
  side.sorted = pooled.map((p) => Float64Array.from(p).sort());
  return side;
}

/** One log binning per latency metric, shared by both targets so their resamples are read alike. */
function binningsFor(all: (number[][] | null)[]): LogBinning[] {
  return LATENCY_METRICS.map((_, m) => {
    let minPos = Infinity;
    let max = -Infinity;
    for (const vals of all) {
      if (!vals) continue;
      for (const x of vals[m] as number[]) {
        if (x > 0 && x < minPos) minPos = x;
        if (x > max) max = x;
      }
    }
    return new LogBinning(minPos, max);
  });
}

function clusterHistograms(side: Side, binnings: readonly LogBinning[]): ClusterHistogram[] {
  return binnings.map((b, m) => {
    const sorted = side.sorted[m] as Float64Array;
    const clusters = side.sessions.map((s) => s.latency[m] as BinnedValues);
    return new ClusterHistogram(b, clusters, sorted[0] ?? 0, sorted[sorted.length - 1] ?? 0);
  });
}

/** Exact point estimates of one side in the order of comparedStats (null where undefined). */
function pointValues(side: Side, stats: readonly Stat[]): (number | null)[] {
  return stats.map((s) => {
    const m = LATENCY_METRICS.indexOf(s.metric as LatencyMetric);
    if (m >= 0) return nearestRank(side.sorted[m] as Float64Array, quantileOf(s.stat));
    return rateValue(s.metric as RateMetric, side.ok, side.outputTokens, side.judged, side.met, side.durationS);
  });
}

function rateValue(metric: RateMetric, ok: number, out: number, judged: number, met: number, durationS: number): number | null {
  if (metric === 'slo_attainment') return judged > 0 ? met / judged : null;
  if (!(durationS > 0)) return null;
  if (metric === 'request_throughput') return ok / durationS;
  if (metric === 'output_throughput') return out / durationS;
  return met / durationS;
}

function quantileOf(stat: MetricComparison['stat']): number {
  const p = PERCENTILES.find(([name]) => name === stat);
  return p ? p[1] : Number.NaN;
}

function enoughData(side: Side, s: Stat): boolean {
  const m = LATENCY_METRICS.indexOf(s.metric as LatencyMetric);
  if (m >= 0) {
    const n = (side.sorted[m] as Float64Array).length;
    return (side.sessionsWith[m] as number) >= MIN_SESSIONS && n >= minValuesFor(quantileOf(s.stat));
  }
  if (s.metric === 'slo_attainment') return side.judgedSessions >= MIN_SESSIONS;
  return side.sessionCount >= MIN_SESSIONS && side.durationS > 0;
}

/** Fills replicate `it` of every statistic of one side from the session draw counts `w`. */
function resampleSide(side: Side, w: Uint32Array, hists: ClusterHistogram[], stats: readonly Stat[], reps: Float64Array[], it: number, tmp: Float64Array): void {
  const sessions = side.sessions;
  let ok = 0;
  let out = 0;
  let judged = 0;
  let met = 0;
  for (let i = 0; i < sessions.length; i++) {
    const wi = w[i] as number;
    if (wi === 0) continue;
    const s = sessions[i] as SessionSummary;
    ok += wi * s.ok;
    out += wi * s.outputTokens;
    judged += wi * s.judged;
    met += wi * s.met;
  }
  for (let m = 0; m < LATENCY_METRICS.length; m++) {
    (hists[m] as ClusterHistogram).quantiles(w, QS, tmp);
    for (let p = 0; p < QS.length; p++) (reps[m * QS.length + p] as Float64Array)[it] = tmp[p] as number;
  }
  for (let k = LATENCY_METRICS.length * QS.length; k < stats.length; k++) {
    const v = rateValue((stats[k] as Stat).metric as RateMetric, ok, out, judged, met, side.durationS);
    (reps[k] as Float64Array)[it] = v ?? Number.NaN;
  }
}

const finiteOrNull = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

function estimate(value: number | null, reps: Float64Array, confidence: number, enough: boolean): Estimate {
  const ci = enough ? percentileInterval(reps, confidence) : null;
  return { value: finiteOrNull(value ?? undefined), lo: finiteOrNull(ci?.lo), hi: finiteOrNull(ci?.hi) };
}

/**
 * The verdict from the ratio interval (candidate / baseline): entirely below 1 means lower, entirely above
 * means higher; which of those is 'better' depends on the metric. When the ratio has no finite interval (a
 * baseline of 0 in some resamples) the difference interval decides, which agrees in sign.
 */
function verdictOf(ratio: Estimate, difference: Estimate, higherIsBetter: boolean, minEffect: number): Verdict {
  // A change smaller than --min-effect is no difference worth a verdict, however narrow its interval: paired
  // resamples of the same requests make e.g. throughput intervals nearly zero-width around a 0.2% change.
  if (ratio.value !== null && Math.abs(ratio.value - 1) < minEffect) return ratio.lo === null || ratio.hi === null ? 'insufficient data' : 'no significant difference';
  let lower: boolean;
  let higher: boolean;
  if (ratio.lo !== null && ratio.hi !== null) {
    lower = ratio.hi < 1;
    higher = ratio.lo > 1;
  } else if (difference.lo !== null && difference.hi !== null) {
    lower = difference.hi < 0;
    higher = difference.lo > 0;
  } else return 'insufficient data';
  if (!lower && !higher) return 'no significant difference';
  return lower !== higherIsBetter ? 'better' : 'worse';
}

function validate(iterations: number, confidence: number): void {
  const issues = [];
  if (!Number.isInteger(iterations) || iterations < 1) {
    issues.push({ field: 'iterations', value: iterations, allowed: 'an integer >= 1 (bootstrap resamples; 2000 by default)' });
  }
  if (!(confidence > 0 && confidence < 1)) {
    issues.push({ field: 'confidence', value: confidence, allowed: 'a number between 0 and 1, e.g. 0.95' });
  }
  if (issues.length > 0) throw new ConfigError(issues);
}

/**
 * Compares candidate against baseline. Sessions (rep, user) are resampled with replacement, as many as there
 * are, and every statistic is recomputed from the drawn sessions' requests. When the targets share sessions
 * the same keys are drawn for both (paired, over the union of their sessions, so a session only one target
 * has still counts towards its throughput), and latencies use only rounds ok in both targets; otherwise each
 * target's sessions are resampled independently. Throughputs divide by the fixed measured duration.
 */
export function compareTargets(baseline: TargetSamples, candidate: TargetSamples, opts: CompareOptions = {}): TargetComparison {
  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  const slo = opts.slo ?? null;
  const minEffect = opts.minEffect ?? DEFAULT_MIN_EFFECT;
  validate(iterations, confidence);
  const stats = comparedStats(slo !== null);

  const gb = groupSessions(baseline.samples);
  const gc = groupSessions(candidate.samples);
  let shared = 0;
  for (const k of gb.keys()) if (gc.has(k)) shared++;
  const paired = shared > 0;
  const okB = okKeys(baseline.samples);
  const okC = okKeys(candidate.samples);
  const matched = new Set<string>();
  for (const k of okB) if (okC.has(k)) matched.add(k);

  const keysB = paired ? orderedKeys(new Set([...gb.keys(), ...gc.keys()])) : orderedKeys(gb.keys());
  const keysC = paired ? keysB : orderedKeys(gc.keys());
  const rawB = rawLatencies(gb, keysB, paired ? matched : null);
  const rawC = rawLatencies(gc, keysC, paired ? matched : null);
  const binnings = binningsFor([...rawB, ...rawC]);
  const sideB = buildSide(baseline, gb, keysB, rawB, binnings, slo);
  const sideC = buildSide(candidate, gc, keysC, rawC, binnings, slo);

  const repsB = stats.map(() => new Float64Array(iterations));
  const repsC = stats.map(() => new Float64Array(iterations));
  const histsB = clusterHistograms(sideB, binnings);
  const histsC = clusterHistograms(sideC, binnings);
  const wB = new Uint32Array(keysB.length);
  const wC = paired ? wB : new Uint32Array(keysC.length);
  const tmp = new Float64Array(QS.length);
  const rand = prng(opts.seed ?? DEFAULT_SEED);
  for (let it = 0; it < iterations; it++) {
    drawWeights(rand, wB);
    if (!paired) drawWeights(rand, wC);
    resampleSide(sideB, wB, histsB, stats, repsB, it, tmp);
    resampleSide(sideC, wC, histsC, stats, repsC, it, tmp);
  }

  const valuesB = pointValues(sideB, stats);
  const valuesC = pointValues(sideC, stats);
  const metrics = stats.map((s, k): MetricComparison => {
    const enoughB = enoughData(sideB, s);
    const enoughC = enoughData(sideC, s);
    const both = enoughB && enoughC;
    const rb = repsB[k] as Float64Array;
    const rc = repsC[k] as Float64Array;
    const diff = new Float64Array(iterations);
    const ratio = new Float64Array(iterations);
    for (let i = 0; i < iterations; i++) {
      const b = rb[i] as number;
      const c = rc[i] as number;
      diff[i] = c - b;
      // 0/0 is "both zero": no change. c/0 is an unbounded rise, kept so the interval reflects it.
      ratio[i] = b > 0 ? c / b : c > 0 ? Infinity : c === 0 ? 1 : Number.NaN;
    }
    const vb = valuesB[k] ?? null;
    const vc = valuesC[k] ?? null;
    const difference = estimate(vb !== null && vc !== null ? vc - vb : null, diff, confidence, both);
    const ratioEst = estimate(vb !== null && vc !== null && vb > 0 ? vc / vb : null, ratio, confidence, both);
    return {
      metric: s.metric,
      stat: s.stat,
      higherIsBetter: s.higherIsBetter,
      baseline: estimate(vb, rb, confidence, enoughB),
      candidate: estimate(vc, rc, confidence, enoughC),
      difference,
      ratio: ratioEst,
      verdict: both ? verdictOf(ratioEst, difference, s.higherIsBetter, minEffect) : 'insufficient data',
    };
  });

  const cmp: TargetComparison = {
    baseline: baseline.name,
    candidate: candidate.name,
    paired,
    sessions: paired ? shared : Math.min(gb.size, gc.size),
    matchedRequests: matched.size,
    iterations,
    confidence,
    metrics,
    sentence: '',
  };
  cmp.sentence = summarySentence(cmp, opts.qps);
  return cmp;
}

const METRIC_LABEL: Record<ComparedMetric, string> = {
  ttft_ms: 'TTFT',
  itl_ms: 'ITL',
  tpot_ms: 'TPOT',
  e2el_ms: 'E2EL',
  request_throughput: 'request throughput',
  output_throughput: 'output throughput',
  request_goodput: 'goodput',
  slo_attainment: 'SLO attainment',
};

/** "p99 ITL", "output throughput". */
export function statLabel(m: Pick<MetricComparison, 'metric' | 'stat'>): string {
  return m.stat === 'value' ? METRIC_LABEL[m.metric] : `${m.stat} ${METRIC_LABEL[m.metric]}`;
}

/** Percent with no decimals from 10% up, one below (a 2.4% change should not print as 2%). */
function pct(x: number): string {
  const v = Math.abs(x) >= 10 ? Math.round(x) : Math.round(x * 10) / 10;
  return `${Object.is(v, -0) ? 0 : v}%`;
}

/** "cut p99 ITL by 41% [35%, 47%]" for one significant change. */
function changePhrase(m: MetricComparison): string {
  const better = m.verdict === 'better';
  const up = better === m.higherIsBetter;
  const verb = up ? 'raised' : m.higherIsBetter ? 'lowered' : 'cut';
  const label = statLabel(m);
  const { value, lo, hi } = m.ratio;
  if (value !== null && lo !== null && hi !== null) {
    const [a, b, c] = up ? [value - 1, lo - 1, hi - 1] : [1 - value, 1 - hi, 1 - lo];
    return `${verb} ${label} by ${pct(a * 100)} [${pct(b * 100)}, ${pct(c * 100)}]`;
  }
  // No finite ratio (the baseline was 0): state the absolute change instead.
  const d = m.difference;
  const num = (x: number | null): string => (x === null ? '?' : String(Number(Math.abs(x).toPrecision(3))));
  const [dlo, dhi] = up ? [d.lo, d.hi] : [d.hi, d.lo];
  return `${verb} ${label} by ${num(d.value)} [${num(dlo)}, ${num(dhi)}] (absolute)`;
}

function joinList(parts: readonly string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1] as string}`;
}

/**
 * One sentence naming the significant changes, largest relative change first, at most 3 (one per metric
 * and direction, so three percentiles of one metric do not crowd out the rest), e.g. "pd cut p99 ITL by 41%
 * [35%, 47%] and raised p50 TTFT by 12% [8%, 15%] against colocated at 1.1 QPS". Percentages are
 * (ratio - 1) and its interval.
 */
export function summarySentence(cmp: TargetComparison, qps?: number): string {
  const at = qps !== undefined && Number.isFinite(qps) ? ` at ${Number(qps.toFixed(3))} QPS` : '';
  const significant = cmp.metrics.filter((m) => m.verdict === 'better' || m.verdict === 'worse');
  const size = (m: MetricComparison): number => (m.ratio.value !== null ? Math.abs(m.ratio.value - 1) : Infinity);
  significant.sort((a, b) => size(b) - size(a));
  const picked: MetricComparison[] = [];
  const seen = new Set<string>();
  for (const m of significant) {
    const key = `${m.metric}:${m.verdict}`;
    if (seen.has(key)) continue;
    seen.add(key);
    picked.push(m);
    if (picked.length === 3) break;
  }
  if (picked.length > 0) return `${cmp.candidate} ${joinList(picked.map(changePhrase))} against ${cmp.baseline}${at}`;

  const insufficient = cmp.metrics.filter((m) => m.verdict === 'insufficient data').length;
  if (insufficient === cmp.metrics.length) {
    return `${cmp.candidate} and ${cmp.baseline} have too little data to compare${at} (${cmp.sessions} sessions)`;
  }
  const hasGoodput = cmp.metrics.some((m) => m.metric === 'request_goodput');
  const what = hasGoodput ? 'TTFT, ITL, TPOT, E2EL, throughput or goodput' : 'TTFT, ITL, TPOT, E2EL or throughput';
  const gap = insufficient > 0 ? `; too little data for ${insufficient} of ${cmp.metrics.length} statistics` : '';
  const level = `${Number((cmp.confidence * 100).toFixed(1))}%`;
  return `${cmp.candidate} and ${cmp.baseline} show no significant difference in ${what}${at} (${cmp.sessions} sessions, ${level} intervals${gap})`;
}
