// Metrics: the HDR-backed LatencyStat, the per-request formulas (derive), the recorder's aggregation, and the
// run-level formulas (throughput, launch rate, late turns) computed by runBenchmark on a virtual clock.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TurnRequest, TurnSender } from '../../src/client/target-client.js';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/config/options.js';
import { derive, FORMULAS, forEachTokenGap } from '../../src/metrics/derive.js';
import { LatencyStat, PERCENTILES } from '../../src/metrics/histogram.js';
import { RunRecorder } from '../../src/metrics/recorder.js';
import type { RequestRecord } from '../../src/result/record.js';
import { METRIC_NAMES, type RunResult } from '../../src/result/schema.js';
import { runBenchmark } from '../../src/run.js';
import { prng } from '../../src/util/prng.js';
import { TextFactory } from '../../src/workload/text.js';
import { okRecord } from '../helpers/records.js';

/** Nearest-rank percentile of a sorted array (the definition HDR histograms implement). */
function exactPercentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** HDR at 3 significant digits, values stored in whole µs: at most 1/1024 above, half a µs below. */
function expectHdrClose(actual: number | null, exact: number): void {
  expect(actual).not.toBeNull();
  const a = actual as number;
  expect(a).toBeGreaterThanOrEqual(exact - 0.0005 - 1e-12);
  expect(a).toBeLessThanOrEqual(exact * (1 + 1 / 1024) + 0.0005 + 1e-12);
}

function statOf(values: readonly number[]): LatencyStat {
  const s = new LatencyStat();
  for (const v of values) s.record(v);
  return s;
}

const DISTRIBUTIONS: Array<[string, (r: () => number) => number, number]> = [
  ['uniform 0-100 ms', (r) => r() * 100, 5000],
  ['log-uniform 1 µs-100 s', (r) => 10 ** (r() * 8 - 3), 5000],
  ['heavy tail (ITL-like: 7 ms with rare 200 ms stalls)', (r) => (r() < 0.01 ? 200 + r() * 50 : 7 + r()), 20000],
  ['few distinct values with ties', (r) => [1, 2, 2, 3, 50][Math.floor(r() * 5)] as number, 1001],
  ['a single value', () => 12.345, 1],
];

