// Comparison statistics: known-answer tests on seeded synthetic targets. Equal distributions must come out
// 'no significant difference', known shifts must be found with intervals covering them, pairing must narrow
// intervals, and the machinery (bins, nearest rank, sentence) must give exactly known values.
import { describe, expect, it } from 'vitest';
import {
  binValues,
  ClusterHistogram,
  drawWeights,
  LogBinning,
  nearestRank,
  percentileInterval,
} from '../../src/compare/bootstrap.js';
import {
  compareTargets,
  comparedStats,
  minValuesFor,
  summarySentence,
} from '../../src/compare/statistics.js';
import type { MetricComparison, RequestSample, TargetComparison, TargetSamples } from '../../src/compare/types.js';
import { ConfigError } from '../../src/errors.js';
import { mixSeed, prng } from '../../src/util/prng.js';

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

interface Gen {
  sessions: number;
  rounds: number;
  gaps: number;
  /** Multiplies every latency of the target (a known shift). */
  scale?: number;
  /** Per-session latency multipliers shared by both targets (a session effect), indexed by user id. */
  sessionEffect?: readonly number[];
  rep?: number;
  /** Output tokens per request: uniform in [lo, hi). */
  tokens?: [number, number];
}

/** A target whose TTFT and gaps are lognormal: TTFT median 100 ms (sigma 0.3), gaps median 10 ms (sigma 0.25). */
function target(name: string, seed: number, g: Gen): TargetSamples {
  const r = prng(seed);
  const samples: RequestSample[] = [];
  const scale = g.scale ?? 1;
  for (let u = 0; u < g.sessions; u++) {
    const effect = g.sessionEffect?.[u] ?? 1;
    for (let round = 1; round <= g.rounds; round++) {
      const itl: number[] = [];
      for (let i = 0; i < g.gaps; i++) itl.push(scale * effect * 10 * Math.exp(0.25 * normal(r)));
      const ttft = scale * effect * 100 * Math.exp(0.3 * normal(r));
      const decode = itl.reduce((a, b) => a + b, 0);
      const outputTokens = g.tokens ? Math.floor(g.tokens[0] + r() * (g.tokens[1] - g.tokens[0])) : g.gaps + 1;
      samples.push({
        rep: g.rep ?? 0,
        userId: u,
        round,
        outcome: 'ok',
        errorClass: undefined,
        sentMs: round * 1000,
        endMs: round * 1000 + ttft + decode,
        ttftMs: ttft,
        tpotMs: g.gaps > 0 ? decode / g.gaps : undefined,
        e2elMs: ttft + decode,
        itlMs: itl,
        promptTokens: 500,
        outputTokens,
        cachedTokens: 0,
      });
    }
  }
  return { name, samples, durationS: 60, gpus: 2 };
}

const BASE: Gen = { sessions: 40, rounds: 5, gaps: 20 };
const OPTS = { iterations: 500 };
const TRIALS = 50;

const find = (c: TargetComparison, metric: MetricComparison['metric'], stat: MetricComparison['stat']): MetricComparison => {
  const m = c.metrics.find((x) => x.metric === metric && x.stat === stat);
  if (!m) throw new Error(`no ${metric} ${stat}`);
  return m;
};
const width = (m: MetricComparison): number => (m.ratio.hi as number) - (m.ratio.lo as number);
const LATENCY_STATS = comparedStats(false).filter((s) => s.stat !== 'value');

