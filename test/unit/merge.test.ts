// mergeRunResults: the parts of one run (--workers) merge into exactly what one recorder fed every record reports:
// the same percentiles (HDR histograms added, not averaged), the same counts, tokens, throughput, per-round views
// and vLLM keys. Also: client health, notes, per-window merging, separate-client merges, and the refusal of parts
// that are not one experiment.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/config/options.js';
import { redactConfig } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/errors.js';
import type { ClientHealth } from '../../src/metrics/client-health.js';
import { FORMULAS } from '../../src/metrics/derive.js';
import { LatencyStat } from '../../src/metrics/histogram.js';
import { RunRecorder } from '../../src/metrics/recorder.js';
import { mergeRunResults, mergeWindows } from '../../src/metrics/merge.js';
import { tokenSourceNote } from '../../src/metrics/token-notes.js';
import type { RequestRecord } from '../../src/result/record.js';
import { METRIC_NAMES, RESULT_SCHEMA, RESULT_SCHEMA_VERSION, type MetricBlock, type RunResult, type WindowSummary } from '../../src/result/schema.js';
import { okRecord } from '../helpers/records.js';

const WALL = 1_700_000_000_000;
const BASE = 'http://127.0.0.1:8000/v1';

/** A deterministic spread of records: varied latencies (sub-ms to seconds), chunking, rounds and outcomes. */
function records(n: number): RequestRecord[] {
  const out: RequestRecord[] = [];
  let x = 12345;
  const rnd = (): number => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
  for (let i = 0; i < n; i++) {
    const sent = 100 + i * 13.7;
    const ttft = 5 + rnd() ** 3 * 2000; // long tail
    const gaps = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => 0.05 + rnd() ** 2 * 80);
    const chunkTimesMs: number[] = [sent + ttft];
    for (const g of gaps) chunkTimesMs.push((chunkTimesMs.at(-1) as number) + g);
    const perChunk = i % 3 === 0;
    const chunkTokens = chunkTimesMs.map((_, k) => (perChunk ? 1 + ((i + k) % 3) : 1));
    const completion = chunkTokens.reduce((a, b) => a + b, 0);
    const prompt = 300 + ((i * 37) % 900);
    const outcome = i % 17 === 5 ? 'failed' : i % 23 === 7 ? 'cancelled' : 'ok';
    const end = (chunkTimesMs.at(-1) as number) + 1;
    out.push(
      okRecord({
        id: i,
        userId: 1 + (i % 12),
        round: 1 + (i % 4),
        intendedMs: sent - rnd() * 3,
        sentMs: sent,
        late: i % 11 === 0,
        headersMs: sent + ttft * 0.4,
        firstTokenMs: outcome === 'ok' ? sent + ttft : undefined,
        endMs: end,
        chunkTimesMs: outcome === 'ok' ? chunkTimesMs : [],
        chunkTokens: outcome === 'ok' ? chunkTokens : [],
        perChunkUsage: perChunk,
        promptTokens: prompt,
        completionTokens: completion,
        cachedTokens: i % 5 === 0 ? undefined : Math.floor(prompt * rnd()),
        tokenSource: i % 29 === 3 ? 'fallback' : 'usage',
        promptTokensEstimate: Math.round(prompt * (0.9 + rnd() * 0.2)),
        outcome,
        errorClass: outcome === 'failed' ? (i % 2 ? 'http_error' : 'timeout') : outcome === 'cancelled' ? 'cancelled' : undefined,
        httpStatus: outcome === 'failed' && i % 2 ? 500 : 200,
      }),
    );
  }
  return out;
}

const healthy = (over: Partial<ClientHealth> = {}): ClientHealth => ({
  healthy: true,
  reasons: [],
  thresholds: { maxLoopDelayMs: 5, maxSenderLagMs: 10 },
  loopDelayMs: { mean: 0.05, p50: 0.03, p99: 0.4, max: 2.1, samples: 1000 },
  cpuShare: 0.5,
  cpuSeconds: 30,
  maxRssBytes: 100e6,
  scheduleLagP99Ms: 1,
  senderLag: { samples: 100, p90: 0.5, p99: 1 },
  ...over,
});

interface PartOptions {
  config?: Partial<RunConfig>;
  baseUrl?: string;
  client?: ClientHealth;
  notes?: string[];
  windows?: WindowSummary[];
  measureStartMs?: number;
  launchWindowS?: number;
}

