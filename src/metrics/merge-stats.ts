// Merges distributions: the StatSummary blocks (with their HDR histograms, sums and sums of squares) of the parts
// that merge.ts combines into one RunResult. With every part's histogram the merge is exact; without, only count,
// mean, stddev, min and max are, and the percentiles fall back to count-weighted means. Pure: no IO, no clock.
import type { MetricBlock, StatSummary } from '../result/schema.js';
import { LatencyStat } from './histogram.js';

/** A summary that may carry what an exact merge needs; `histogram` is LatencyStat's encoding ('' or absent: none). */
type Mergeable = StatSummary & { sum?: number; sumSq?: number; histogram?: string };

interface MergedStat {
  summary: StatSummary;
  sum: number;
  sumSq: number;
  /** '' when some part had no histogram (the percentiles are then approximate). */
  histogram: string;
  exact: boolean;
  stat: LatencyStat | null;
}

const momentsOf = (s: Mergeable): { sum: number; sumSq: number } => {
  if (s.count === 0 || s.mean === null) return { sum: 0, sumSq: 0 };
  const sum = s.sum ?? s.mean * s.count;
  const sd = s.stddev ?? 0;
  return { sum, sumSq: s.sumSq ?? s.count * (sd * sd + s.mean * s.mean) };
};

/** Count, sum and sum of squares over summaries: exact, whatever else merges only approximately. */
function totalMoments(list: readonly Mergeable[]): { count: number; sum: number; sumSq: number } {
  let count = 0;
  let sum = 0;
  let sumSq = 0;
  for (const s of list) {
    const m = momentsOf(s);
    count += s.count;
    sum += m.sum;
    sumSq += m.sumSq;
  }
  return { count, sum, sumSq };
}

function minOf(values: (number | null)[]): number | null {
  let m: number | null = null;
  for (const v of values) if (v !== null && (m === null || v < m)) m = v;
  return m;
}

function maxOf(values: (number | null)[]): number | null {
  let m: number | null = null;
  for (const v of values) if (v !== null && (m === null || v > m)) m = v;
  return m;
}

/** Count-weighted mean of the non-null values (the fallback for percentiles without histograms). */
export function weighted(items: readonly { w: number; v: number | null }[]): number | null {
  let w = 0;
  let s = 0;
  for (const x of items) {
    if (x.v === null || x.w <= 0) continue;
    w += x.w;
    s += x.w * x.v;
  }
  return w > 0 ? s / w : null;
}

/**
 * Merges distributions. With every non-empty part's histogram the result is exactly the distribution of all
 * values (the same percentiles as one LatencyStat fed all of them); without, only count, mean, stddev, min and max
 * are exact and the percentiles are count-weighted means of the parts'.
 */
export function mergeStats(list: readonly Mergeable[]): MergedStat {
  const nonEmpty = list.filter((s) => s.count > 0);
  const exact = nonEmpty.every((s) => typeof s.histogram === 'string' && s.histogram.length > 0);
  if (exact) {
    const merged = new LatencyStat();
    for (const s of nonEmpty) {
      const m = momentsOf(s);
      merged.merge(LatencyStat.decode(s.histogram as string, { count: s.count, sum: m.sum, sumSq: m.sumSq, min: s.min ?? Number.POSITIVE_INFINITY, max: s.max ?? Number.NEGATIVE_INFINITY }));
    }
    return { summary: merged.summary(), sum: merged.sum, sumSq: merged.sumSq, histogram: merged.encode(), exact: true, stat: merged };
  }
  const { count, sum, sumSq } = totalMoments(nonEmpty);
  if (count === 0) return { summary: new LatencyStat().summary(), sum: 0, sumSq: 0, histogram: new LatencyStat().encode(), exact: true, stat: null };
  const mean = sum / count;
  const pct = (k: 'p50' | 'p90' | 'p95' | 'p99' | 'p999'): number | null => weighted(nonEmpty.map((s) => ({ w: s.count, v: s[k] })));
  return {
    summary: {
      count,
      mean,
      stddev: Math.sqrt(Math.max(sumSq / count - mean * mean, 0)),
      min: minOf(nonEmpty.map((s) => s.min)),
      max: maxOf(nonEmpty.map((s) => s.max)),
      p50: pct('p50'),
      p90: pct('p90'),
      p95: pct('p95'),
      p99: pct('p99'),
      p999: pct('p999'),
    },
    sum,
    sumSq,
    histogram: '',
    exact: false,
    stat: null,
  };
}

export function mergeBlocks(list: readonly Mergeable[]): { block: MetricBlock; exact: boolean; stat: LatencyStat | null } {
  const m = mergeStats(list);
  return { block: { unit: 'ms', ...m.summary, sum: m.sum, sumSq: m.sumSq, histogram: m.histogram }, exact: m.exact, stat: m.stat };
}

/**
 * The prompt-estimate error: a signed quantity whose histogram is of |error| (see RunRecorder). Mean, stddev, min
 * and max merge from the signed moments; the percentiles (of |error|) from the |error| histograms.
 */
export function mergeSigned(list: readonly (StatSummary & { histogram?: string })[]): { summary: StatSummary & { histogram?: string }; exact: boolean } {
  const nonEmpty = list.filter((s) => s.count > 0);
  const { count, sum, sumSq } = totalMoments(nonEmpty);
  // The |error| histograms: HDR reports a bucket's top, never below the smallest value recorded, so only the upper
  // clamp (max |error|, exact from the signed min and max) matters.
  const abs = mergeStats(
    nonEmpty.map((s) => ({
      ...s,
      sum: 0,
      sumSq: 0,
      min: 0,
      max: Math.max(Math.abs(s.min ?? 0), Math.abs(s.max ?? 0)),
    })),
  );
  if (count === 0) return { summary: { ...new LatencyStat().summary(), histogram: new LatencyStat().encode() }, exact: true };
  const mean = sum / count;
  const a = abs.summary;
  return {
    summary: {
      count,
      mean,
      stddev: Math.sqrt(Math.max(sumSq / count - mean * mean, 0)),
      min: minOf(nonEmpty.map((s) => s.min)),
      max: maxOf(nonEmpty.map((s) => s.max)),
      p50: a.p50,
      p90: a.p90,
      p95: a.p95,
      p99: a.p99,
      p999: a.p999,
      histogram: abs.histogram,
    },
    exact: abs.exact,
  };
}
