// Latency and throughput over time at a resolution that suits the run, from the per-request samples: the run's
// --log-interval windows are too coarse for a short run (a 40 s demo has two), so the report bins requests by
// completion time into at most 30 bins of a round width, and spreads each request's output tokens evenly over its
// decode (first token to end), since the samples keep no chunk times. Pure.
import { nearestRank } from './bootstrap.js';
import type { RequestSample } from '../metrics/request-sample.js';

export interface TimelineBin {
  /** Bin start, seconds since the run's measured start. */
  startS: number;
  /** Requests that finished in the bin (any outcome), and those of them that failed. */
  completed: number;
  failed: number;
  /** Nearest-rank percentiles over the ok requests that finished in the bin; null when none did. */
  ttftP50Ms: number | null;
  ttftP99Ms: number | null;
  /** Over every inter-token gap of those requests. */
  itlP99Ms: number | null;
  /** Output tokens streamed in the bin / its width: each ok request's tokens spread evenly from first token to end. */
  outputTokensPerS: number;
}

export interface RunTimeline {
  /** Repetition index: the run this series belongs to. */
  rep: number;
  binS: number;
  /** The run's measured span covered by the bins, seconds. */
  spanS: number;
  bins: TimelineBin[];
}

const WIDTHS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

/** The smallest round width that covers `spanS` in at most `maxBins` bins. */
export function binWidthFor(spanS: number, maxBins = 30): number {
  for (const w of WIDTHS_S) if (spanS / w <= maxBins) return w;
  return Math.ceil(spanS / maxBins / 3600) * 3600;
}

/**
 * One run's series. `measureStartMs` is the run's measured start on its own time origin (the samples' clock);
 * `spanS` how long the measured phase and its drain lasted. Requests finishing outside [0, spanS] are left out.
 */
export function runTimeline(samples: readonly RequestSample[], rep: number, measureStartMs: number, spanS: number, maxBins = 30): RunTimeline {
  const binS = binWidthFor(Math.max(spanS, 1e-3), maxBins);
  let n = Math.max(Math.ceil(spanS / binS - 1e-9), 1);
  // A remainder under half a bin (a run ends a little after its --time) joins the last bin rather than making a
  // sliver whose one or two requests would read as a jump.
  if (n > 1 && spanS - (n - 1) * binS < binS / 2) n--;
  const binEnd = (i: number): number => (i === n - 1 ? Math.max(spanS, (i + 1) * binS) : (i + 1) * binS);
  const acc = Array.from({ length: n }, () => ({ completed: 0, failed: 0, ttft: [] as number[], itl: [] as number[], tokens: 0 }));
  /** Adds `tokens` evenly over [fromS, toS], clipped to the bins. */
  const spread = (tokens: number, fromS: number, toS: number): void => {
    if (tokens <= 0) return;
    if (toS <= fromS) {
      const b = acc[Math.min(Math.max(Math.floor(toS / binS), 0), n - 1)] as (typeof acc)[number];
      b.tokens += tokens;
      return;
    }
    const rate = tokens / (toS - fromS);
    // Clamped like the bin index: a first token past the last whole bin lies in the (merged) last bin.
    for (let i = Math.min(Math.max(Math.floor(fromS / binS), 0), n - 1); i < n && i * binS < toS; i++) {
      const overlap = Math.min(toS, binEnd(i)) - Math.max(fromS, i * binS);
      if (overlap > 0) (acc[i] as (typeof acc)[number]).tokens += rate * overlap;
    }
  };
  for (const s of samples) {
    if (s.rep !== rep) continue;
    const t = (s.endMs - measureStartMs) / 1000;
    if (t < 0 || t > spanS) continue;
    const b = acc[Math.min(Math.floor(t / binS), n - 1)] as (typeof acc)[number];
    b.completed++;
    if (s.outcome === 'failed') b.failed++;
    if (s.outcome !== 'ok') continue;
    if (s.ttftMs !== undefined) b.ttft.push(s.ttftMs);
    for (const g of s.itlMs) b.itl.push(g);
    spread(s.outputTokens ?? 0, (s.sentMs + (s.ttftMs ?? 0) - measureStartMs) / 1000, t);
  }
  const bins = acc.map((b, i): TimelineBin => {
    b.ttft.sort((x, y) => x - y);
    b.itl.sort((x, y) => x - y);
    // The last bin may be shorter or longer than the others: its rate uses the time it covers.
    const width = Math.min(binEnd(i), spanS) - i * binS;
    return {
      startS: i * binS,
      completed: b.completed,
      failed: b.failed,
      ttftP50Ms: nearestRank(b.ttft, 0.5),
      ttftP99Ms: nearestRank(b.ttft, 0.99),
      itlP99Ms: nearestRank(b.itl, 0.99),
      outputTokensPerS: width > 0 ? b.tokens / width : 0,
    };
  });
  return { rep, binS, spanS, bins };
}