/** A RunResult built from records the way run.ts builds it (measured start at t = 0 unless given). */
function resultOf(recs: readonly RequestRecord[], o: PartOptions = {}): RunResult {
  const rec = new RunRecorder();
  for (const r of recs) rec.onLaunch(r.phase, r.late);
  for (const r of recs) rec.add(r);
  const snap = rec.snapshot();
  const start = o.measureStartMs ?? 0;
  const measuredDurationS = Math.max(((snap.lastOkEndMs ?? 60_000) - start) / 1000, 1e-9);
  const launchWindowS = o.launchWindowS ?? 60;
  const tk = snap.tokens;
  const config = { ...DEFAULT_CONFIG, baseUrl: o.baseUrl ?? BASE, model: 'mistral', apiKey: 'sk-secret', workers: 2, ...o.config };
  const throughput: RunResult['throughput'] = {
    measuredDurationS,
    launchWindowS,
    configuredQps: 1.1,
    expectedRate: 2.2,
    launchRate: snap.counts.launched / launchWindowS,
    requestThroughput: snap.counts.ok / measuredDurationS,
    inputThroughput: tk.prompt / measuredDurationS,
    outputThroughput: tk.completion / measuredDurationS,
    cachedTokenShare: tk.promptWithCacheInfo > 0 ? tk.cached / tk.promptWithCacheInfo : null,
  };
  const m = snap.metrics;
  const vllm: Record<string, number | null> = {
    completed: snap.counts.ok,
    failed: snap.counts.failed,
    duration: measuredDurationS,
    total_input_tokens: tk.prompt,
    total_output_tokens: tk.completion,
    request_throughput: throughput.requestThroughput,
    output_throughput: throughput.outputThroughput,
    total_token_throughput: throughput.inputThroughput + throughput.outputThroughput,
  };
  for (const name of ['ttft', 'tpot', 'itl', 'e2el'] as const) {
    const b = m[`${name}_ms`];
    Object.assign(vllm, {
      [`mean_${name}_ms`]: b.mean,
      [`median_${name}_ms`]: b.p50,
      [`std_${name}_ms`]: b.stddev,
      [`p90_${name}_ms`]: b.p90,
      [`p95_${name}_ms`]: b.p95,
      [`p99_${name}_ms`]: b.p99,
    });
  }
  return {
    schema: RESULT_SCHEMA,
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'pd-bench', version: '0.0.0-test' },
    runId: 'run-1',
    label: 'run-pd@1.1qps',
    startedAt: new Date(WALL).toISOString(),
    endedAt: new Date(WALL + 60_000).toISOString(),
    wallStartMs: WALL,
    interrupted: false,
    scenario: 'run-pd',
    config: redactConfig(config),
    target: { baseUrl: config.baseUrl, model: 'mistral', endpoint: 'chat' },
    schedule: { kind: 'multi-round', arrival: 'per-user', burstiness: 1, label: 'x', configuredQps: 1.1, gapPerUserS: 109.09, gapBetweenUsersS: 0.909, sessionSpanS: 109.09, expectedRate: 2.2 },
    environment: { node: 'v20', platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'cpu', totalMemoryBytes: 1 },
    counts: { ...snap.counts, late: snap.late, unsent: snap.unsent, errorsByClass: snap.errorsByClass, warmup: snap.warmup },
    tokens: {
      prompt: tk.prompt,
      completion: tk.completion,
      cached: tk.cached,
      source: tk.withUsage > 0 && tk.withoutUsage > 0 ? 'mixed' : tk.withUsage > 0 ? 'usage' : tk.withoutUsage > 0 ? 'fallback' : 'none',
      perChunkUsage: tk.perChunkUsage,
      promptEstimateErrorPct: snap.promptEstimateErrorPct,
      tokensPerChunkMean: tk.chunks > 0 ? tk.chunkTokens / tk.chunks : null,
      tokensPerChunk: tk.perChunk,
    },
    throughput,
    client: o.client ?? healthy(),
    metrics: m,
    windows: o.windows ?? [],
    rounds: snap.rounds,
    server: null,
    formulas: FORMULAS,
    notes: o.notes ?? [],
    vllm,
  };
}

const PCTS = ['p50', 'p90', 'p95', 'p99', 'p999', 'min', 'max', 'count'] as const;

