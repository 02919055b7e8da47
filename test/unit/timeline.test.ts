// The report's over-time series: bin widths, per-bin nearest-rank percentiles by completion time, tokens spread
// over each request's decode, and the measured start and span taken from the run's windows.
import { describe, expect, it } from 'vitest';
import { timelines } from '../../src/compare/build-report.js';
import { binWidthFor, runTimeline } from '../../src/compare/timeline.js';
import type { RequestSample } from '../../src/compare/types.js';
import type { RunResult } from '../../src/result/schema.js';
import { okSample } from '../helpers/records.js';

/** An ok request sent at sentMs and ending at endMs, TTFT 10 ms, no gaps and no output unless given. */
const sample = (over: Partial<RequestSample> & { sentMs: number; endMs: number }): RequestSample => okSample({ ttftMs: 10, itlMs: [], outputTokens: 0, ...over });

describe('over-time bins', () => {
  it('picks the smallest round width that fits in 30 bins', () => {
    expect(binWidthFor(40)).toBe(2);
    expect(binWidthFor(30)).toBe(1);
    expect(binWidthFor(300)).toBe(10);
    expect(binWidthFor(301)).toBe(15);
    expect(binWidthFor(3600)).toBe(120);
    expect(binWidthFor(30 * 3600 + 1)).toBe(7200);
  });

  it('bins by completion time relative to the measured start, with nearest-rank percentiles per bin', () => {
    // Measured start at 1,000 ms on the samples' clock; a 6 s span gives 1 s bins.
    const s = [
      sample({ sentMs: 900, endMs: 1_500, ttftMs: 40, itlMs: [5, 7] }), // bin 0
      sample({ sentMs: 1_100, endMs: 1_900, ttftMs: 20, itlMs: [9] }), // bin 0
      sample({ sentMs: 1_200, endMs: 1_950, ttftMs: 30 }), // bin 0
      sample({ sentMs: 3_000, endMs: 3_500, ttftMs: 100, outcome: 'failed' }), // bin 2: counted, not in the percentiles
      sample({ sentMs: 4_000, endMs: 6_800, ttftMs: 50 }), // bin 5
      sample({ sentMs: 100, endMs: 500, ttftMs: 1 }), // before the measured start: left out
      sample({ sentMs: 6_000, endMs: 7_500, ttftMs: 1 }), // after the span: left out
      sample({ sentMs: 1_000, endMs: 1_500, ttftMs: 1, rep: 1 }), // another run
    ];
    const tl = runTimeline(s, 0, 1_000, 6);
    expect(tl.binS).toBe(1);
    expect(tl.bins.map((b) => b.startS)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(tl.bins.map((b) => b.completed)).toEqual([3, 0, 1, 0, 0, 1]);
    expect(tl.bins.map((b) => b.failed)).toEqual([0, 0, 1, 0, 0, 0]);
    expect(tl.bins[0]?.ttftP50Ms).toBe(30);
    expect(tl.bins[0]?.ttftP99Ms).toBe(40);
    expect(tl.bins[0]?.itlP99Ms).toBe(9);
    expect(tl.bins[1]?.ttftP50Ms).toBeNull();
    expect(tl.bins[2]?.ttftP99Ms).toBeNull();
    expect(tl.bins[5]?.ttftP50Ms).toBe(50);
  });

  it('spreads output tokens evenly from first token to end, clipped to the span', () => {
    // First token at 1,000 ms (= measured start + 0 s), end at 3,000: 100 tokens over 2 s, 50 in each 1 s bin.
    const a = sample({ sentMs: 990, ttftMs: 10, endMs: 3_000, outputTokens: 100 });
    // First token 500 ms before the measured start, end at 1,500: half of its 30 tokens fall inside.
    const b = sample({ sentMs: 0, ttftMs: 500, endMs: 1_500, outputTokens: 30 });
    const tl = runTimeline([a, b], 0, 1_000, 3);
    expect(tl.bins.map((x) => x.outputTokensPerS)).toEqual([50 + 15, 50, 0]);
    // A last bin cut short by the span: its rate is over the time it covers.
    const c = sample({ sentMs: 2_990, ttftMs: 10, endMs: 3_500, outputTokens: 10 });
    const short = runTimeline([c], 0, 1_000, 2.5);
    expect(short.bins).toHaveLength(3);
    expect(short.bins[2]?.outputTokensPerS).toBeCloseTo(10 / 0.5, 9);
    // A remainder under half a bin joins the last bin instead of making a sliver: 6.3 s in 1 s bins is 6 bins,
    // the last 1.3 s wide, holding the request that ended at 6.2 s.
    const d = sample({ sentMs: 5_990, ttftMs: 10, endMs: 7_200, outputTokens: 26, itlMs: [3] });
    const merged = runTimeline([d], 0, 1_000, 6.3);
    expect(merged.bins).toHaveLength(6);
    expect(merged.bins[5]?.completed).toBe(1);
    expect(merged.bins[5]?.outputTokensPerS).toBeCloseTo(26 / 1.3, 9);
    // A request whose decode lies wholly in the merged remainder (first token at 6.1 s of 6.3) still counts.
    const e = sample({ sentMs: 7_090, ttftMs: 10, endMs: 7_250, outputTokens: 13 });
    expect(runTimeline([e], 0, 1_000, 6.3).bins[5]?.outputTokensPerS).toBeCloseTo(13 / 1.3, 9);
  });

  it('takes each run\'s measured start and span from its windows, and falls back to its samples', () => {
    const withWindows = { windows: [{ startS: 2, endS: 12 }, { startS: 12, endS: 22 }] } as unknown as RunResult;
    const without = { windows: [] } as unknown as RunResult;
    const s = [
      sample({ rep: 0, sentMs: 2_500, endMs: 3_000, ttftMs: 7 }),
      sample({ rep: 1, sentMs: 4_000, endMs: 9_000, ttftMs: 8 }),
      sample({ rep: 1, sentMs: 5_000, endMs: 34_000, ttftMs: 9 }),
    ];
    const [t0, t1] = timelines([withWindows, without], s);
    expect(t0?.spanS).toBe(20);
    expect(t0?.binS).toBe(1);
    expect(t0?.bins[1]?.ttftP50Ms).toBe(7); // ended 1.0 s after the measured start at 2 s
    expect(t1?.spanS).toBe(30); // first send at 4 s to last end at 34 s
    expect(t1?.bins[5]?.ttftP50Ms).toBe(8);
    expect(t1?.bins[t1.bins.length - 1]?.ttftP50Ms).toBe(9); // ends exactly at the span: the last bin
  });
});