describe('bootstrap machinery', () => {
  it('nearestRank is the HDR "value at percentile": the ceil(q*n)-th smallest', () => {
    const v = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(nearestRank(v, 0.5)).toBe(5);
    expect(nearestRank(v, 0.9)).toBe(9);
    expect(nearestRank(v, 0.99)).toBe(10);
    expect(nearestRank(v, 0)).toBe(1);
    expect(nearestRank(new Float64Array(0), 0.5)).toBeNull();
  });

  it('log bins are 0.5% wide and a resampled percentile stays within a bin of the exact one', () => {
    const r = prng(3);
    const values = Array.from({ length: 5000 }, () => 10 ** (r() * 4 - 1));
    const sorted = Float64Array.from(values).sort();
    const binning = new LogBinning(sorted[0] as number, sorted[sorted.length - 1] as number);
    // Ten clusters of 500, each drawn once: the resample is the data itself.
    const clusters = Array.from({ length: 10 }, (_, i) => binValues(values.slice(i * 500, (i + 1) * 500), binning));
    const hist = new ClusterHistogram(binning, clusters, sorted[0] as number, sorted[sorted.length - 1] as number);
    const qs = [0.01, 0.5, 0.9, 0.99, 1];
    const out = new Float64Array(qs.length);
    hist.quantiles(new Uint32Array(10).fill(1), qs, out);
    qs.forEach((q, i) => {
      const exact = nearestRank(sorted, q) as number;
      expect(Math.abs((out[i] as number) / exact - 1)).toBeLessThanOrEqual(0.005);
    });
    // Doubling every weight does not move a percentile; an empty draw has none.
    const twice = new Float64Array(qs.length);
    hist.quantiles(new Uint32Array(10).fill(2), qs, twice);
    expect([...twice]).toEqual([...out]);
    hist.quantiles(new Uint32Array(10), qs, twice);
    expect([...twice].every(Number.isNaN)).toBe(true);
  });

  it('the two-level search (many bins per cluster) gives the same percentiles as the direct sum', () => {
    const r = prng(11);
    const data = Array.from({ length: 30 }, () => Array.from({ length: 400 }, () => Math.exp(2 + normal(r))));
    const all = data.flat();
    const min = Math.min(...all);
    const max = Math.max(...all);
    const binning = new LogBinning(min, max);
    const many = data.map((d) => binValues(d, binning));
    const twoLevel = new ClusterHistogram(binning, many, min, max);
    // The same values as one-value clusters (few distinct bins each) take the direct path.
    const single = all.map((v) => binValues([v], binning));
    const direct = new ClusterHistogram(binning, single, min, max);
    const qs = [0.5, 0.9, 0.99];
    const rand = prng(5);
    const w = new Uint32Array(30);
    for (let t = 0; t < 20; t++) {
      drawWeights(rand, w);
      const wSingle = new Uint32Array(all.length);
      w.forEach((x, s) => wSingle.fill(x, s * 400, (s + 1) * 400));
      const a = new Float64Array(3);
      const b = new Float64Array(3);
      twoLevel.quantiles(w, qs, a);
      direct.quantiles(wSingle, qs, b);
      expect([...a]).toEqual([...b]);
    }
  });

  it('drawWeights draws n of n and percentileInterval takes equal tails', () => {
    const w = new Uint32Array(37);
    drawWeights(prng(1), w);
    expect(w.reduce((a, b) => a + b, 0)).toBe(37);
    const reps = Float64Array.from({ length: 1001 }, (_, i) => i);
    const ci = percentileInterval(reps, 0.95);
    expect(ci?.lo).toBeCloseTo(25, 9);
    expect(ci?.hi).toBeCloseTo(975, 9);
    expect(percentileInterval(Float64Array.from([Number.NaN, Number.NaN, 1]), 0.95)).toBeNull();
  });
});