function expectSameDistribution(got: MetricBlock, want: MetricBlock, what: string): void {
  for (const k of PCTS) expect(got[k], `${what}.${k}`).toBe(want[k]);
  if (want.mean === null) expect(got.mean).toBeNull();
  else {
    expect(got.mean as number, `${what}.mean`).toBeCloseTo(want.mean, 9);
    expect(got.stddev as number, `${what}.stddev`).toBeCloseTo(want.stddev as number, 6);
    expect(got.sum, `${what}.sum`).toBeCloseTo(want.sum, 6);
  }
  // The merged histogram is the whole one, bucket for bucket: every percentile agrees, not only the reported five.
  const decode = (b: MetricBlock): LatencyStat => LatencyStat.decode(b.histogram, { count: b.count, sum: b.sum, sumSq: b.sumSq, min: b.min ?? Infinity, max: b.max ?? -Infinity });
  const g = decode(got);
  const w = decode(want);
  for (let p = 0.5; p < 100; p += 0.5) expect(g.percentile(p), `${what} p${p}`).toBe(w.percentile(p));
}

const all = records(600);
const whole = resultOf(all);
// Shares as the workers run them: users by join order mod 3 (here: by user id), records in completion order.
const parts = [0, 1, 2].map((i) => resultOf(all.filter((r) => r.userId % 3 === i)));

