// Generic cluster-bootstrap machinery for comparisons: multinomial session weights from a seeded PRNG, values
// pre-binned per cluster into log-spaced bins so one resample's percentiles cost a sparse merge and a scan,
// nearest-rank quantiles, and percentile intervals. Knows nothing about requests or metrics. No IO.

/**
 * Relative bin width: 0.5%, like HDR precision. A resampled percentile is read inside its bin by interpolation,
 * so it is off from the exact one by less than a bin (0.5%), usually far less; resampling noise is larger.
 */
export const BIN_RELATIVE_WIDTH = 0.005;
const LN_STEP = Math.log1p(BIN_RELATIVE_WIDTH);
/** Below this (ms) values share bin 0; only zeros and clock noise live there. */
const LOWEST_BINNED = 1e-6;

/** Nearest-rank quantile of ascending values (HDR's "value at percentile"): the ceil(q*n)-th smallest. */
export function nearestRank(sorted: ArrayLike<number>, q: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  return sorted[rankOf(q, n) - 1] as number;
}

/** 1-based nearest rank of quantile q among n values; the 1e-9 keeps q*n that should be whole from rounding up. */
export function rankOf(q: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(q * n - 1e-9)));
}

/** Log-spaced bins from the smallest positive value seen up to the largest. */
export class LogBinning {
  readonly #low: number;
  readonly #inv: number;
  /** Number of bins (bin 0 holds values below the lowest positive one, e.g. zero gaps). */
  readonly size: number;

