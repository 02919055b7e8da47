// Latency trend detector: exact answers on lines (with and without outliers), the size rule and the no-data paths,
// then measured error rates on seeded synthetic runs: false positives on flat heavy-tailed series and detection on
// ramps of a stated size. The measured rates are printed for the closing note.
import { describe, expect, it } from 'vitest';
import { formatSlope, latencyTrend, normalQuantile, type TrendPoint } from '../../src/metrics/trend.js';
import { mixSeed, prng } from '../../src/util/prng.js';

function gaussian(rand: () => number): number {
  // Box–Muller; 1 - u keeps the log away from 0.
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * A synthetic run: n requests at uniform random times over 60–600 s, listed in random order (as completion order
 * would be), latency level 50–2000 ms scaled by (1 + ramp · t / duration), so ramp 1 doubles it over the run;
 * lognormal noise (sigma 0.5: p99 ≈ 3.2 × median) and 1 % outliers of 10–50 × the level.
 */
function syntheticRun(seed: number, n: number, ramp: number): TrendPoint[] {
  const rand = prng(seed);
  const duration = 60 + 540 * rand();
  const level = 50 + 1950 * rand();
  const points: TrendPoint[] = [];
  for (let i = 0; i < n; i++) {
    const t = duration * rand();
    let ms = level * (1 + (ramp * t) / duration) * Math.exp(0.5 * gaussian(rand));
    if (rand() < 0.01) ms *= 10 + 40 * rand();
    points.push({ t, ms });
  }
  return points;
}

/** n log-uniform over [lo, hi], so short and long runs are equally represented per decade. */
function logUniformN(seed: number, lo: number, hi: number): number {
  return Math.round(lo * Math.exp(prng(seed)() * Math.log(hi / lo)));
}

interface Rate {
  rate: number;
  byN: Record<string, string>;
}

/** Share of `runs` seeded runs called rising, overall and by n band. */
function risingRate(runs: number, ramp: number, nLo: number, nHi: number, stream: number): Rate {
  const bands: Array<[number, number, number]> = [[30, 0, 0], [60, 0, 0], [200, 0, 0], [600, 0, 0]];
  let hits = 0;
  for (let s = 0; s < runs; s++) {
    const n = logUniformN(mixSeed(stream, 1, s), nLo, nHi);
    const rising = latencyTrend(syntheticRun(mixSeed(stream, 2, s), n, ramp)).rising;
    if (rising) hits++;
    const band = [...bands].reverse().find(([from]) => n >= from);
    if (band !== undefined) {
      band[2]++;
      if (rising) band[1]++;
    }
  }
  const byN: Record<string, string> = {};
  bands.forEach(([from, h, total], i) => {
    if (total > 0) byN[`n ${from}${i + 1 < bands.length ? `-${bands[i + 1]![0] - 1}` : '+'}`] = `${h}/${total}`;
  });
  return { rate: hits / runs, byN };
}

/** n points at t = 0, 1, ... n - 1 s with latency f(t). */
const line = (n: number, f: (t: number) => number): TrendPoint[] =>
  Array.from({ length: n }, (_, t) => ({ t, ms: f(t) }));

describe('latencyTrend known answers', () => {
  it('an exact line gives its slope, a zero-width interval and a rising verdict', () => {
    const r = latencyTrend(line(60, (t) => 200 + 5 * t));
    expect(r.n).toBe(60);
    expect(r.fitPoints).toBe(60);
    expect(r.spanS).toBe(59);
    expect(r.slopeMsPerS).toBeCloseTo(5, 12);
    expect(r.lo).toBeCloseTo(5, 12);
    expect(r.hi).toBeCloseTo(5, 12);
    expect(r.levelMs).toBe(347.5);
    expect(r.riseMs).toBeCloseTo(295, 9);
    expect(r.relativeRise).toBeCloseTo(295 / 347.5, 9);
    expect(r.rising).toBe(true);
    expect(r.text).toBe('+300.0 ms per minute [300.0, 300.0]');
  });

  it('a line with 10 % huge outliers keeps its exact slope (OLS would not)', () => {
    const pts = line(60, (t) => (t % 10 === 3 ? 100_000 : 200 + 5 * t));
    const r = latencyTrend(pts);
    expect(r.slopeMsPerS).toBeCloseTo(5, 9);
    expect(r.lo).toBeCloseTo(5, 9);
    expect(r.hi).toBeCloseTo(5, 9);
    expect(r.rising).toBe(true);
    const flat = latencyTrend(line(60, (t) => (t % 10 === 3 ? 100_000 : 300)));
    expect(flat.slopeMsPerS).toBe(0);
    expect(flat.rising).toBe(false);
    expect(flat.reason).toMatch(/interval reaches zero/);
    expect(flat.text).toBe('0.0 ms per minute [0.0, 0.0]');
  });

  it('a falling series is not rising', () => {
    const r = latencyTrend(line(40, (t) => 1000 - 10 * t));
    expect(r.slopeMsPerS).toBeCloseTo(-10, 9);
    expect(r.rising).toBe(false);
    expect(r.text).toBe('-600.0 ms per minute [-600.0, -600.0]');
  });

  it('gives the same answer whatever the order of the points, on both the exact and the binned path', () => {
    for (const n of [200, 5000]) {
      const pts = syntheticRun(mixSeed(11, n), n, 1);
      const sorted = [...pts].sort((a, b) => a.t - b.t);
      const reversed = [...sorted].reverse();
      const r = latencyTrend(sorted);
      expect(r.fitPoints).toBe(n > 300 ? 300 : n);
      expect(latencyTrend(pts)).toEqual(r);
      expect(latencyTrend(reversed)).toEqual(r);
    }
    // Bursty sends (10 bursts of 500 within 10 ms each) crowd the time buckets of the sort.
    const rand = prng(12);
    const bursts = Array.from({ length: 5000 }, (_, i) => {
      const t = 60 * (i % 10) + 0.01 * rand();
      return { t, ms: 100 + t + 20 * rand() };
    });
    const inOrder = latencyTrend([...bursts].sort((a, b) => a.t - b.t));
    expect(latencyTrend(bursts)).toEqual(inOrder);
    expect(inOrder.slopeMsPerS).toBeCloseTo(1, 1);
  });

  it('handles tied times: pairs at one time have no slope, and the binned path keeps ties in one bin', () => {
    // 5 requests per second, 30 s: 150 points on 30 distinct times.
    const pts = Array.from({ length: 150 }, (_, i) => {
      const t = Math.floor(i / 5);
      return { t, ms: 100 + 2 * t + (i % 5) };
    });
    const r = latencyTrend(pts);
    expect(r.slopeMsPerS).toBeCloseTo(2, 9);
    expect(r.lo!).toBeLessThanOrEqual(2);
    expect(r.hi!).toBeGreaterThanOrEqual(2);
    const binned = latencyTrend(pts, { maxPoints: 40 });
    expect(binned.fitPoints).toBeLessThanOrEqual(30);
    expect(binned.slopeMsPerS).toBeCloseTo(2, 9);
    const shuffled = [...pts].sort((a, b) => ((a.ms * 7919) % 13) - ((b.ms * 7919) % 13));
    expect(latencyTrend(shuffled)).toEqual(r);
    expect(latencyTrend(shuffled, { maxPoints: 40 })).toEqual(binned);
  });

  it('recovers a slope through heavy noise at n = 100k, and runs fast', () => {
    const rand = prng(5);
    // Symmetric heavy tails (Student-t with 2 degrees of freedom), so the true slope is exactly 2 ms/s.
    const pts = Array.from({ length: 100_000 }, () => {
      const t = 600 * rand();
      const tNoise = gaussian(rand) / Math.sqrt((gaussian(rand) ** 2 + gaussian(rand) ** 2) / 2);
      return { t, ms: 500 + 2 * t + 50 * tNoise };
    });
    const r = latencyTrend(pts);
    // Best of a few runs: the JIT warms up, and a shared 2-core test machine adds noise to any single run.
    let ms = Infinity;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      latencyTrend(pts);
      ms = Math.min(ms, performance.now() - started);
    }
    console.log(`latencyTrend on 100k unsorted points: ${ms.toFixed(1)} ms (best of 3); ${r.text}`);
    expect(r.fitPoints).toBe(300);
    expect(Math.abs(r.slopeMsPerS! - 2)).toBeLessThan(0.05);
    expect(r.lo! < 2 && r.hi! > 2).toBe(true);
    expect(r.rising).toBe(true);
    expect(ms).toBeLessThan(1000); // a quadratic slip would take minutes; the real figure is printed above
  });

  it('calls a significant but small drift at n = 100k not rising (the size rule)', () => {
    const rand = prng(6);
    const pts = Array.from({ length: 100_000 }, (_, i) => {
      const t = i * 0.006; // 600 s in send order
      return { t, ms: 1000 * (1 + (0.05 * t) / 600) * Math.exp(0.5 * gaussian(rand)) };
    });
    const r = latencyTrend(pts);
    expect(r.lo!).toBeGreaterThan(0);
    expect(r.relativeRise!).toBeGreaterThan(0.02);
    expect(r.relativeRise!).toBeLessThan(0.1);
    expect(r.rising).toBe(false);
    expect(r.reason).toMatch(/below the minimum/);
    // The same drift passes once the caller lowers the bar.
    expect(latencyTrend(pts, { minRelativeRise: 0.02 }).rising).toBe(true);
  });

  it('needs an absolute rise too: +8 ms on a 20 ms level is not saturation', () => {
    const r = latencyTrend(line(100, (t) => 20 + 0.08 * t + (t % 2)));
    expect(r.lo!).toBeGreaterThan(0);
    expect(r.relativeRise!).toBeGreaterThan(0.2);
    expect(r.riseMs!).toBeLessThan(10);
    expect(r.rising).toBe(false);
  });

  it('says why when there is too little data, and never throws', () => {
    const few = latencyTrend(line(19, (t) => 100 + 50 * t));
    expect(few).toMatchObject({ n: 19, rising: false, slopeMsPerS: null, lo: null, hi: null, relativeRise: null });
    expect(few.reason).toBe('too few points (19 < 20)');
    const oneTime = latencyTrend(Array.from({ length: 50 }, (_, i) => ({ t: 7, ms: 100 + i })));
    expect(oneTime).toMatchObject({ n: 50, spanS: 0, rising: false, slopeMsPerS: null });
    expect(oneTime.reason).toMatch(/no time span/);
    expect(latencyTrend([])).toMatchObject({ n: 0, rising: false, spanS: null, levelMs: null, reason: 'no points' });
    // Non-finite values (a failed request's TTFT) are dropped, not fitted.
    const holes = line(30, (t) => (t % 3 === 0 ? NaN : 100 + 5 * t));
    expect(latencyTrend(holes)).toMatchObject({ n: 20, rising: true });
    expect(latencyTrend([...holes, { t: Infinity, ms: 1 }]).n).toBe(20);
  });
});