describe('compareTargets: known answers', () => {
  it(`two targets from one distribution: no significant difference on every latency statistic in >= 90% of ${TRIALS} trials`, () => {
    const noDiff = new Map<string, number>();
    for (let t = 0; t < TRIALS; t++) {
      const a = target('colocated', mixSeed(t, 1), BASE);
      const b = target('pd', mixSeed(t, 2), BASE);
      const c = compareTargets(a, b, { ...OPTS, seed: t });
      expect(c.paired).toBe(true);
      for (const s of LATENCY_STATS) {
        const m = find(c, s.metric, s.stat);
        const key = `${s.stat} ${s.metric}`;
        if (m.verdict === 'no significant difference') noDiff.set(key, (noDiff.get(key) ?? 0) + 1);
      }
    }
    for (const s of LATENCY_STATS) expect(noDiff.get(`${s.stat} ${s.metric}`) ?? 0, `${s.stat} ${s.metric}`).toBeGreaterThanOrEqual(0.9 * TRIALS);
  });

  it.each([
    [1.2, 'worse'],
    [0.8, 'better'],
  ] as const)('latencies x%s are found %s at p50 TTFT and ITL, and the ratio interval covers the shift', (shift, verdict) => {
    let found = 0;
    let covered = 0;
    for (let t = 0; t < TRIALS; t++) {
      const a = target('colocated', mixSeed(t, 3), BASE);
      const b = target('pd', mixSeed(t, 4), { ...BASE, scale: shift });
      const c = compareTargets(a, b, { ...OPTS, seed: t });
      for (const metric of ['ttft_ms', 'itl_ms'] as const) {
        const m = find(c, metric, 'p50');
        if (m.verdict === verdict) found++;
        if ((m.ratio.lo as number) <= shift && shift <= (m.ratio.hi as number)) covered++;
      }
    }
    expect(found).toBeGreaterThanOrEqual(2 * TRIALS - 1);
    expect(covered).toBeGreaterThanOrEqual(0.88 * 2 * TRIALS);
  });

  it('paired resampling gives a narrower interval than independent resampling when sessions differ a lot', () => {
    const r = prng(77);
    const sessionEffect = Array.from({ length: 40 }, () => Math.exp(0.8 * normal(r)));
    let narrower = 0;
    for (let t = 0; t < 10; t++) {
      const a = target('colocated', mixSeed(t, 5), { ...BASE, sessionEffect });
      const b = target('pd', mixSeed(t, 6), { ...BASE, sessionEffect, scale: 1.1 });
      // The same data under other session keys: nothing in common, so resampled independently.
      const bApart: TargetSamples = { ...b, samples: b.samples.map((s) => ({ ...s, rep: 1 })) };
      const paired = compareTargets(a, b, { ...OPTS, seed: t });
      const unpaired = compareTargets(a, bApart, { ...OPTS, seed: t });
      expect(paired.paired).toBe(true);
      expect(unpaired.paired).toBe(false);
      const p = find(paired, 'ttft_ms', 'p50');
      const u = find(unpaired, 'ttft_ms', 'p50');
      expect(p.baseline.value).toBe(u.baseline.value);
      if (width(p) < width(u)) narrower++;
    }
    expect(narrower).toBe(10);
  });

  it('20% more output tokens per request is better output throughput; the same request count is no difference', () => {
    const a = target('colocated', 8, { ...BASE, tokens: [50, 150] });
    const b = target('pd', 9, { ...BASE, tokens: [60, 180] });
    const c = compareTargets(a, b, OPTS);
    const out = find(c, 'output_throughput', 'value');
    expect(out.higherIsBetter).toBe(true);
    expect(out.verdict).toBe('better');
    expect(out.ratio.lo as number).toBeLessThan(1.2);
    expect(out.ratio.hi as number).toBeGreaterThan(1.2);
    expect(out.baseline.value).toBeCloseTo(a.samples.reduce((s, x) => s + (x.outputTokens ?? 0), 0) / 60, 9);
    const req = find(c, 'request_throughput', 'value');
    expect(req.baseline.value).toBeCloseTo(200 / 60, 12);
    expect(req.ratio).toEqual({ value: 1, lo: 1, hi: 1 });
    expect(req.verdict).toBe('no significant difference');
    expect(c.sentence).toMatch(/^pd raised output throughput by \d+(\.\d)?% \[[\d.]+%, [\d.]+%\] against colocated$/);
  });

  it('a change below --min-effect gets no verdict even with a zero-width interval; with min-effect 0 it does', () => {
    // The same requests, the candidate measured over a 0.5% longer window: paired resamples give a ratio
    // interval of exactly [0.995, 0.995], significant but negligible.
    const a = target('colocated', 21, BASE);
    const b: TargetSamples = { ...a, name: 'pd', durationS: a.durationS * 1.005 };
    const req = (c: TargetComparison): MetricComparison => find(c, 'request_throughput', 'value');
    const dflt = compareTargets(a, b, OPTS);
    expect(req(dflt).ratio.lo).toBeCloseTo(1 / 1.005, 9);
    expect(req(dflt).ratio.hi).toBeCloseTo(1 / 1.005, 9);
    expect(req(dflt).verdict).toBe('no significant difference');
    expect(req(compareTargets(a, b, { ...OPTS, minEffect: 0 })).verdict).toBe('worse');
    // A 20% shift is far above any sensible minimum effect.
    expect(find(compareTargets(a, target('pd', 22, { ...BASE, scale: 1.2 }), { ...OPTS, minEffect: 0.05 }), 'ttft_ms', 'p50').verdict).toBe('worse');
  });

  it('is deterministic for a seed, independent of sample order, and moves with the seed', () => {
    const a = target('colocated', 10, BASE);
    const b = target('pd', 11, BASE);
    const one = compareTargets(a, b, { ...OPTS, seed: 42 });
    expect(compareTargets(a, b, { ...OPTS, seed: 42 })).toEqual(one);
    const shuffled: TargetSamples = { ...b, samples: [...b.samples].reverse() };
    expect(compareTargets(a, shuffled, { ...OPTS, seed: 42 })).toEqual(one);
    const other = compareTargets(a, b, { ...OPTS, seed: 43 });
    expect(find(other, 'ttft_ms', 'p50').ratio.value).toBe(find(one, 'ttft_ms', 'p50').ratio.value);
    expect(find(other, 'ttft_ms', 'p50').ratio.lo).not.toBe(find(one, 'ttft_ms', 'p50').ratio.lo);
  });

  it('with no session in common it resamples each target on its own and matches no request', () => {
    const a = target('colocated', 12, BASE);
    const b = target('pd', 13, { ...BASE, sessions: 30, rep: 1 });
    const c = compareTargets(a, b, OPTS);
    expect(c.paired).toBe(false);
    expect(c.sessions).toBe(30);
    expect(c.matchedRequests).toBe(0);
    expect(find(c, 'ttft_ms', 'p50').verdict).not.toBe('insufficient data');
  });

  it('paired latencies use only rounds ok in both targets; throughput counts every ok request', () => {
    const mk = (userId: number, ttftMs: number, outcome: RequestSample['outcome'] = 'ok'): RequestSample => ({
      rep: 0, userId, round: 1, outcome, errorClass: outcome === 'failed' ? 'http_error' : undefined, sentMs: 0, endMs: 500,
      ttftMs, tpotMs: 5, e2elMs: 500, itlMs: [5, 5], promptTokens: 10, outputTokens: 3, cachedTokens: 0,
    });
    const base: TargetSamples = { name: 'colocated', samples: [mk(0, 10, 'failed'), mk(1, 20), mk(2, 30), mk(3, 40)], durationS: 10, gpus: 2 };
    const cand: TargetSamples = { name: 'pd', samples: [mk(0, 100), mk(1, 200), mk(2, 300), mk(3, 1)], durationS: 10, gpus: 2 };
    const c = compareTargets(base, cand, OPTS);
    expect(c.paired).toBe(true);
    expect(c.sessions).toBe(4);
    expect(c.matchedRequests).toBe(3);
    // Matched rounds: users 1-3. Candidate [1, 200, 300]: p50 is the 2nd = 200 (over all four it would be 100).
    expect(find(c, 'ttft_ms', 'p50').candidate.value).toBe(200);
    expect(find(c, 'ttft_ms', 'p50').baseline.value).toBe(30);
    expect(find(c, 'request_throughput', 'value').baseline.value).toBeCloseTo(0.3, 12);
    expect(find(c, 'request_throughput', 'value').candidate.value).toBeCloseTo(0.4, 12);
  });

  it('says "insufficient data" with under 2 sessions or too few values for the percentile, and still gives the point estimates', () => {
    const one = compareTargets(target('colocated', 14, { ...BASE, sessions: 1 }), target('pd', 15, { ...BASE, sessions: 1 }), OPTS);
    for (const m of one.metrics) {
      expect(m.verdict).toBe('insufficient data');
      expect(m.ratio.lo).toBeNull();
      expect(m.baseline.lo).toBeNull();
      expect(m.baseline.value).not.toBeNull();
    }
    expect(one.sentence).toBe('pd and colocated have too little data to compare (1 sessions)');

    // 30 sessions x 2 rounds = 60 TTFT values: p50 (needs 2) and p90 (10) are judged, p99 (100) is not.
    const small = compareTargets(target('colocated', 16, { ...BASE, sessions: 30, rounds: 2 }), target('pd', 17, { ...BASE, sessions: 30, rounds: 2 }), OPTS);
    expect(find(small, 'ttft_ms', 'p50').verdict).not.toBe('insufficient data');
    expect(find(small, 'ttft_ms', 'p90').verdict).not.toBe('insufficient data');
    const p99 = find(small, 'ttft_ms', 'p99');
    expect(p99.verdict).toBe('insufficient data');
    expect(p99.candidate.value).not.toBeNull();
    expect(p99.ratio.value).not.toBeNull();
    expect(p99.ratio.lo).toBeNull();
    // The pooled ITL has 1,200 gaps per target, enough for its p99.
    expect(find(small, 'itl_ms', 'p99').verdict).not.toBe('insufficient data');
    expect([minValuesFor(0.5), minValuesFor(0.9), minValuesFor(0.99)]).toEqual([2, 10, 100]);
  });

  it('adds goodput and attainment with an SLO', () => {
    const a = target('colocated', 18, BASE);
    const b = target('pd', 19, { ...BASE, scale: 1.5 });
    const slo = { preset: null, ttftMs: 120, itlMs: null, itlStat: 'max' as const, tpotMs: null, e2elMs: null };
    const c = compareTargets(a, b, { ...OPTS, slo });
    expect(compareTargets(a, b, OPTS).metrics).toHaveLength(14);
    expect(c.metrics).toHaveLength(16);
    const att = find(c, 'slo_attainment', 'value');
    const met = a.samples.filter((s) => (s.ttftMs as number) <= 120).length;
    expect(att.baseline.value).toBeCloseTo(met / 200, 12);
    expect(find(c, 'request_goodput', 'value').baseline.value).toBeCloseTo(met / 60, 12);
    expect(att.verdict).toBe('worse');
    expect(find(c, 'request_goodput', 'value').verdict).toBe('worse');
  });

  it('rejects bad options with ConfigError', () => {
    const a = target('colocated', 1, { ...BASE, sessions: 2 });
    expect(() => compareTargets(a, a, { iterations: 0 })).toThrow(ConfigError);
    expect(() => compareTargets(a, a, { confidence: 1 })).toThrow(ConfigError);
  });
});