describe('mergeRunResults: the parts of one run merge exactly', () => {
  const merged = mergeRunResults(parts, { sameProcess: true });

  it('merged percentiles equal those of a single LatencyStat fed all values', () => {
    const direct = new LatencyStat();
    for (const r of all) if (r.outcome === 'ok') direct.record((r.firstTokenMs as number) - r.sentMs);
    const s = direct.summary();
    const m = merged.metrics.ttft_ms;
    for (const k of PCTS) expect(m[k], k).toBe(s[k]);
    expect(m.mean as number).toBeCloseTo(s.mean as number, 9);
    // ...and they are not what averaging the parts' percentiles would give.
    const averaged = parts.reduce((a, p) => a + (p.metrics.ttft_ms.p99 as number) * p.metrics.ttft_ms.count, 0) / (m.count as number);
    expect(Math.abs(averaged - (m.p99 as number))).toBeGreaterThan(0.01);
  });

  it.each(METRIC_NAMES.map((n) => [n]))('%s: the same distribution as one recorder fed every record', (name) => {
    expectSameDistribution(merged.metrics[name], whole.metrics[name], name);
  });

  it('counts, errors by class, tokens and the token distributions', () => {
    expect(merged.counts).toEqual(whole.counts);
    expect(merged.counts.launched).toBe(600);
    expect(merged.counts.errorsByClass.http_error).toBeGreaterThan(0);
    const { promptEstimateErrorPct: pe, tokensPerChunk: tpc, tokensPerChunkMean, ...rest } = merged.tokens;
    const { promptEstimateErrorPct: wpe, tokensPerChunk: wtpc, tokensPerChunkMean: wMean, ...wrest } = whole.tokens;
    expect(rest).toEqual(wrest);
    expect(rest.source).toBe('mixed');
    expect(tokensPerChunkMean as number).toBeCloseTo(wMean as number, 12);
    for (const k of PCTS) {
      expect(tpc[k], `tokensPerChunk.${k}`).toBe(wtpc[k]);
      expect(pe[k], `promptEstimateErrorPct.${k}`).toBe(wpe[k]);
    }
    expect(pe.mean as number).toBeCloseTo(wpe.mean as number, 9);
    expect(pe.stddev as number).toBeCloseTo(wpe.stddev as number, 6);
    expect(pe.min as number).toBeLessThan(0); // signed: estimates both below and above usage
    expect(tpc.stddev as number).toBeCloseTo(wtpc.stddev as number, 9);
    expect(merged.notes.join('\n')).not.toMatch(/carried no histogram/);
  });

  it('throughput is recomputed from the merged counts over the merged measured window', () => {
    const t = merged.throughput;
    const w = whole.throughput;
    expect(t.measuredDurationS).toBe(w.measuredDurationS);
    expect(t.launchWindowS).toBe(60);
    expect(t.requestThroughput).toBeCloseTo(w.requestThroughput, 12);
    expect(t.inputThroughput).toBeCloseTo(w.inputThroughput, 9);
    expect(t.outputThroughput).toBeCloseTo(w.outputThroughput, 9);
    expect(t.launchRate).toBeCloseTo(600 / 60, 12);
    expect(t.cachedTokenShare as number).toBeCloseTo(w.cachedTokenShare as number, 12);
    // One schedule: the rates it implies are the run's, not a sum over workers.
    expect(t.configuredQps).toBe(1.1);
    expect(t.expectedRate).toBe(2.2);
  });

  it('per-round TTFT and ITL merge exactly; prompt means and cached shares match', () => {
    expect(merged.rounds.map((r) => r.round)).toEqual([1, 2, 3, 4]);
    merged.rounds.forEach((r, i) => {
      const w = whole.rounds[i] as RunResult['rounds'][number];
      expect(r.requests).toBe(w.requests);
      expect(r.ok).toBe(w.ok);
      expectSameDistribution(r.ttft, w.ttft, `round ${r.round} ttft`);
      expectSameDistribution(r.itl, w.itl, `round ${r.round} itl`);
      expect(r.promptTokensMean as number).toBeCloseTo(w.promptTokensMean as number, 9);
      expect(r.cachedTokenShare as number).toBeCloseTo(w.cachedTokenShare as number, 2);
    });
  });

  it('recomputes the vLLM-compatible keys from the merged metrics', () => {
    expect(Object.keys(merged.vllm).sort()).toEqual(Object.keys(whole.vllm).sort());
    for (const [k, v] of Object.entries(whole.vllm)) expect(merged.vllm[k] as number, k).toBeCloseTo(v as number, 6);
    expect(merged.vllm.p99_ttft_ms).toBe(whole.vllm.p99_ttft_ms);
    expect(merged.vllm.completed).toBe(whole.counts.ok);
  });

  it('one part merges into itself', () => {
    const one = mergeRunResults([whole]);
    for (const name of METRIC_NAMES) expectSameDistribution(one.metrics[name], whole.metrics[name], name);
    expect(one.counts).toEqual(whole.counts);
    expect(one.vllm).toEqual(whole.vllm);
  });

  it('parts without histograms (older results): exact counts and means, approximate percentiles, said so', () => {
    const legacy = parts.map((p) => {
      const copy = structuredClone(p);
      for (const r of copy.rounds) r.ttft.histogram = '';
      delete copy.tokens.tokensPerChunk.histogram;
      return copy;
    });
    const m = mergeRunResults(legacy);
    expect(m.notes.join('\n')).toMatch(/no histogram for tokens\.tokensPerChunk, rounds\[\]\.ttft\/itl: their percentiles are count-weighted means \(approximate\)/);
    const w = whole.rounds[0] as RunResult['rounds'][number];
    const r = m.rounds[0] as RunResult['rounds'][number];
    expect(r.ttft.count).toBe(w.ttft.count);
    expect(r.ttft.mean as number).toBeCloseTo(w.ttft.mean as number, 9);
    expect(r.ttft.stddev as number).toBeCloseTo(w.ttft.stddev as number, 6);
    expect(r.ttft.max).toBe(w.ttft.max);
    expect(r.ttft.histogram).toBe('');
    expectSameDistribution(r.itl, w.itl, 'round 1 itl');
    expect(m.tokens.tokensPerChunk.max).toBe(whole.tokens.tokensPerChunk.max);
    expect(m.metrics.ttft_ms.p99).toBe(whole.metrics.ttft_ms.p99);
  });

  it('a part without successful requests does not stretch the measured duration', () => {
    const idle = resultOf(all.filter((r) => r.outcome !== 'ok').slice(0, 3));
    expect(idle.counts.ok).toBe(0);
    idle.throughput.measuredDurationS = 1e6;
    const m = mergeRunResults([...parts, idle]);
    expect(m.throughput.measuredDurationS).toBe(whole.throughput.measuredDurationS);
  });
});