describe('LatencyStat', () => {
  it.each(DISTRIBUTIONS)('%s: percentiles match the exact sorted-array percentiles within HDR precision', (_name, gen, n) => {
    const r = prng(12345);
    const values = Array.from({ length: n }, () => gen(r));
    const s = statOf(values);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [...PERCENTILES, 1, 10, 25, 75, 99.99, 100]) expectHdrClose(s.percentile(p), exactPercentile(sorted, p));
    const sum = s.summary();
    expectHdrClose(sum.p50, exactPercentile(sorted, 50));
    expectHdrClose(sum.p90, exactPercentile(sorted, 90));
    expectHdrClose(sum.p95, exactPercentile(sorted, 95));
    expectHdrClose(sum.p99, exactPercentile(sorted, 99));
    expectHdrClose(sum.p999, exactPercentile(sorted, 99.9));
  });

  it.each(DISTRIBUTIONS)('%s: count, mean, min, max and stddev are exact', (_name, gen, n) => {
    const r = prng(777);
    const values = Array.from({ length: n }, () => gen(r));
    const sum = statOf(values).summary();
    const mean = values.reduce((a, v) => a + v, 0) / n;
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
    expect(sum.count).toBe(n);
    expect(sum.min).toBe(Math.min(...values));
    expect(sum.max).toBe(Math.max(...values));
    expect(sum.mean).toBeCloseTo(mean, 9);
    expect(sum.stddev as number).toBeCloseTo(Math.sqrt(variance), 6);
  });

  it('never reports a percentile outside the observed range', () => {
    const s = statOf([10.0001, 10.0002]);
    expect(s.percentile(0)).toBeGreaterThanOrEqual(10.0001);
    expect(s.percentile(100)).toBeLessThanOrEqual(10.0002);
    expect(s.percentile(100)).toBe(10.0002);
  });

  it('is empty with null statistics', () => {
    const s = new LatencyStat();
    expect(s.percentile(50)).toBeNull();
    expect(s.summary()).toEqual({ count: 0, mean: null, stddev: null, min: null, max: null, p50: null, p90: null, p95: null, p99: null, p999: null });
  });

  it('records a value with a count like that many single records', () => {
    const a = new LatencyStat();
    a.record(3.5, 4);
    a.record(9);
    const b = statOf([3.5, 3.5, 3.5, 3.5, 9]);
    expect(a.summary()).toEqual(b.summary());
    expect(a.encode()).toBe(b.encode());
  });

  it('clamps negative and NaN values (clock anomalies) to 0 instead of corrupting the histogram', () => {
    const s = statOf([-5, Number.NaN, 4]);
    expect(s.count).toBe(3);
    expect(s.min).toBe(0);
    expect(s.sum).toBe(4);
  });

  it('encode/decode round-trips: same percentiles, same exact fields', () => {
    const r = prng(99);
    const values = Array.from({ length: 3000 }, () => 10 ** (r() * 5 - 2));
    const s = statOf(values);
    const encoded = s.encode();
    expect(encoded).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const d = LatencyStat.decode(encoded, { count: s.count, sum: s.sum, sumSq: s.sumSq, min: s.min, max: s.max });
    expect(d.summary()).toEqual(s.summary());
    for (let p = 0; p <= 100; p += 2.5) expect(d.percentile(p)).toBe(s.percentile(p));
    expect(d.encode()).toBe(encoded);
  });

  it('merge gives the statistics of all values together (also for decoded histograms from saved runs)', () => {
    const r = prng(5);
    const a = Array.from({ length: 2000 }, () => r() * 50);
    const b = Array.from({ length: 700 }, () => 40 + r() * 500);
    const all = statOf([...a, ...b]);
    const sa = statOf(a);
    const sb = statOf(b);
    const merged = statOf(a);
    merged.merge(sb);
    expect(merged.count).toBe(all.count);
    expect(merged.sum).toBeCloseTo(all.sum, 6);
    expect(merged.min).toBe(all.min);
    expect(merged.max).toBe(all.max);
    for (const p of PERCENTILES) expect(merged.percentile(p)).toBe(all.percentile(p));
    const sorted = [...a, ...b].sort((x, y) => x - y);
    for (const p of PERCENTILES) expectHdrClose(merged.percentile(p), exactPercentile(sorted, p));

    const exact = (s: LatencyStat): { count: number; sum: number; sumSq: number; min: number; max: number } => ({
      count: s.count,
      sum: s.sum,
      sumSq: s.sumSq,
      min: s.min,
      max: s.max,
    });
    const fromDisk = LatencyStat.decode(sa.encode(), exact(sa));
    fromDisk.merge(LatencyStat.decode(sb.encode(), exact(sb)));
    expect(fromDisk.summary().p99).toBe(all.summary().p99);
    expect(fromDisk.summary().mean).toBeCloseTo(all.summary().mean as number, 9);

    const empty = new LatencyStat();
    empty.merge(sb);
    expect(empty.summary()).toEqual(sb.summary());
  });

  it('reset empties the stat', () => {
    const s = statOf([1, 2, 3]);
    s.reset();
    expect(s.summary().count).toBe(0);
    expect(s.percentile(50)).toBeNull();
  });
});

/** A successful request with hand-picked timestamps (ms since the run origin). */
const record = (over: Partial<RequestRecord> = {}): RequestRecord => okRecord(over);

function gaps(r: RequestRecord): number[] {
  const out: number[] = [];
  forEachTokenGap(r, (g, k) => {
    for (let i = 0; i < k; i++) out.push(g);
  });
  return out;
}

