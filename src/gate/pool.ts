// Pools the repetitions of one target (compare --repeat, a gate over a repeated comparison) into one RunResult
// that thresholds can be evaluated on: latency distributions merged exactly from their histograms, counts summed,
// rates recomputed over the summed measured time, the client healthy only if it was in every repetition and the
// target saturated if it was in any. Unlike metrics/merge.ts (parts that ran at the same time) the repetitions
// ran one after another, so their durations add up. Pure.
import { mergeBlocks } from '../metrics/merge-stats.js';
import { sumRunCounts } from '../metrics/round-aggregator.js';
import { METRIC_NAMES, type MetricBlock, type MetricName, type RunResult } from '../result/schema.js';

function weightedRate(runs: readonly RunResult[], pick: (r: RunResult) => number): number {
  let dur = 0;
  let sum = 0;
  for (const r of runs) {
    const d = r.throughput.measuredDurationS;
    if (!(d > 0)) continue;
    dur += d;
    sum += pick(r) * d;
  }
  return dur > 0 ? sum / dur : 0;
}

function pooledThroughput(runs: readonly RunResult[], first: RunResult): RunResult['throughput'] {
  const launchWindowS = runs.reduce((a, r) => a + r.throughput.launchWindowS, 0);
  const launched = runs.reduce((a, r) => a + r.counts.launched, 0);
  let prompt = 0;
  let cached = 0;
  for (const r of runs) {
    if (r.throughput.cachedTokenShare === null || r.tokens.prompt <= 0) continue;
    prompt += r.tokens.prompt;
    cached += r.throughput.cachedTokenShare * r.tokens.prompt;
  }
  return {
    ...first.throughput,
    measuredDurationS: runs.reduce((a, r) => a + r.throughput.measuredDurationS, 0),
    launchWindowS,
    launchRate: launchWindowS > 0 ? launched / launchWindowS : 0,
    requestThroughput: weightedRate(runs, (r) => r.throughput.requestThroughput),
    inputThroughput: weightedRate(runs, (r) => r.throughput.inputThroughput),
    outputThroughput: weightedRate(runs, (r) => r.throughput.outputThroughput),
    cachedTokenShare: prompt > 0 ? cached / prompt : null,
  };
}

/** One result standing for all of a target's repetitions (the run itself when there is one). */
export function poolRuns(runs: readonly RunResult[]): RunResult {
  const first = runs[0];
  if (!first) throw new RangeError('poolRuns: no runs');
  if (runs.length === 1) return first;
  const metrics = {} as Record<MetricName, MetricBlock>;
  for (const m of METRIC_NAMES) metrics[m] = mergeBlocks(runs.map((r) => r.metrics[m])).block;
  const counts = sumRunCounts(runs);
  const errorsByClass: RunResult['counts']['errorsByClass'] = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.counts.errorsByClass)) errorsByClass[k as keyof typeof errorsByClass] = (errorsByClass[k as keyof typeof errorsByClass] ?? 0) + (v ?? 0);
  const tagged = (pick: (r: RunResult) => readonly string[]): string[] => runs.flatMap((r, i) => pick(r).map((s) => `rep ${i + 1}: ${s}`));
  const saturated = runs.some((r) => r.target.saturated === true);
  return {
    ...first,
    label: `${first.label} (${runs.length} repetitions pooled)`,
    endedAt: runs[runs.length - 1]?.endedAt ?? first.endedAt,
    interrupted: runs.some((r) => r.interrupted),
    target: { ...first.target, saturated, reasons: tagged((r) => r.target.reasons ?? []) },
    counts: { ...first.counts, ...counts, errorsByClass },
    throughput: pooledThroughput(runs, first),
    metrics,
    client: {
      ...first.client,
      healthy: runs.every((r) => r.client.healthy),
      reasons: tagged((r) => r.client.reasons),
      // The worst repetition speaks for the pool: a check on the client must not average a bad run away.
      loopDelayMs: runs.map((r) => r.client.loopDelayMs).reduce((a, b) => (b.p99 > a.p99 ? b : a)),
      cpuShare: Math.max(...runs.map((r) => r.client.cpuShare)),
      senderLag: runs.map((r) => r.client.senderLag).reduce((a, b) => ((b.p99 ?? -1) > (a.p99 ?? -1) ? b : a)),
    },
  };
}