describe('summarySentence', () => {
  const est = (value: number, lo: number, hi: number): MetricComparison['ratio'] => ({ value, lo, hi });
  const metric = (over: Partial<MetricComparison> & Pick<MetricComparison, 'metric' | 'stat' | 'verdict'>): MetricComparison => ({
    higherIsBetter: over.metric.endsWith('_ms') ? false : true,
    baseline: est(10, 9, 11),
    candidate: est(10, 9, 11),
    difference: est(0, -1, 1),
    ratio: est(1, 0.9, 1.1),
    ...over,
  });
  const cmp = (metrics: MetricComparison[]): TargetComparison => ({
    baseline: 'colocated', candidate: 'pd', paired: true, sessions: 120, matchedRequests: 240, iterations: 2000, confidence: 0.95, metrics, sentence: '',
  });

  it('names the significant changes, largest first, with (ratio - 1) and its interval', () => {
    const c = cmp([
      metric({ metric: 'ttft_ms', stat: 'p50', verdict: 'worse', ratio: est(1.12, 1.08, 1.15) }),
      metric({ metric: 'ttft_ms', stat: 'p90', verdict: 'no significant difference' }),
      metric({ metric: 'itl_ms', stat: 'p99', verdict: 'better', ratio: est(0.59, 0.53, 0.65) }),
      metric({ metric: 'output_throughput', stat: 'value', verdict: 'insufficient data' }),
    ]);
    expect(summarySentence(c, 1.1)).toBe('pd cut p99 ITL by 41% [35%, 47%] and raised p50 TTFT by 12% [8%, 15%] against colocated at 1.1 QPS');
  });

  it('keeps at most three, one per metric and direction, and words rates as raised/lowered', () => {
    const c = cmp([
      metric({ metric: 'itl_ms', stat: 'p50', verdict: 'better', ratio: est(0.7, 0.6, 0.8) }),
      metric({ metric: 'itl_ms', stat: 'p99', verdict: 'better', ratio: est(0.5, 0.4, 0.6) }),
      metric({ metric: 'output_throughput', stat: 'value', verdict: 'worse', ratio: est(0.955, 0.94, 0.97) }),
      metric({ metric: 'request_goodput', stat: 'value', verdict: 'better', ratio: est(1.25, 1.1, 1.4) }),
      metric({ metric: 'e2el_ms', stat: 'p90', verdict: 'worse', ratio: est(1.01, 1.005, 1.02) }),
    ]);
    expect(summarySentence(c)).toBe(
      'pd cut p99 ITL by 50% [40%, 60%], raised goodput by 25% [10%, 40%] and lowered output throughput by 4.5% [3%, 6%] against colocated',
    );
  });

  it('says so when nothing changed', () => {
    const c = cmp([metric({ metric: 'ttft_ms', stat: 'p50', verdict: 'no significant difference' })]);
    expect(summarySentence(c, 1.1)).toBe(
      'pd and colocated show no significant difference in TTFT, ITL, TPOT, E2EL or throughput at 1.1 QPS (120 sessions, 95% intervals)',
    );
  });
});
