// The checks every engine topology runs: pd-bench's multi-round workload against real llama-servers, compared
// with what the servers themselves report (usage, timings, /tokenize, /metrics). Each *.test.ts file starts
// its topology and calls engineSuite().
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { RequestRecord } from '../../src/result/record.js';
import { byUser, cachedShares, coveredMs, finishedSessions, fmt, historyProblems, mean, meanItlMs, runWorkload, serverItlMs, SESSIONS_TO_FINISH, spread, sum, ttftMs, WORKLOAD, type EngineRun } from './bench.js';
import { counterDelta, LlamaServer, stopAll, type EngineFiles } from './llama-server.js';
import type { Exchange } from './recording-proxy.js';

export interface Topology {
  /** The /v1 base pd-bench talks to. */
  baseUrl: string;
  /** Every server that streams answers: together their /metrics counters must add up to the run's totals. */
  answering: LlamaServer[];
  /** PD: the prefill server, and its legs as a recording proxy in front of it saw them. */
  prefill?: { server: LlamaServer; legs: () => Exchange[] };
  close?: () => Promise<void>;
}

/**
 * What the suite asserts is behaviour: every request, token and cached token accounted for against what the
 * servers report, and ordering facts (the client's TTFT is never below the server's prompt_ms). How far the
 * client's TTFT and ITL lie from the servers' own timings depends on how busy the machine is, so those figures
 * are printed and, with PD_BENCH_ENGINE_RECORD=FILE, appended to FILE as one JSON line per topology;
 * bench/engine-fidelity.mjs runs the suite repeatedly and records their distribution in bench/ENGINE-FIDELITY.md.
 */
export interface Fidelity {
  topology: string;
  /** TTFT - prompt_ms (PD: - the prefill leg's prompt_ms too), per request, ms. */
  ttftExcessMs: number[];
  /** The same, less the time the request waited while its server(s) computed other requests' prompts. */
  ttftResidualMs: number[];
  /** |client mean ITL - timings.predicted_per_token_ms| per request, ms. */
  itlAbsDiffMs: number[];
  /** Run itl_ms.mean - the servers' token-weighted decode time per token, ms. */
  runItlDiffMs: number;
  requests: number;
  wallMs: number;
  loopDelayMs: { p50: number; p99: number; max: number };
  loadAverage: number[];
}

const verbose = process.env.PD_BENCH_ENGINE_VERBOSE === '1';

const COUNTERS = {
  prompt: 'llamacpp:prompt_tokens_total',
  cached: 'llamacpp:prompt_tokens_cached_total',
  predicted: 'llamacpp:tokens_predicted_total',
} as const;

interface LegTimings {
  prompt_n: number;
  prompt_ms: number;
  cache_n: number;
  predicted_n: number;
}