  constructor(minPositive: number, max: number) {
    this.#low = Number.isFinite(minPositive) && minPositive > LOWEST_BINNED ? minPositive : LOWEST_BINNED;
    this.#inv = 1 / LN_STEP;
    this.size = this.bin(Number.isFinite(max) ? max : this.#low) + 1;
  }

  bin(v: number): number {
    if (!(v >= this.#low)) return 0;
    return 1 + Math.floor(Math.log(v / this.#low) * this.#inv);
  }

  /**
   * A point inside a bin, `frac` of the way from its lower to its upper edge on the log scale (0.5: the
   * geometric midpoint); 0 for bin 0. Callers clamp to the observed range.
   */
  value(bin: number, frac = 0.5): number {
    return bin === 0 ? 0 : this.#low * Math.exp((bin - 1 + frac) * LN_STEP);
  }
}

/** One cluster's values as sparse (bin, count) pairs, ascending by bin. */
export interface BinnedValues {
  bins: Uint32Array;
  counts: Uint32Array;
  /** Number of values (sum of counts). */
  n: number;
}

export const EMPTY_BINNED: BinnedValues = { bins: new Uint32Array(0), counts: new Uint32Array(0), n: 0 };

export function binValues(values: ArrayLike<number>, binning: LogBinning): BinnedValues {
  const n = values.length;
  if (n === 0) return EMPTY_BINNED;
  const raw = new Uint32Array(n);
  for (let i = 0; i < n; i++) raw[i] = binning.bin(values[i] as number);
  raw.sort();
  let distinct = 1;
  for (let i = 1; i < n; i++) if (raw[i] !== raw[i - 1]) distinct++;
  const bins = new Uint32Array(distinct);
  const counts = new Uint32Array(distinct);
  let k = 0;
  bins[0] = raw[0] as number;
  for (let i = 0; i < n; i++) {
    if (raw[i] !== bins[k]) bins[++k] = raw[i] as number;
    counts[k] = (counts[k] as number) + 1;
  }
  return { bins, counts, n };
}

/** Fine bins per coarse block in the two-level search: 16 keeps both levels' per-cluster lists short. */
const BLOCK_SHIFT = 4;
const BLOCK = 1 << BLOCK_SHIFT;
/** Clusters with more distinct bins than this on average use the two-level search (e.g. ITL's many gaps). */
const TWO_LEVEL_ABOVE = 24;

/**
 * The clusters of one metric of one target, ready to give a resample's percentiles from its cluster draw
 * counts. A resample's histogram is the weighted sum of the clusters' sparse histograms. Clusters with few
 * distinct bins (TTFT: one value per request) are summed into a dense array and scanned. Clusters with many
 * (ITL: hundreds of gaps per session) would make that sum the whole cost, so they are first summed per block of
 * 16 bins, and only the blocks holding a wanted rank are summed bin by bin; both give the same numbers.
 */
export class ClusterHistogram {
  readonly #binning: LogBinning;
  readonly #clusters: readonly BinnedValues[];
  readonly #min: number;
  readonly #max: number;
  readonly #twoLevel: boolean;
  /** Dense sums: per bin (direct) or per block (two-level), and the bins of one block. */
  readonly #dense: Float64Array;
  readonly #fine = new Float64Array(BLOCK);
  /** Two-level: per cluster, its blocks ascending, their counts, and where each starts in the cluster's bins. */
  readonly #blocks: Uint32Array[] = [];
  readonly #blockCounts: Uint32Array[] = [];
  readonly #blockStart: Uint32Array[] = [];
  readonly #drawn: Uint32Array;
  /** Direct: the bin range written by the last resample (-1: none). */
  #usedFrom = 0;
  #used = -1;

  /** `min`/`max`: the observed range of the values, which every result is clamped to. */
  constructor(binning: LogBinning, clusters: readonly BinnedValues[], min: number, max: number) {
    this.#binning = binning;
    this.#clusters = clusters;
    this.#min = min;
    this.#max = max;
    this.#drawn = new Uint32Array(clusters.length);
    let distinct = 0;
    let nonEmpty = 0;
    for (const c of clusters) {
      distinct += c.bins.length;
      if (c.n > 0) nonEmpty++;
    }
    this.#twoLevel = nonEmpty > 0 && distinct / nonEmpty > TWO_LEVEL_ABOVE;
    if (!this.#twoLevel) {
      this.#dense = new Float64Array(binning.size);
      return;
    }
    this.#dense = new Float64Array((binning.size >>> BLOCK_SHIFT) + 1);
    for (const c of clusters) this.#splitBlocks(c);
  }

  #splitBlocks(c: BinnedValues): void {
    const k = c.bins.length;
    let nb = 0;
    for (let j = 0; j < k; j++) if (j === 0 || (c.bins[j] as number) >>> BLOCK_SHIFT !== (c.bins[j - 1] as number) >>> BLOCK_SHIFT) nb++;
    const blocks = new Uint32Array(nb);
    const counts = new Uint32Array(nb);
    const start = new Uint32Array(nb + 1);
    let b = -1;
    for (let j = 0; j < k; j++) {
      const blk = (c.bins[j] as number) >>> BLOCK_SHIFT;
      if (b < 0 || blk !== blocks[b]) {
        blocks[++b] = blk;
        start[b] = j;
      }
      counts[b] = (counts[b] as number) + (c.counts[j] as number);
    }
    start[nb] = k;
    this.#blocks.push(blocks);
    this.#blockCounts.push(counts);
    this.#blockStart.push(start);
  }

  /**
   * Nearest-rank quantiles for ascending `qs` of the resample with cluster draw counts `weights`, written to
   * `out` (NaN when the resample has no values), clamped to [min, max]. The bin is the one holding the
   * nearest rank; within it the cumulative distribution is taken as linear (on the log scale) and inverted at
   * q: returning the bin's midpoint instead would make the resampled percentile a staircase, and when sampling
   * noise is smaller than a bin (large, tight ITL samples) two nearly equal targets straddling a bin edge
   * would get a zero-width interval around a one-bin difference, a false 'significant'.
   */
  quantiles(weights: Uint32Array, qs: readonly number[], out: Float64Array): void {
    if (this.#twoLevel) this.#twoLevelQuantiles(weights, qs, out);
    else this.#directQuantiles(weights, qs, out);
  }

  #directQuantiles(w: Uint32Array, qs: readonly number[], out: Float64Array): void {
    const d = this.#dense;
    if (this.#used >= 0) d.fill(0, this.#usedFrom, this.#used + 1);
    let total = 0;
    let lowest = d.length;
    let highest = -1;
    for (let s = 0; s < this.#clusters.length; s++) {
      const ws = w[s] as number;
      if (ws === 0) continue;
      const c = this.#clusters[s] as BinnedValues;
      const bins = c.bins;
      const counts = c.counts;
      const k = bins.length;
      if (k === 0) continue;
      for (let j = 0; j < k; j++) {
        const b = bins[j] as number;
        d[b] = (d[b] as number) + ws * (counts[j] as number);
      }
      total += ws * c.n;
      if ((bins[0] as number) < lowest) lowest = bins[0] as number;
      if ((bins[k - 1] as number) > highest) highest = bins[k - 1] as number;
    }
    // Only the touched range needs clearing next time: the dense array can be thousands of bins wide.
    this.#usedFrom = lowest;
    this.#used = highest;
    if (total === 0) {
      out.fill(Number.NaN, 0, qs.length);
      return;
    }
    let cum = 0;
    let b = lowest;
    for (let i = 0; i < qs.length; i++) {
      const rank = rankOf(qs[i] as number, total);
      while (cum + (d[b] as number) < rank) cum += d[b++] as number;
      out[i] = this.#valueAt(b, (qs[i] as number) * total - cum, d[b] as number);
    }
  }

  #twoLevelQuantiles(w: Uint32Array, qs: readonly number[], out: Float64Array): void {
    const coarse = this.#dense;
    coarse.fill(0);
    const drawn = this.#drawn;
    let nd = 0;
    let total = 0;
    let lowest = coarse.length;
    for (let s = 0; s < this.#clusters.length; s++) {
      const ws = w[s] as number;
      if (ws === 0) continue;
      const c = this.#clusters[s] as BinnedValues;
      if (c.n === 0) continue;
      drawn[nd++] = s;
      const blocks = this.#blocks[s] as Uint32Array;
      const counts = this.#blockCounts[s] as Uint32Array;
      for (let j = 0; j < blocks.length; j++) {
        const b = blocks[j] as number;
        coarse[b] = (coarse[b] as number) + ws * (counts[j] as number);
      }
      total += ws * c.n;
      if ((blocks[0] as number) < lowest) lowest = blocks[0] as number;
    }
    if (total === 0) {
      out.fill(Number.NaN, 0, qs.length);
      return;
    }
    const fine = this.#fine;
    let cum = 0;
    let blk = lowest;
    let filled = -1;
    for (let i = 0; i < qs.length; i++) {
      const rank = rankOf(qs[i] as number, total);
      while (cum + (coarse[blk] as number) < rank) cum += coarse[blk++] as number;
      if (filled !== blk) {
        this.#fillBlock(blk, w, nd);
        filled = blk;
      }
      let f = 0;
      let c = cum;
      while (c + (fine[f] as number) < rank) c += fine[f++] as number;
      out[i] = this.#valueAt((blk << BLOCK_SHIFT) + f, (qs[i] as number) * total - c, fine[f] as number);
    }
  }

  /** Sums the drawn clusters' bins inside block `blk` into #fine. */
  #fillBlock(blk: number, w: Uint32Array, nd: number): void {
    const fine = this.#fine;
    fine.fill(0);
    const base = blk << BLOCK_SHIFT;
    for (let i = 0; i < nd; i++) {
      const s = this.#drawn[i] as number;
      const blocks = this.#blocks[s] as Uint32Array;
      // Binary search for the block in this cluster's ascending block list.
      let lo = 0;
      let hi = blocks.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((blocks[mid] as number) < blk) lo = mid + 1;
        else hi = mid;
      }
      if (blocks[lo] !== blk) continue;
      const start = this.#blockStart[s] as Uint32Array;
      const c = this.#clusters[s] as BinnedValues;
      const ws = w[s] as number;
      for (let j = start[lo] as number; j < (start[lo + 1] as number); j++) {
        const f = (c.bins[j] as number) - base;
        fine[f] = (fine[f] as number) + ws * (c.counts[j] as number);
      }
    }
  }

  /** The value `into` of the way through a bin holding `inBin` (weighted) values, clamped to [min, max]. */
  #valueAt(bin: number, into: number, inBin: number): number {
    const frac = into <= 0 ? 0 : into >= inBin ? 1 : into / inBin;
    const v = this.#binning.value(bin, frac);
    return v < this.#min ? this.#min : v > this.#max ? this.#max : v;
  }
}

/**
 * Draws n of n clusters with replacement and writes how often each was drawn (a multinomial count vector), so
 * a resample is a weighted sum of per-cluster summaries instead of a copy of the data.
 */
export function drawWeights(rand: () => number, weights: Uint32Array): void {
  const n = weights.length;
  weights.fill(0);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rand() * n);
    weights[k] = (weights[k] as number) + 1;
  }
}

/**
 * Percentile-bootstrap interval at `confidence` (two-sided, equal tails) over the defined (non-NaN)
 * replicates, with linear interpolation between order statistics; null when fewer than half are defined (the
 * statistic was undefined in too many resamples to mean anything). Infinite replicates (a ratio over a zero)
 * are kept, so an endpoint may be infinite.
 */
export function percentileInterval(replicates: Float64Array, confidence: number): { lo: number; hi: number } | null {
  const defined = replicates.filter((v) => !Number.isNaN(v)).sort();
  const n = defined.length;
  if (n === 0 || n * 2 < replicates.length) return null;
  const tail = (1 - confidence) / 2;
  return { lo: interpolate(defined, tail), hi: interpolate(defined, 1 - tail) };
}

function interpolate(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  const lo = sorted[i] as number;
  const hi = sorted[Math.min(i + 1, sorted.length - 1)] as number;
  // Equal neighbours (or an exact order statistic) need no arithmetic, which also keeps Infinity out of 0*Inf.
  if (pos === i || lo === hi) return lo;
  return lo + (hi - lo) * (pos - i);
}