describe('derive: the per-request formulas of FORMULAS', () => {
  it('computes every per-request formula from the raw timestamps', () => {
    const d = derive(record());
    expect(d.ttfbMs).toBe(20); // ttfb_ms: headers 1030 - sent 1010
    expect(d.ttftMs).toBe(50); // ttft_ms: first token 1060 - sent 1010
    expect(d.ttstMs).toBe(8); // ttst_ms: second chunk 1068 - first 1060, 1 token
    expect(d.e2elMs).toBe(115); // e2el_ms: end 1125 - sent 1010
    expect(d.tpotMs).toBeCloseTo((115 - 50) / (7 - 1), 12); // tpot_ms
    expect(d.generationTimeMs).toBe(65); // generation_time_s (in ms here): end - first token
    expect(d.scheduleLagMs).toBe(10); // schedule_lag_ms: sent - intended
    expect(d.ttftFromIntendedMs).toBe(60); // ttft_from_intended_ms: first token - intended
    expect(d.e2elFromIntendedMs).toBe(125); // e2el_from_intended_ms: end - intended
    expect(d.outputTokens).toBe(7);
  });

  it('ITL is per token: a chunk carrying k tokens contributes k gaps of gap/k; ICL is per chunk', () => {
    const r = record();
    expect(gaps(r)).toEqual([8, 10, 10, 10, 10, 10]); // 8/1, 20/2 twice, 30/3 three times
    let icl = 0;
    expect(forEachTokenGap(r, () => icl++)).toBe(3); // three chunk gaps
    expect(icl).toBe(3);
  });

  it('without per-chunk usage every content chunk is one ITL gap', () => {
    const r = record({ chunkTokens: [1, 1, 1, 1], perChunkUsage: false });
    expect(gaps(r)).toEqual([8, 20, 30]);
  });

  it('TTST takes the second chunk\'s per-token share when it carries several tokens', () => {
    expect(derive(record({ chunkTokens: [1, 4, 1, 1] })).ttstMs).toBe(2);
  });

  it('leaves what it cannot know undefined, never guessed', () => {
    const oneToken = derive(record({ completionTokens: 1, chunkTimesMs: [1060], chunkTokens: [1] }));
    expect(oneToken.tpotMs).toBeUndefined(); // TPOT needs more than one output token
    expect(oneToken.ttstMs).toBeUndefined();
    const noTokens = derive(record({ firstTokenMs: undefined, chunkTimesMs: [], chunkTokens: [], completionTokens: 0, headersMs: undefined }));
    expect(noTokens.ttftMs).toBeUndefined();
    expect(noTokens.ttfbMs).toBeUndefined();
    expect(noTokens.generationTimeMs).toBeUndefined();
    expect(noTokens.ttftFromIntendedMs).toBeUndefined();
    expect(noTokens.tpotMs).toBeUndefined();
    expect(noTokens.e2elMs).toBe(115);
    expect(derive(record({ completionTokens: undefined })).tpotMs).toBeUndefined();
    expect(gaps(record({ chunkTimesMs: [], chunkTokens: [] }))).toEqual([]);
  });

  it('publishes a formula for every metric it records', () => {
    for (const m of METRIC_NAMES) expect(FORMULAS).toHaveProperty(m);
    for (const k of ['request_throughput', 'launch_rate', 'input_throughput', 'output_throughput', 'measured_duration_s', 'cached_token_share', 'generation_time_s']) {
      expect(FORMULAS).toHaveProperty(k);
    }
  });
});