/** One short request so that first-request costs (page faults, thread start-up) stay out of the measured run. */
async function warm(s: LlamaServer): Promise<void> {
  const res = await fetch(`${s.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Warm up, please.' }], max_tokens: 4, temperature: 0 }),
  });
  await res.text();
}

const commonPrefix = (a: readonly number[], b: readonly number[]): number => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};

export function engineSuite(name: string, start: (files: EngineFiles) => Promise<Topology>, flags: Record<string, unknown> = {}): {
  run: () => EngineRun;
  topology: () => Topology;
} {
  let topo: Topology;
  let run: EngineRun;
  const before = new Map<LlamaServer, Map<string, number>>();
  const after = new Map<LlamaServer, Map<string, number>>();
  /** The server's tokens for each request's chat messages, by record id. */
  const tokens = new Map<number, number[]>();
  let warmTokens: number[] = [];
  const servers = (): LlamaServer[] => [...topo.answering, ...(topo.prefill ? [topo.prefill.server] : [])];
  const ok = (): RequestRecord[] => run.records.filter((r) => r.outcome === 'ok');
  const fidelity: Partial<Fidelity> = { topology: name };

  beforeAll(async () => {
    topo = await start(inject('engineFiles'));
    for (const s of servers()) await warm(s);
    for (const s of servers()) before.set(s, await s.metrics());
    run = await runWorkload(topo.baseUrl, flags, SESSIONS_TO_FINISH);
    for (const s of servers()) after.set(s, await s.metrics());
    const tokenizer = topo.answering[0] as LlamaServer;
    for (const r of run.records) tokens.set(r.id, await tokenizer.chatTokens(run.messages.get(r.id) ?? []));
    warmTokens = await tokenizer.chatTokens([{ role: 'user', content: 'Warm up, please.' }]);
  });

  afterAll(async () => {
    await topo?.close?.();
    await stopAll();
    const file = process.env.PD_BENCH_ENGINE_RECORD;
    if (file && run) {
      const line: Fidelity = {
        ttftExcessMs: [],
        ttftResidualMs: [],
        itlAbsDiffMs: [],
        runItlDiffMs: NaN,
        ...fidelity,
        topology: name,
        requests: run.records.length,
        wallMs: run.wallMs,
        loopDelayMs: run.loopDelay,
        loadAverage: loadavg(),
      };
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    }
  });

  const delta = (s: LlamaServer, counter: string): number => counterDelta(before.get(s) as Map<string, number>, after.get(s) as Map<string, number>, counter);

  /** PD: the prefill leg of each record, matched by user and order (a user's turns are sequential). */
  const legOf = (): Map<number, Exchange> => {
    const out = new Map<number, Exchange>();
    const legs = (topo.prefill?.legs() ?? []).filter((e) => e.path.endsWith('/chat/completions')).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    for (const [user, list] of byUser(run.records)) {
      const mine = legs.filter((e) => e.userId === String(user));
      list.forEach((r, i) => {
        const e = mine[i];
        if (e) out.set(r.id, e);
      });
    }
    return out;
  };

  it(`${name}: every request succeeds and each round carries the conversation so far`, () => {
    const r = run.result;
    // The run ends when SESSIONS_TO_FINISH users have finished every round; reaching --time first means it did not.
    expect(
      finishedSessions(run.records, WORKLOAD['num-rounds']),
      `only ${finishedSessions(run.records, WORKLOAD['num-rounds'])} of ${SESSIONS_TO_FINISH} sessions finished within the safety bound (--time ${WORKLOAD.time} s, ${run.records.length} requests)`,
    ).toBeGreaterThanOrEqual(SESSIONS_TO_FINISH);
    expect(r.counts.launched).toBeGreaterThanOrEqual(8);
    expect(r.counts, JSON.stringify(run.records.filter((x) => x.outcome !== 'ok').map((x) => x.errorMessage))).toMatchObject({ failed: 0, cancelled: 0 });
    expect(r.counts.ok).toBe(r.counts.launched);
    expect(run.records.length).toBe(r.counts.launched);
    for (const x of run.records) expect(x.finishReason, `request ${x.id}`).toBe('length');
    expect(historyProblems(run)).toEqual([]);
    // Users who run their session inside the window send real history (earlier answers) in later rounds.
    expect(cachedShares(run.records).continued.length).toBeGreaterThanOrEqual(3);
  });

  it(`${name}: prompt tokens are the server's usage and equal /tokenize of the same chat text`, () => {
    for (const r of ok()) {
      expect(r.tokenSource).toBe('usage');
      expect(r.promptTokens, `request ${r.id} (user ${r.userId} round ${r.round})`).toBe(tokens.get(r.id)?.length);
      // llama-server's timings split the same count into computed and cached tokens.
      const t = r.serverTimings;
      expect(t, 'serverTimings').toBeDefined();
      expect((t?.promptN ?? NaN) + (t?.cacheN ?? NaN)).toBe(r.promptTokens);
      expect(t?.cacheN).toBe(r.cachedTokens);
    }
  });

  it(`${name}: every answer has --answer-len output tokens, one per streamed chunk`, () => {
    for (const r of ok()) {
      expect(r.completionTokens).toBe(WORKLOAD['answer-len']);
      expect(r.serverTimings?.predictedN).toBe(WORKLOAD['answer-len']);
      expect(r.chunkTimesMs.length).toBe(WORKLOAD['answer-len']);
    }
    expect(run.result.tokens.completion).toBe(WORKLOAD['answer-len'] * run.result.counts.ok);
  });

  it(`${name}: client TTFT >= the server's prompt_ms (PD: >= both legs' prompt_ms, after the prefill leg ended)`, () => {
    const legs = legOf();
    const ms = (ns: bigint): number => Number(ns - run.t0) / 1e6;
    const promptMs = (r: RequestRecord): number => r.serverTimings?.promptMs ?? NaN;
    const legTimings = (e: Exchange): LegTimings => (e.responseBody as { timings: LegTimings }).timings;
    // When each request's prompt was being computed, on the client's clock (ends at its first token).
    const computing = ok().map((r) => ({ id: r.id, span: [(r.firstTokenMs as number) - promptMs(r), r.firstTokenMs as number] as const }));
    const legComputing = [...legs].map(([id, e]) => ({ id, span: [ms(e.endNs) - legTimings(e).prompt_ms, ms(e.endNs)] as const }));
    const others = (list: typeof computing, id: number): (readonly [number, number])[] => list.filter((x) => x.id !== id).map((x) => x.span);
    const excess: number[] = [];
    const residual: number[] = [];
    for (const r of ok()) {
      const first = r.firstTokenMs as number;
      let d = ttftMs(r) - promptMs(r);
      let waited: number;
      if (topo.prefill) {
        // PD: the router waited for the whole prefill leg before the decode server saw the request.
        const e = legs.get(r.id);
        expect(e, `prefill leg of request ${r.id}`).toBeDefined();
        const leg = e as Exchange;
        expect(leg.requestBody).toMatchObject({ max_tokens: 1, stream: false, messages: run.messages.get(r.id) });
        expect(leg.requestBody.stream_options).toBeUndefined();
        const t = legTimings(leg);
        expect(t.prompt_n + t.cache_n).toBe(r.promptTokens);
        expect(t.predicted_n).toBe(1);
        const [legStart, legEnd] = [ms(leg.startNs), ms(leg.endNs)];
        expect(legStart).toBeGreaterThanOrEqual(r.sentMs);
        expect(first - promptMs(r)).toBeGreaterThanOrEqual(legEnd);
        d -= t.prompt_ms;
        waited = coveredMs(legStart, legEnd - t.prompt_ms, others(legComputing, r.id)) + coveredMs(legEnd, first - promptMs(r), others(computing, r.id));
        if (verbose) console.log(`  user ${r.userId} round ${r.round}: ttft ${ttftMs(r).toFixed(1)} = leg ${(legEnd - legStart).toFixed(1)} (prompt_ms ${t.prompt_ms.toFixed(1)}) + decode prompt_ms ${promptMs(r).toFixed(1)} + ${d.toFixed(1)}, of which waiting on other prompts ${waited.toFixed(1)}`);
      } else {
        waited = coveredMs(r.sentMs, first - promptMs(r), others(computing, r.id));
        if (verbose) console.log(`  user ${r.userId} round ${r.round}: ttft ${ttftMs(r).toFixed(1)} = prompt_ms ${promptMs(r).toFixed(1)} + ${d.toFixed(1)}, of which waiting on other prompts ${waited.toFixed(1)}`);
      }
      excess.push(d);
      residual.push(d - waited);
    }
    console.log(`engine[${name}] TTFT - timings.prompt_ms${topo.prefill ? ' (decode) - prefill leg prompt_ms' : ''}: ${fmt(spread(excess))}; without waiting on other prompts: ${fmt(spread(residual))}`);
    fidelity.ttftExcessMs = excess;
    fidelity.ttftResidualMs = residual;
    // An ordering fact, true however busy the machine: the server computed the prompt inside the client's TTFT.
    // How much more the client saw (HTTP, template, waiting, a busy machine) is measured in bench/ENGINE-FIDELITY.md.
    expect(excess.length).toBe(ok().length);
    for (const d of excess) expect(d).toBeGreaterThanOrEqual(0);
  });

  it(`${name}: client ITL counts one gap per server-decoded token; its distance to the server's is recorded`, () => {
    const diffs = ok().map((r) => meanItlMs(r) - serverItlMs(r));
    const s = spread(diffs.map(Math.abs));
    // pd-bench's own itl_ms histogram (every gap of every request) against the servers' decode steps.
    const steps = ok().map((r) => (r.completionTokens ?? 0) - 1);
    const serverMean = sum(ok().map((r, i) => serverItlMs(r) * (steps[i] as number))) / sum(steps);
    const runDiff = (run.result.metrics.itl_ms.mean ?? NaN) - serverMean;
    console.log(
      `engine[${name}] |client mean ITL - predicted_per_token_ms| per request: ${fmt(s)}; run itl_ms.mean ${run.result.metrics.itl_ms.mean?.toFixed(2)} vs server ${serverMean.toFixed(2)} ms; ` +
        `client event-loop delay p99 ${run.loopDelay.p99.toFixed(1)} max ${run.loopDelay.max.toFixed(1)} ms`,
    );
    if (verbose) {
      for (const r of ok()) {
        const g = r.chunkTimesMs.slice(1).map((x, i) => (x - (r.chunkTimesMs[i] as number)).toFixed(1));
        console.log(`  user ${r.userId} round ${r.round}: client ${meanItlMs(r).toFixed(2)} server ${serverItlMs(r).toFixed(2)} ms; gaps ${g.join(' ')}`);
      }
    }
    fidelity.itlAbsDiffMs = diffs.map(Math.abs);
    fidelity.runItlDiffMs = runDiff;
    // Behaviour: the run's itl_ms holds one gap per token the servers decoded after the first (predicted_n - 1
    // per request), and its mean is the token-weighted mean of every request's gaps. How close those gaps come
    // to the server's own decode times depends on how promptly each process was scheduled: bench/ENGINE-FIDELITY.md.
    expect(run.result.metrics.itl_ms.count).toBe(sum(ok().map((r) => (r.serverTimings?.predictedN ?? NaN) - 1)));
    const clientMean = sum(ok().map((r, i) => meanItlMs(r) * (steps[i] as number))) / sum(steps);
    expect(Math.abs((run.result.metrics.itl_ms.mean ?? NaN) - clientMean)).toBeLessThan(0.01 * clientMean + 0.01);
    for (const d of diffs) expect(Number.isFinite(d)).toBe(true);
  });

  it(`${name}: run token totals equal the deltas of llama-server's /metrics counters`, () => {
    const r = run.result;
    const records = ok();
    expect(r.tokens.prompt).toBe(sum(records.map((x) => x.promptTokens ?? NaN)));
    expect(r.tokens.cached).toBe(sum(records.map((x) => x.cachedTokens ?? NaN)));
    const total = (c: string): number => sum(topo.answering.map((s) => delta(s, c)));
    // prompt_tokens_total counts computed prompt tokens, prompt_tokens_cached_total the ones reused from cache.
    expect(total(COUNTERS.prompt) + total(COUNTERS.cached)).toBe(r.tokens.prompt);
    expect(total(COUNTERS.cached)).toBe(r.tokens.cached);
    expect(total(COUNTERS.predicted)).toBe(r.tokens.completion);
    if (topo.prefill) {
      // The router's prefill leg sends the same messages with max_tokens 1.
      const p = topo.prefill.server;
      expect(delta(p, COUNTERS.prompt) + delta(p, COUNTERS.cached)).toBe(r.tokens.prompt);
      expect(delta(p, COUNTERS.predicted)).toBe(r.counts.ok);
    }
  });

  it(`${name}: cached-token share is near zero in round 1 and rises with the round as history grows`, () => {
    const { firstRoundFresh, continued, byRound } = cachedShares(ok());
    const rounds = [...byRound.keys()].sort((a, b) => a - b);
    console.log(
      `engine[${name}] cached share: new users' round 1 ${fmt(spread(firstRoundFresh))}, later rounds ${fmt(spread(continued))}; mean by round ` +
        rounds.map((k) => `${k}: ${mean(byRound.get(k) ?? []).toFixed(3)}`).join(', ') +
        `; run ${run.result.throughput.cachedTokenShare?.toFixed(3)}`,
    );
    expect(firstRoundFresh.length).toBeGreaterThan(0);
    for (const s of firstRoundFresh) expect(s).toBeLessThan(0.05);
    // Exactly: a new user's first prompt can only hit the tokens it shares with a prompt the server saw
    // before (BOS, the template's "<|user|>" and "For user "), never its own context.
    for (const list of byUser(ok()).values()) {
      const r = list[0] as RequestRecord;
      if (r.round !== 1) continue;
      const mine = tokens.get(r.id) ?? [];
      let shared = commonPrefix(mine, warmTokens);
      for (const o of run.records) if (o.id !== r.id && o.sentMs < r.sentMs) shared = Math.max(shared, commonPrefix(mine, tokens.get(o.id) ?? []));
      expect(r.cachedTokens, `user ${r.userId} round 1`).toBeLessThanOrEqual(shared);
    }
    // Later rounds find the whole earlier conversation in the cache: the previous prompt (all but the last
    // token or so, where the template meets the answer) and more as history grows.
    for (const s of continued) expect(s).toBeGreaterThan(0.6);
    for (const list of byUser(ok()).values()) {
      for (let i = 1; i < list.length; i++) {
        const [prev, r] = [list[i - 1] as RequestRecord, list[i] as RequestRecord];
        expect(r.cachedTokens, `user ${r.userId} round ${r.round}`).toBeGreaterThanOrEqual((prev.promptTokens ?? NaN) - 2);
        expect(r.cachedTokens as number).toBeGreaterThan(prev.cachedTokens as number);
      }
    }
    expect(mean(byRound.get(2) ?? [])).toBeGreaterThan(mean(byRound.get(1) ?? []) + 0.5);
  });

  return { run: () => run, topology: () => topo };
}