describe('mergeRunResults: client health and notes', () => {
  it('healthy only if every part was; reasons name the part; loop delay is the worst thread; RSS and CPU are the process\'s', () => {
    const sick = healthy({ healthy: false, reasons: ['event-loop delay p99 9.0 ms > 5 ms'], loopDelayMs: { mean: 1, p50: 0.5, p99: 9, max: 40, samples: 3000 }, maxRssBytes: 300e6, cpuSeconds: 31, cpuShare: 0.52 });
    const a = resultOf(all.slice(0, 300), { client: healthy() });
    const b = resultOf(all.slice(300), { client: sick, notes: ['client unhealthy: event-loop delay p99 9.0 ms > 5 ms; its latencies are inflated'] });
    const m = mergeRunResults([a, b], { sameProcess: true });
    expect(m.client.healthy).toBe(false);
    expect(m.client.reasons).toEqual(['worker 1: event-loop delay p99 9.0 ms > 5 ms']);
    expect(m.client.loopDelayMs.p99).toBe(9);
    expect(m.client.loopDelayMs.max).toBe(40);
    expect(m.client.loopDelayMs.samples).toBe(4000);
    expect(m.client.loopDelayMs.mean).toBeCloseTo((0.05 * 1000 + 1 * 3000) / 4000, 12);
    // Threads share one process: its peak RSS, and process-wide CPU each part already counted.
    expect(m.client.maxRssBytes).toBe(300e6);
    expect(m.client.cpuSeconds).toBe(31);
    expect(m.client.scheduleLagP99Ms).toBe(m.metrics.schedule_lag_ms.p99);
    const unhealthyNotes = m.notes.filter((n) => n.startsWith('client unhealthy'));
    expect(unhealthyNotes).toHaveLength(1);
    expect(unhealthyNotes[0]).toContain('worker 1: event-loop delay');

    const measured = mergeRunResults([a, b], { sameProcess: true, processCpu: { cpuSeconds: 45, wallS: 60 } });
    expect(measured.client.cpuSeconds).toBe(45);
    expect(measured.client.cpuShare).toBeCloseTo(0.75, 12);
    // Separate processes: each had its own memory and CPU.
    const procs = mergeRunResults([a, b], { kind: 'partitions' });
    expect(procs.client.maxRssBytes).toBe(400e6);
    expect(procs.client.cpuSeconds).toBe(61);
  });

  it('identical notes once; count notes summed; other differing notes kept per part', () => {
    const pacing = 'multi-round pacing (users/qps per user, 2 rounds) launches 2.200 req/s at steady state, 2.00x the configured 1.1 QPS';
    const a = resultOf(all.slice(0, 300), { notes: [pacing, '3 turn(s) came due while the user\'s previous turn was still running; they were sent late (see schedule_lag_ms)', 'the server sent 600 tokens in 200 content chunks: ITL is per chunk', 'odd thing 7'] });
    const b = resultOf(all.slice(300), { notes: [pacing, '4 turn(s) came due while the user\'s previous turn was still running; they were sent late (see schedule_lag_ms)', 'the server sent 300 tokens in 100 content chunks: ITL is per chunk', 'odd thing 8'] });
    const m = mergeRunResults([a, b]);
    expect(m.notes.filter((n) => n === pacing)).toHaveLength(1);
    expect(m.notes).toContain('7 turn(s) came due while the user\'s previous turn was still running; they were sent late (see schedule_lag_ms)');
    expect(m.notes).toContain('the server sent 900 tokens in 300 content chunks: ITL is per chunk');
    expect(m.notes).toContain('worker 0: odd thing 7');
    expect(m.notes).toContain('worker 1: odd thing 8');
    expect(m.notes.some((n) => /2 workers ran disjoint shares/.test(n))).toBe(true);
  });

  it('the usage note follows the merged tokens: a part with no usage beside one with usage is "some", not "no"', () => {
    const as = (source: 'usage' | 'fallback') => (r: RequestRecord): RequestRecord => ({ ...r, tokenSource: source });
    const none = resultOf(all.filter((r) => r.userId % 2 === 0).map(as('fallback')), { notes: [tokenSourceNote('fallback') as string] });
    const some = resultOf(all.filter((r) => r.userId % 2 === 1).map(as('usage')));
    expect(none.tokens.source).toBe('fallback');
    const m = mergeRunResults([none, some]);
    expect(m.tokens.source).toBe('mixed');
    expect(m.notes.filter((n) => /carried( no)? usage/.test(n))).toEqual([tokenSourceNote('mixed')]);
    expect(m.notes.join('\n')).toMatch(/^some responses carried no usage: /m);
    // Parts that all lacked usage: said once, as "no response".
    const both = mergeRunResults([none, resultOf(all.filter((r) => r.userId % 2 === 1).map(as('fallback')), { notes: [tokenSourceNote('fallback') as string] })]);
    expect(both.notes.filter((n) => /carried( no)? usage/.test(n))).toEqual(['no response carried usage: completion tokens are counted content chunks and prompt tokens are pd-bench estimates']);
  });

  it('windows merge by index: counts and rates add up, percentiles are weighted (approximate)', () => {
    const w = (startS: number, completed: number, ttftP99Ms: number | null): WindowSummary => ({
      startS,
      endS: startS + 30,
      launched: completed + 1,
      completed,
      failed: 1,
      cancelled: 0,
      inFlight: 2,
      ttftP50Ms: ttftP99Ms === null ? null : ttftP99Ms / 2,
      ttftP99Ms,
      itlP50Ms: 10,
      itlP99Ms: 20,
      outputTokensPerS: completed * 10,
      requestsPerS: completed / 30,
    });
    const merged = mergeWindows([w(0, 30, 100), w(0.001, 10, 300)]);
    expect(merged).toMatchObject({ startS: 0, endS: 30.001, launched: 42, completed: 40, failed: 2, inFlight: 4, outputTokensPerS: 400, itlP50Ms: 10 });
    expect(merged.requestsPerS).toBeCloseTo(40 / 30, 12);
    expect(merged.ttftP99Ms).toBeCloseTo((30 * 100 + 10 * 300) / 40, 12);
    expect(mergeWindows([w(0, 0, null), w(0, 0, null)]).ttftP99Ms).toBeNull();

    const a = resultOf(all.slice(0, 300), { windows: [w(0, 5, 50), w(30, 6, 60)] });
    const b = resultOf(all.slice(300), { windows: [w(0, 5, 70)] });
    const m = mergeRunResults([a, b]);
    expect(m.windows).toHaveLength(2);
    expect(m.windows[0]?.completed).toBe(10);
    expect(m.windows[1]?.completed).toBe(6);
  });
});

