// The one histogram factory. Latencies are recorded in microseconds (ITL is often sub-millisecond) into an
// HDR histogram (3 significant digits, 1 µs .. 1 h, auto-resizing beyond) next to exact count/sum/min/max,
// and summarized in milliseconds. Histograms are stored compressed (base64) so saved runs merge exactly.
import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';
import type * as Hdr from 'hdr-histogram-js';
import type { MetricBlock, StatSummary } from '../result/schema.js';

export const HISTOGRAM_SETTINGS = {
  unit: 'us',
  lowestDiscernibleValue: 1,
  highestTrackableValue: 3_600_000_000,
  numberOfSignificantValueDigits: 3,
} as const;

export type { StatSummary } from '../result/schema.js';

export const PERCENTILES = [50, 90, 95, 99, 99.9] as const;

// hdr-histogram-js's index loads its WebAssembly build, the log reader/writer and pako, half of the package's
// 0.1 CPU-s of start-up (bench/STARTUP.md); a run needs only the float histogram until it encodes at the end. Its
// files are CommonJS without an `exports` map, loaded one by one; test/unit/histogram.test.ts pins that the
// histograms are the package's own (build() gives the same class).
const requireCjs = createRequire(import.meta.url);
type Float64HistogramClass = new (lowest: number, highest: number, digits: number) => Histogram;
const Float64Histogram = (requireCjs('hdr-histogram-js/dist/Float64Histogram.js') as { default: Float64HistogramClass }).default;
let encoding: Pick<typeof Hdr, 'encodeIntoCompressedBase64' | 'decodeFromCompressedBase64'> | undefined;
/** hdr-histogram-js's encoding module, loaded the first time a histogram is encoded or decoded. */
function hdrEncoding(): NonNullable<typeof encoding> {
  encoding ??= requireCjs('hdr-histogram-js/dist/encoding.js') as NonNullable<typeof encoding>;
  return encoding;
}

/** What `hdr.build({ bitBucketSize: 64, autoResize: true, useWebAssembly: false, ... })` gives. */
function newHistogram(): Histogram {
  const h = new Float64Histogram(
    HISTOGRAM_SETTINGS.lowestDiscernibleValue,
    HISTOGRAM_SETTINGS.highestTrackableValue,
    HISTOGRAM_SETTINGS.numberOfSignificantValueDigits,
  );
  h.autoResize = true;
  return h;
}

/**
 * A latency distribution: exact count, sum, sum of squares, min and max, and an HDR histogram for
 * percentiles (relative error <= 0.1%).
 */
export class LatencyStat {
  #h: Histogram;
  count = 0;
  sum = 0;
  sumSq = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor() {
    this.#h = newHistogram();
  }

  /** Records a value in milliseconds; negative values (clock anomalies) are clamped to 0. */
  record(ms: number, count = 1): void {
    if (!(ms >= 0)) ms = 0;
    this.count += count;
    this.sum += ms * count;
    this.sumSq += ms * ms * count;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    const us = Math.round(ms * 1000);
    if (count === 1) this.#h.recordValue(us);
    else this.#h.recordValueWithCount(us, count);
  }

  /** Value at percentile p (0..100) in ms, or null when empty. */
  percentile(p: number): number | null {
    if (this.count === 0) return null;
    // HDR reports the highest value equivalent to the bucket; clamp into the exact observed range.
    const v = this.#h.getValueAtPercentile(p) / 1000;
    return Math.min(Math.max(v, this.min), this.max);
  }

  /** The summary with what merging it exactly needs (workers, saved runs): sums and the encoded histogram. */
  block(): MetricBlock {
    return { unit: 'ms', ...this.summary(), sum: this.sum, sumSq: this.sumSq, histogram: this.encode() };
  }

  summary(): StatSummary {
    if (this.count === 0) {
      return { count: 0, mean: null, stddev: null, min: null, max: null, p50: null, p90: null, p95: null, p99: null, p999: null };
    }
    const mean = this.sum / this.count;
    const variance = Math.max(this.sumSq / this.count - mean * mean, 0);
    return {
      count: this.count,
      mean,
      stddev: Math.sqrt(variance),
      min: this.min,
      max: this.max,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
    };
  }

  /** Compressed base64 HDR histogram (values in µs), mergeable across runs and workers. */
  encode(): string {
    return hdrEncoding().encodeIntoCompressedBase64(this.#h);
  }

  /** Adds another stat's values (exact for count/sum/min/max, bucket-exact for percentiles). */
  merge(other: LatencyStat): void {
    this.count += other.count;
    this.sum += other.sum;
    this.sumSq += other.sumSq;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    this.#h.add(other.#h);
  }

  reset(): void {
    this.#h.reset();
    this.count = 0;
    this.sum = 0;
    this.sumSq = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }

  /** Rebuilds a stat from its encoded form (percentiles exact to the bucket; exact fields from the summary). */
  static decode(encoded: string, exact: { count: number; sum: number; sumSq: number; min: number; max: number }): LatencyStat {
    const s = new LatencyStat();
    s.#h.add(hdrEncoding().decodeFromCompressedBase64(encoded, 64, false));
    Object.assign(s, exact);
    return s;
  }
}