describe('formatSlope', () => {
  it('reads per minute, in s from 1 s per minute up, with signs only where negative or a rise', () => {
    expect(formatSlope(34_000 / 60, 31_000 / 60, 37_000 / 60)).toBe('+34.0 s per minute [31.0, 37.0]');
    expect(formatSlope(2, -0.5, 4)).toBe('+120.0 ms per minute [-30.0, 240.0]');
    expect(formatSlope(0.001, 0.0005, 0.0015)).toBe('+0.060 ms per minute [0.030, 0.090]');
    expect(formatSlope(-20, -25, -15)).toBe('-1.2 s per minute [-1.5, -0.9]');
  });

  it('uses the right normal quantile for the interval', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.005)).toBeCloseTo(-2.575829, 6);
  });
});

describe('latencyTrend error rates on seeded synthetic runs', () => {
  it('false positives on 1,000 flat heavy-tailed runs (n 30–2,000) stay at or below 5 %', () => {
    const { rate, byN } = risingRate(1000, 0, 30, 2000, 101);
    console.log(`trend false-positive rate, flat runs: ${(rate * 100).toFixed(1)} % ${JSON.stringify(byN)}`);
    expect(rate).toBeLessThanOrEqual(0.05);
  });

  it('detects a level tripling over the run (+200 %) in at least 95 % of 1,000 runs (n 30–2,000)', () => {
    const { rate, byN } = risingRate(1000, 2, 30, 2000, 202);
    console.log(`trend detection rate, level x3 over the run: ${(rate * 100).toFixed(1)} % ${JSON.stringify(byN)}`);
    expect(rate).toBeGreaterThanOrEqual(0.95);
  });

  it('detects a level doubling (+100 %) in at least 95 % of 500 runs once n >= 200', () => {
    const { rate, byN } = risingRate(500, 1, 200, 2000, 303);
    console.log(`trend detection rate, level x2 over the run: ${(rate * 100).toFixed(1)} % ${JSON.stringify(byN)}`);
    expect(rate).toBeGreaterThanOrEqual(0.95);
  });
});