describe('mergeRunResults: separate clients and refusals', () => {
  it('separate client processes with distinct --init-user-id ranges: rates of the schedule add up', () => {
    const a = resultOf(all.slice(0, 300), { config: { initUserId: 0, numUsers: 120, time: 60 } });
    const b = resultOf(all.slice(300), { config: { initUserId: 10_000, numUsers: 120, time: 60 } });
    const m = mergeRunResults([a, b]);
    expect(m.schedule.configuredQps).toBe(2.2);
    expect(m.schedule.expectedRate).toBeCloseTo(4.4, 12);
    expect(m.throughput.configuredQps).toBe(2.2);
    expect(m.config.initUserId).toBe(0);
    expect(m.label).toBe('run-pd@2.2qps');
    expect(m.counts.launched).toBe(600);
    expect(m.notes.join('\n')).toMatch(/merged from 2 client processes \(init-user-id 0, 10000\)/);
    for (const name of METRIC_NAMES) expectSameDistribution(m.metrics[name], whole.metrics[name], name);
  });

  it('refuses parts of different targets, configs or QPS points, naming each difference', () => {
    const a = resultOf(all.slice(0, 300));
    const otherTarget = resultOf(all.slice(300), { baseUrl: 'http://127.0.0.1:9000/v1' });
    expect(() => mergeRunResults([a, otherTarget])).toThrow(ConfigError);
    expect(() => mergeRunResults([a, otherTarget])).toThrow(/parts\[1\]\.target\.baseUrl.*must equal parts\[0\]'s "http:\/\/127\.0\.0\.1:8000\/v1"/);

    const otherConfig = resultOf(all.slice(300), { config: { numUsers: 64, answerLen: 200 } });
    let err: unknown;
    try {
      mergeRunResults([a, otherConfig]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.field).sort()).toEqual(['parts[1].config.answerLen', 'parts[1].config.numUsers']);

    const otherPoint = resultOf(all.slice(300));
    otherPoint.schedule = { ...otherPoint.schedule, configuredQps: 2 };
    expect(() => mergeRunResults([a, otherPoint])).toThrow(/schedule\.configuredQps/);

    // --workers and --init-user-id may differ; nothing else.
    expect(() => mergeRunResults([a, resultOf(all.slice(300), { config: { workers: 4 } })])).not.toThrow();
    expect(() => mergeRunResults([])).toThrow(ConfigError);
  });

  it('refuses overlapping user-id ranges and a mix of shared and distinct ranges', () => {
    const at = (initUserId: number): RunResult => resultOf(all.slice(0, 10), { config: { initUserId, numUsers: 120, time: 60 } });
    // 120 users + 66 joins in 60 s: ids 1..187 for init 0.
    expect(() => mergeRunResults([at(0), at(100)])).toThrow(/overlap/);
    expect(() => mergeRunResults([at(0), at(0), at(10_000)])).toThrow(/initUserId/);
    expect(() => mergeRunResults([at(0), at(100)], { kind: 'partitions' })).toThrow(/one user-id range/);
  });
});