describe('RunRecorder', () => {
  function recorded(): RunRecorder {
    const rec = new RunRecorder();
    const rs: RequestRecord[] = [
      record({ id: 0 }),
      record({ id: 1, sentMs: 2010, intendedMs: 2000, headersMs: 2020, firstTokenMs: 2040, endMs: 2100, chunkTimesMs: [2040, 2050], chunkTokens: [1, 1], completionTokens: 2, promptTokens: 600, cachedTokens: undefined, promptTokensEstimate: 540 }),
      // Failed after a long wait and cancelled: counted, their lag recorded, no latency sample.
      record({ id: 2, outcome: 'failed', errorClass: 'http_error', httpStatus: 500, sentMs: 3000, intendedMs: 2900, headersMs: 9000, firstTokenMs: undefined, endMs: 9000, chunkTimesMs: [], chunkTokens: [], completionTokens: undefined, promptTokens: undefined }),
      record({ id: 3, outcome: 'failed', errorClass: 'connection_reset', sentMs: 3100, intendedMs: 3100, firstTokenMs: 3200, endMs: 9500, chunkTimesMs: [3200, 9400], chunkTokens: [1, 1] }),
      record({ id: 4, outcome: 'cancelled', errorClass: 'cancelled', sentMs: 4000, intendedMs: 4000, firstTokenMs: 4100, endMs: 99999, chunkTimesMs: [4100], chunkTokens: [1] }),
      record({ id: 5, phase: 'warmup', sentMs: 0, intendedMs: 0, firstTokenMs: 5000, endMs: 6000 }),
    ];
    for (const r of rs) rec.onLaunch(r.phase, r.id === 1);
    for (const r of rs) rec.add(r);
    return rec;
  }

  it('counts every launched request by outcome and error class; warmup apart', () => {
    const snap = recorded().snapshot();
    expect(snap.counts).toEqual({ launched: 5, ok: 2, failed: 2, cancelled: 1 });
    expect(snap.counts.launched).toBe(snap.counts.ok + snap.counts.failed + snap.counts.cancelled);
    expect(snap.errorsByClass).toEqual({ http_error: 1, connection_reset: 1, cancelled: 1 });
    expect(snap.warmup).toEqual({ launched: 1, ok: 1, failed: 0, cancelled: 0 });
    expect(snap.late).toBe(1);
    expect(recorded().inFlight).toBe(0);
  });

  it('keeps failed and cancelled requests out of every latency statistic', () => {
    const m = recorded().snapshot().metrics;
    expect(m.ttft_ms.count).toBe(2);
    expect(m.ttft_ms.min).toBe(30); // 2040 - 2010
    expect(m.ttft_ms.max).toBe(50);
    expect(m.ttfb_ms.max).toBe(20); // not the failed request's 6000
    expect(m.e2el_ms.count).toBe(2);
    expect(m.e2el_ms.max).toBe(115); // not 6500 or 95999
    expect(m.tpot_ms.count).toBe(2);
    expect(m.ttst_ms.count).toBe(2);
    expect(m.itl_ms.count).toBe(6 + 1); // per token: 6 gaps + 1 gap
    expect(m.itl_ms.max).toBe(10); // not the failed stream's 6200 ms
    expect(m.icl_ms.count).toBe(3 + 1);
    expect(m.icl_ms.max).toBe(30);
    expect(m.ttft_from_intended_ms.count).toBe(2);
    expect(m.e2el_from_intended_ms.count).toBe(2);
  });

  it('records schedule lag for every launched measured request, whatever its outcome', () => {
    const m = recorded().snapshot().metrics.schedule_lag_ms;
    expect(m.count).toBe(5);
    expect(m.max).toBe(100);
    expect(m.sum).toBe(10 + 10 + 100 + 0 + 0);
  });

  it('ITL statistics weigh each token: the mean is over token gaps, not chunk gaps', () => {
    const rec = new RunRecorder();
    rec.onLaunch('measure', false);
    rec.add(record());
    const m = rec.snapshot().metrics;
    expect(m.itl_ms.mean).toBeCloseTo(58 / 6, 12);
    expect(m.icl_ms.mean).toBeCloseTo(58 / 3, 12);
    expect(m.itl_ms.p50).toBeCloseTo(10, 2);
  });

  it('sums tokens of successful requests only; cached share over requests that report it', () => {
    const snap = recorded().snapshot();
    expect(snap.tokens.prompt).toBe(1100);
    expect(snap.tokens.completion).toBe(9);
    expect(snap.tokens.cached).toBe(100);
    expect(snap.tokens.promptWithCacheInfo).toBe(500);
    expect(snap.tokens.withUsage).toBe(2);
    expect(snap.tokens.chunks).toBe(6);
    expect(snap.tokens.chunkTokens).toBe(9);
    expect(snap.firstSentMs).toBe(1010);
    expect(snap.lastOkEndMs).toBe(2100);
  });

  it('keeps the signed prompt-estimate error: (estimate - usage) / usage', () => {
    const e = recorded().snapshot().promptEstimateErrorPct; // +4% (520 vs 500) and -10% (540 vs 600)
    expect(e.count).toBe(2);
    expect(e.mean).toBeCloseTo(-3, 9);
    expect(e.min).toBeCloseTo(-10, 9);
    expect(e.max).toBeCloseTo(4, 9);
  });

  it('closes log windows with the window\'s own counts and rates', () => {
    const rec = new RunRecorder();
    rec.takeWindow(0);
    rec.onLaunch('measure', false);
    rec.onLaunch('measure', false);
    rec.onLaunch('measure', false);
    rec.add(record({ id: 0 }));
    rec.add(record({ id: 1, outcome: 'failed', errorClass: 'timeout' }));
    const w = rec.takeWindow(2000);
    expect(w).toMatchObject({ startS: 0, endS: 2, launched: 3, completed: 1, failed: 1, cancelled: 0, inFlight: 1 });
    expect(w.requestsPerS).toBeCloseTo(0.5, 12);
    expect(w.outputTokensPerS).toBeCloseTo(3.5, 12);
    expect(w.ttftP50Ms).toBeCloseTo(50, 1);
    const next = rec.takeWindow(3000);
    expect(next).toMatchObject({ startS: 2, endS: 3, launched: 0, completed: 0, ttftP50Ms: null });
  });

  it('snapshots every metric with a decodable histogram', () => {
    const snap = recorded().snapshot();
    for (const name of METRIC_NAMES) {
      const b = snap.metrics[name];
      expect(b.unit).toBe('ms');
      if (b.count === 0) continue;
      const d = LatencyStat.decode(b.histogram, { count: b.count, sum: b.sum, sumSq: b.sumSq, min: b.min as number, max: b.max as number });
      expect(d.summary().p99).toBe(b.p99);
    }
  });
});

