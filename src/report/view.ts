// The merged per-target view a report renders: each target's runs merged (histograms added exactly for
// percentiles and CDFs, throughput weighted by measured time, counts summed), with any damaged histogram named
// rather than fatal. Pure: html.ts renders it.
import type { CompareTarget } from '../compare/types.js';
import { LatencyStat } from '../metrics/histogram.js';
import { sumRunCounts } from '../metrics/round-aggregator.js';
import type { MetricName, RunResult } from '../result/schema.js';
import { paletteColor } from './svg-charts.js';

const isNum = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

export type CdfMetric = 'ttft_ms' | 'itl_ms' | 'tpot_ms' | 'e2el_ms';
export const MERGED_METRICS: readonly CdfMetric[] = ['ttft_ms', 'itl_ms', 'tpot_ms', 'e2el_ms'];

/** A target's runs merged: histograms for percentiles and CDFs, sums for rates. */
export interface TargetView {
  target: CompareTarget;
  index: number;
  color: string;
  merged: Record<CdfMetric, LatencyStat | null>;
  /** Metrics with a histogram that could not be decoded (named in the notes). */
  undecodable: Set<MetricName>;
  durationS: number;
  requestThroughput: number | null;
  outputThroughput: number | null;
  cachedShare: number | null;
  counts: { launched: number; ok: number; failed: number; cancelled: number; late: number; unsent: number };
}

function mergeRuns(runs: readonly RunResult[], metric: MetricName, problems: string[], who: string, undecodable: Set<MetricName>): LatencyStat | null {
  let acc: LatencyStat | null = null;
  for (const [i, run] of runs.entries()) {
    const b = run.metrics?.[metric];
    if (!b || b.count <= 0 || !isNum(b.min) || !isNum(b.max)) continue;
    try {
      const s = LatencyStat.decode(b.histogram, { count: b.count, sum: b.sum, sumSq: b.sumSq, min: b.min, max: b.max });
      if (acc) acc.merge(s);
      else acc = s;
    } catch (e) {
      // A damaged histogram must not take the whole report down; the reader is told which one.
      undecodable.add(metric);
      problems.push(`${who} run ${i + 1}: the ${metric} histogram could not be decoded (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  return acc;
}

export function buildView(target: CompareTarget, index: number, problems: string[]): TargetView {
  const merged = {} as Record<CdfMetric, LatencyStat | null>;
  const undecodable = new Set<MetricName>();
  for (const m of MERGED_METRICS) merged[m] = mergeRuns(target.runs, m, problems, target.name, undecodable);
  let dur = 0;
  let req = 0;
  let out = 0;
  let cachedW = 0;
  let promptW = 0;
  for (const r of target.runs) {
    const d = r.throughput.measuredDurationS;
    if (isNum(d) && d > 0) {
      dur += d;
      req += r.throughput.requestThroughput * d;
      out += r.throughput.outputThroughput * d;
    }
    if (isNum(r.throughput.cachedTokenShare) && r.tokens.prompt > 0) {
      cachedW += r.throughput.cachedTokenShare * r.tokens.prompt;
      promptW += r.tokens.prompt;
    }
  }
  return {
    target,
    index,
    color: paletteColor(index),
    merged,
    undecodable,
    durationS: dur,
    requestThroughput: dur > 0 ? req / dur : null,
    outputThroughput: dur > 0 ? out / dur : null,
    cachedShare: promptW > 0 ? cachedW / promptW : null,
    counts: sumRunCounts(target.runs),
  };
}