describe('run-level formulas on a virtual clock (runBenchmark with a scripted client)', () => {
  const text = new TextFactory(0);
  afterEach(() => {
    vi.useRealTimers();
  });

  /**
   * A TurnSender whose requests take scripted virtual time: TTFT, then one token per `itl`, `tokens` tokens.
   * Timestamps come from the same (faked) process.hrtime.bigint() clock the run uses.
   */
  class ScriptedClient implements TurnSender {
    t0 = 0n;
    sent: TurnRequest[] = [];
    sentAt: number[] = [];
    constructor(readonly script: (req: TurnRequest) => { ttft: number; itl: number; tokens: number; fail?: boolean }) {}
    now(): number {
      return Number(process.hrtime.bigint() - this.t0) / 1e6;
    }
    async send(req: TurnRequest): Promise<RequestRecord> {
      this.sent.push(req);
      const s = this.script(req);
      const sentMs = this.now();
      this.sentAt.push(sentMs);
      if (s.fail) {
        await new Promise((r) => setTimeout(r, s.ttft));
        return record({
          id: req.id, phase: req.phase, userId: req.userId, round: req.round, intendedMs: req.intendedMs, late: req.late, sentMs,
          headersMs: this.now(), firstTokenMs: undefined, endMs: this.now(), chunkTimesMs: [], chunkTokens: [], completionTokens: undefined,
          promptTokens: undefined, cachedTokens: undefined, outcome: 'failed', errorClass: 'http_error', httpStatus: 500,
          errorMessage: 'boom', text: '', promptTokensEstimate: req.promptTokensEstimate,
        });
      }
      await new Promise((r) => setTimeout(r, s.ttft));
      const first = this.now();
      const times = [first];
      for (let i = 1; i < s.tokens; i++) {
        await new Promise((r) => setTimeout(r, s.itl));
        times.push(this.now());
      }
      return record({
        id: req.id, phase: req.phase, userId: req.userId, round: req.round, intendedMs: req.intendedMs, late: req.late, sentMs,
        headersMs: sentMs, firstTokenMs: first, endMs: this.now(), chunkTimesMs: times, chunkTokens: times.map(() => 1), perChunkUsage: false,
        completionTokens: s.tokens, promptTokens: 100, cachedTokens: undefined, promptTokensEstimate: req.promptTokensEstimate, text: 'answer',
      });
    }
    async close(): Promise<void> {}
  }

  const smallConfig = (): RunConfig & { baseUrl: string; model: string } => ({
    ...DEFAULT_CONFIG,
    baseUrl: 'http://127.0.0.1:1/v1',
    model: 'm',
    numUsers: 2,
    numRounds: 2,
    qps: [1],
    time: 4,
    sharedSystemPrompt: 10,
    userHistoryPrompt: 20,
    answerLen: 10,
    preflight: false,
  });

  async function runScripted(client: ScriptedClient, config = smallConfig()): Promise<{ res: RunResult; records: RequestRecord[] }> {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'hrtime'] });
    const records: RequestRecord[] = [];
    const promise = runBenchmark({
      config,
      qps: config.qps[0] as number,
      runId: 't',
      client,
      text,
      onStart: ({ t0 }) => (client.t0 = t0),
      onRecord: (r) => records.push(r),
    });
    await vi.advanceTimersByTimeAsync(30_000);
    return { res: await promise, records };
  }

  it('computes launch rate, throughputs, late turns and latencies exactly', async () => {
    // 2 users, 2 rounds, 1 QPS: gap 2 s, a user joins every 1 s. Due turns in the 4 s window:
    //   t=0 user 3 q1 | t=1 user 2 q2 (pre-aged), user 4 q1 | t=2 user 3 q2, user 5 q1 | t=3 user 4 q2, user 6 q1
    // User 3's first answer takes 2.5 s, so its second turn (due at 2 s) is late and sent at 2.5 s.
    // User 4's first request fails after 50 ms; the user goes on with its second round.
    const client = new ScriptedClient((req) => {
      if (req.userId === 3 && req.round === 1) return { ttft: 100, itl: 300, tokens: 9 }; // ends at 2.5 s
      if (req.userId === 4 && req.round === 1) return { ttft: 50, itl: 0, tokens: 0, fail: true };
      return { ttft: 100, itl: 40, tokens: 10 };
    });
    const { res, records } = await runScripted(client);

    const due = client.sent.map((r) => [r.intendedMs, r.userId, r.round, r.late]);
    expect(due).toEqual([
      [0, 3, 1, false],
      [1000, 2, 2, false],
      [1000, 4, 1, false],
      [2000, 5, 1, false],
      [2000, 3, 2, true],
      [3000, 4, 2, false],
      [3000, 6, 1, false],
    ]);
    expect(records).toHaveLength(7);

    expect(res.counts).toMatchObject({ launched: 7, ok: 6, failed: 1, cancelled: 0, late: 1, errorsByClass: { http_error: 1 } });
    expect(res.schedule).toMatchObject({ configuredQps: 1, gapPerUserS: 2, gapBetweenUsersS: 1, sessionSpanS: 2, expectedRate: 2 });
    const t = res.throughput;
    expect(t.launchWindowS).toBe(4);
    expect(t.launchRate).toBeCloseTo(7 / 4, 9); // launch_rate: launched / launch window
    expect(t.measuredDurationS).toBeCloseTo(3.46, 6); // last ok end: 3 s + 100 ms + 9 x 40 ms
    expect(t.requestThroughput).toBeCloseTo(6 / 3.46, 6); // ok / measured duration
    expect(t.outputThroughput).toBeCloseTo(59 / 3.46, 6); // 5 x 10 + 9 tokens
    expect(t.inputThroughput).toBeCloseTo(600 / 3.46, 6);
    expect(t.cachedTokenShare).toBeNull();

    const m = res.metrics;
    expect(m.ttft_ms.count).toBe(6);
    expect(m.ttft_ms.min).toBeCloseTo(100, 6);
    expect(m.ttft_ms.max).toBeCloseTo(100, 6);
    expect(m.schedule_lag_ms.count).toBe(7);
    expect(m.schedule_lag_ms.max).toBeCloseTo(500, 6); // the late turn
    expect(m.ttft_from_intended_ms.max).toBeCloseTo(600, 6); // includes the wait for the previous turn
    expect(m.e2el_ms.max).toBeCloseTo(2500, 6);
    expect(m.itl_ms.count).toBe(5 * 9 + 8);
    expect(m.tpot_ms.count).toBe(6);
    expect(res.vllm.completed).toBe(6);
    expect(res.vllm.failed).toBe(1);
    expect(res.vllm.request_throughput).toBe(t.requestThroughput);
    expect(res.vllm.mean_ttft_ms).toBe(m.ttft_ms.mean);
    expect(res.notes.join('\n')).toMatch(/1 turn\(s\) came due while the user's previous turn was still running/);
    expect(res.notes.join('\n')).toMatch(/launches 2\.000 req\/s at steady state, 2\.00x the configured 1 QPS/);
    expect(res.formulas).toBe(FORMULAS);
    expect(res.config.apiKey).toBeNull();
  });

  // README: "After --time, no new turn starts", as multi-round-qa.py stops launching at --time. A turn that
  // came due inside the window while its user was still busy past the end is not sent, and is counted.
  it('starts no turn after --time, even a late one, and counts it as unsent', async () => {
    // User 4 asks at 1 s; its answer takes 3.5 s (until 4.5 s), so its second turn (due at 3 s) is late and
    // would start at 4.5 s, after the 4 s window.
    const client = new ScriptedClient((req) => (req.userId === 4 && req.round === 1 ? { ttft: 100, itl: 425, tokens: 9 } : { ttft: 100, itl: 40, tokens: 10 }));
    const { res } = await runScripted(client);
    // Observed: user 4's second turn is sent at 4.5 s and launched is 7 (launch_rate 7/4 instead of 6/4).
    expect(Math.max(...client.sentAt)).toBeLessThan(4000);
    expect(res.counts.launched).toBe(6);
    expect(res.throughput.launchRate).toBeCloseTo(6 / 4, 9);
    expect(res.counts.unsent).toBe(1);
    expect(res.notes.join('\n')).toMatch(/1 turn\(s\) came due before --time ended/);
  });
});

describe('tokens per chunk', () => {
  it('records the distribution of tokens per content chunk, not just its mean', () => {
    const rec = new RunRecorder();
    const a = okRecord({ id: 1, chunkTokens: [1, 1, 2, 3] });
    const b = okRecord({ id: 2, chunkTimesMs: [1060, 1070], chunkTokens: [1, 8], completionTokens: 9 });
    for (const r of [a, b]) rec.onLaunch('measure', false);
    rec.add(a);
    rec.add(b);
    const d = rec.snapshot().tokens.perChunk;
    expect(d.count).toBe(6);
    expect(d.min).toBe(1);
    expect(d.max).toBe(8);
    expect(d.p50).toBe(1);
    expect(d.mean).toBeCloseTo(16 / 6, 9);
  });
});

