// runBenchmark (the library, no IO) against the mock over real sockets: nothing is dropped (launched = ok +
// failed + cancelled, with errors injected, on drain timeout and on abort), late turns are counted, warmup stays
// out of the statistics, the session header rides on every request, and the workload is what the README promises
// (same seed => same bytes, history holds the real answers, one shared system text). Request bodies are checked
// as the mock received them, not as pd-bench thinks it sent them.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/config/options.js';
import { resolveConfig } from '../../src/config/resolve.js';
import type { RequestRecord } from '../../src/result/record.js';
import type { RunResult } from '../../src/result/schema.js';
import { runBenchmark } from '../../src/run.js';
import { TextFactory } from '../../src/workload/text.js';
import { startMock, type MockKnobs, type MockPerRequest, type MockRequestInfo, type StartedMock } from '../helpers/mock-openai.js';
import { firstTurnsInWindow } from '../helpers/schedule.js';

const mocks: StartedMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

async function mock(knobs: Partial<MockKnobs> = {}, perRequest?: MockPerRequest): Promise<StartedMock> {
  const m = await startMock({ ttftMs: 5, itlMs: 1, ...knobs }, perRequest);
  mocks.push(m);
  return m;
}

type FullConfig = RunConfig & { baseUrl: string; model: string };

function config(m: StartedMock, over: Partial<RunConfig> = {}): FullConfig {
  const { config: base } = resolveConfig({ flags: {} });
  return {
    ...base,
    numUsers: 4,
    numRounds: 3,
    qps: [8],
    sharedSystemPrompt: 100,
    userHistoryPrompt: 100,
    answerLen: 6,
    time: 1.5,
    drainTimeout: 20,
    requestTimeout: 20,
    ...over,
    baseUrl: m.url,
    model: 'mock-model',
  };
}

interface Ran {
  result: RunResult;
  records: RequestRecord[];
  measured: RequestRecord[];
  /** The run's time origin (record times are ms since it). */
  t0: bigint;
}

// Building a TextFactory costs ~0.5 s; tests that do not compare seeds share one per seed.
const texts = new Map<number, TextFactory>();
const sharedText = (seed: number): TextFactory => {
  let t = texts.get(seed);
  if (!t) texts.set(seed, (t = new TextFactory(seed)));
  return t;
};

interface RunExtras {
  freshText?: boolean;
  /** Closes the launch window early (runBenchmark's endLaunchWindow), for runs that stop on an event. */
  endLaunchWindow?: AbortSignal;
  onRecord?: (r: RequestRecord) => void;
}

async function run(cfg: FullConfig, signal?: AbortSignal, opts: RunExtras = {}): Promise<Ran> {
  const records: RequestRecord[] = [];
  let t0 = 0n;
  const result = await runBenchmark(
    {
      config: cfg,
      qps: cfg.qps[0] as number,
      runId: 'test',
      scenario: 'test',
      ...(opts.freshText ? {} : { text: sharedText(cfg.seed) }),
      ...(opts.endLaunchWindow ? { endLaunchWindow: opts.endLaunchWindow } : {}),
      onStart: (s) => (t0 = s.t0),
      onRecord: (r) => {
        records.push(r);
        opts.onRecord?.(r);
      },
    },
    signal,
  );
  return { result, records, measured: records.filter((r) => r.phase === 'measure'), t0 };
}

function expectNothingDropped(r: Ran): void {
  const c = r.result.counts;
  expect(c.launched).toBe(c.ok + c.failed + c.cancelled);
  expect(r.measured).toHaveLength(c.launched);
  expect(r.measured.filter((x) => x.outcome === 'ok')).toHaveLength(c.ok);
  expect(r.measured.filter((x) => x.outcome === 'failed')).toHaveLength(c.failed);
  expect(r.measured.filter((x) => x.outcome === 'cancelled')).toHaveLength(c.cancelled);
  const byClass = Object.values(c.errorsByClass).reduce((a, b) => a + (b ?? 0), 0);
  expect(byClass).toBe(c.failed + c.cancelled);
}

interface ChatMessage {
  role: string;
  content: string;
}
interface SeenTurn {
  info: MockRequestInfo;
  header: string | undefined;
  messages: ChatMessage[];
  maxTokens: number;
  /** From the last user message, "Here's question #N: ..." */
  round: number | undefined;
  raw: string;
}

function chatTurns(m: StartedMock, header = 'x-user-id'): SeenTurn[] {
  return m.server.requests
    .filter((q) => q.path === '/v1/chat/completions')
    .map((info) => {
      const body = info.body as { messages: ChatMessage[]; max_tokens: number };
      const lastUser = [...body.messages].reverse().find((x) => x.role === 'user');
      const q = /Here's question #(\d+):/.exec(lastUser?.content.split('\n\n').pop() ?? '');
      const h = info.headers[header];
      return {
        info,
        header: typeof h === 'string' ? h : undefined,
        messages: body.messages,
        maxTokens: body.max_tokens,
        round: q ? Number(q[1]) : undefined,
        raw: JSON.stringify(info.body),
      };
    });
}

/** Turns the schedule alone guarantees inside the launch window (first turns: nothing to wait for). */
const guaranteed = (cfg: FullConfig): number => firstTurnsInWindow({ ...cfg, qps: cfg.qps[0] as number });

/** The mock's deterministic answer for max_tokens n. */
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
const answer = (n: number): string => WORDS.slice(0, n).map((w) => ` ${w}`).join('');

describe('runBenchmark: nothing is dropped', () => {
  it('a clean run: every launched turn reaches the server and is recorded ok', async () => {
    const m = await mock();
    const cfg = config(m);
    const r = await run(cfg);
    const c = r.result.counts;
    // From the schedule, not from speed: every user's first turn due in the window is launched (9 here).
    expect(c.launched).toBeGreaterThanOrEqual(guaranteed(cfg));
    expect(guaranteed(cfg)).toBeGreaterThanOrEqual(8);
    expect(c.ok).toBe(c.launched);
    expectNothingDropped(r);
    expect(chatTurns(m)).toHaveLength(c.launched);
    expect(r.result.interrupted).toBe(false);
    expect(r.result.tokens.source).toBe('usage');
    expect(r.result.tokens.completion).toBe(c.ok * 6);
    expect(r.result.metrics.ttft_ms.count).toBe(c.ok);
    // At least the configured TTFT of 5 ms.
    expect(r.result.metrics.ttft_ms.min as number).toBeGreaterThanOrEqual(5);
    expect(r.result.vllm.completed).toBe(c.ok);
    expect(r.result.throughput.launchWindowS).toBeCloseTo(1.5, 5);
  });

  it('with HTTP errors, resets and mid-stream errors injected: failures are classified, users go on', async () => {
    // Deterministic by arrival order; index 0.. are the run's requests (no preflight in the library).
    const fault = (i: number): Partial<MockKnobs> | undefined =>
      i % 4 === 1 ? { failStatus: 500 } : i % 4 === 2 ? { resetAfterTokens: 2 } : i % 4 === 3 ? { midStreamErrorAfterTokens: 1 } : undefined;
    const m = await mock({}, (info) => fault(info.index));
    const cfg = config(m, { numUsers: 4, numRounds: 4, qps: [10], time: 1.5 });
    const r = await run(cfg);
    const c = r.result.counts;
    expectNothingDropped(r);
    // Was ">= 12", which needs later rounds to be sent in time; the schedule guarantees the 8 first turns, and
    // with faults by arrival index (1, 2, 3 of every 4) that is enough for every fault kind and some successes.
    expect(c.launched).toBeGreaterThanOrEqual(guaranteed(cfg));
    expect(guaranteed(cfg)).toBeGreaterThanOrEqual(8);
    expect(chatTurns(m)).toHaveLength(c.launched);
    expect(c.failed).toBeGreaterThan(0);
    expect(c.ok).toBeGreaterThan(0);
    expect(c.cancelled).toBe(0);
    // Every fault kind shows up under its own class, and the classes add up to what the mock injected.
    const injected = { http_error: 0, connection_reset: 0, stream_error: 0 };
    for (const t of chatTurns(m)) {
      const f = fault(t.info.index);
      if (f?.failStatus) injected.http_error++;
      else if (f?.resetAfterTokens !== undefined) injected.connection_reset++;
      else if (f?.midStreamErrorAfterTokens !== undefined) injected.stream_error++;
    }
    expect(c.errorsByClass).toEqual(Object.fromEntries(Object.entries(injected).filter(([, n]) => n > 0)));
    expect(c.failed).toBe(injected.http_error + injected.connection_reset + injected.stream_error);
    // Latency statistics use successful requests only.
    expect(r.result.metrics.ttft_ms.count).toBe(c.ok);
    expect(r.result.metrics.schedule_lag_ms.count).toBe(c.launched);

    // A user whose turn failed still sends its next round, and the failed question is not in that history.
    const turns = chatTurns(m);
    let checked = 0;
    for (const rec of r.measured.filter((x) => x.outcome === 'failed')) {
      const next = turns.find((t) => t.header === String(rec.userId) && t.round === rec.round + 1);
      if (!next) continue;
      checked++;
      const failedQ = `Here's question #${rec.round}:`;
      expect(next.messages.some((x) => x.role === 'user' && x.content.includes(failedQ))).toBe(false);
      next.messages.forEach((x, i) => expect(x.role).toBe(i % 2 === 0 ? 'user' : 'assistant'));
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('aborting the signal stops scheduling, records in-flight turns as cancelled, and returns promptly', async () => {
    // Every answer would take 10 s; the abort comes when the mock has received the 3rd request, so those turns
    // are surely in flight (an event, not a guess at a time). "Promptly" is an ordering: the run returns, and the
    // cancelled turns end, before any of their answers could have come, not within some number of ms.
    const TTFT = 10_000;
    const ac = new AbortController();
    let abortedAt = 0n;
    const m = await mock({ ttftMs: TTFT, itlMs: 1 }, (info) => {
      if (info.index === 2) {
        setImmediate(() => {
          abortedAt = process.hrtime.bigint();
          ac.abort('test interrupt');
        });
      }
      return undefined;
    });
    const cfg = config(m, { numUsers: 4, numRounds: 3, qps: [8], time: 30 });
    const r = await run(cfg, ac.signal);
    const returnedAt = process.hrtime.bigint();
    expect(abortedAt).toBeGreaterThan(0n);
    const abortMs = Number(abortedAt - r.t0) / 1e6;
    const c = r.result.counts;
    expect(r.result.interrupted).toBe(true);
    expectNothingDropped(r);
    expect(c.cancelled).toBeGreaterThanOrEqual(3);
    for (const rec of r.measured.filter((x) => x.outcome === 'cancelled')) {
      expect(rec.errorClass).toBe('cancelled');
      expect(rec.errorMessage).toContain('test interrupt');
    }
    expect(c.errorsByClass.cancelled).toBe(c.cancelled);
    // No turn was launched after the abort, and the cancelled ones ended at it (not at their natural end).
    for (const rec of r.measured) expect(rec.sentMs).toBeLessThanOrEqual(abortMs);
    for (const rec of r.measured.filter((x) => x.outcome === 'cancelled')) {
      expect(rec.endMs).toBeGreaterThanOrEqual(abortMs);
      expect(rec.firstTokenMs).toBeUndefined();
      expect(rec.endMs).toBeLessThan(rec.sentMs + TTFT);
    }
    // The run returned before the earliest answer of a request the mock received could have come.
    const earliestAnswer = Math.min(...chatTurns(m).map((t) => Number(t.info.receivedNs - r.t0) / 1e6)) + TTFT;
    expect(Number(returnedAt - r.t0) / 1e6).toBeLessThan(earliestAnswer);
    // The launch window ended at the abort, not after the 30 s of --time.
    expect(r.result.throughput.launchWindowS * 1000).toBeLessThanOrEqual(Number(returnedAt - r.t0) / 1e6);
    expect(r.result.throughput.launchWindowS).toBeLessThan(cfg.time);
    expect(r.result.notes.join('\n')).toMatch(/cancelled/);
  });

  it('turns still running at the drain deadline are cancelled, not dropped', async () => {
    // From the 3rd request on, answers would take 60 s; the drain deadline (0.3 s after the 0.6 s window) cuts them.
    const SLOW = 60_000;
    const m = await mock({ ttftMs: 5, itlMs: 1 }, (info) => (info.index >= 2 ? { ttftMs: SLOW } : undefined));
    const r = await run(config(m, { numUsers: 4, numRounds: 3, qps: [8], time: 0.6, drainTimeout: 0.3 }));
    const c = r.result.counts;
    expect(r.result.interrupted).toBe(false);
    expectNothingDropped(r);
    expect(c.cancelled).toBeGreaterThan(0);
    expect(c.ok).toBeGreaterThanOrEqual(1);
    // Was "the whole run took < 4 s" (wall clock). As an ordering: each was cancelled by the drain timeout,
    // before its answer could have come, and not before the deadline (window end + drain timeout).
    const measureStartMs = Math.min(...r.measured.map((x) => x.intendedMs)); // user k = 0's first turn is due at 0
    for (const rec of r.measured.filter((x) => x.outcome === 'cancelled')) {
      expect(rec.errorMessage).toMatch(/drain timeout/);
      expect(rec.firstTokenMs).toBeUndefined();
      expect(rec.endMs).toBeLessThan(rec.sentMs + SLOW);
      expect(rec.endMs).toBeGreaterThanOrEqual(measureStartMs + (0.6 + 0.3) * 1000);
    }
  });
});

describe('runBenchmark: schedule', () => {
  it('counts a turn that came due while the user\'s previous turn was running as late, and sends it after that turn', async () => {
    // 2 users, gap per user 0.5 s, but every answer takes >= 700 ms: the next round is always due too early.
    // The launch window closes on an event (the first late turn recorded), not after a --time that only yields
    // a late turn when the first answers come back in time; --time 600 is only the bound.
    const m = await mock({ ttftMs: 700, itlMs: 1 });
    const end = new AbortController();
    const r = await run(config(m, { numUsers: 2, numRounds: 3, qps: [4], time: 600, answerLen: 2 }), undefined, {
      endLaunchWindow: end.signal,
      onRecord: (rec) => rec.phase === 'measure' && rec.late && end.abort(),
    });
    const c = r.result.counts;
    expect(end.signal.aborted).toBe(true);
    expectNothingDropped(r);
    const late = r.measured.filter((x) => x.late);
    expect(c.late).toBeGreaterThan(0);
    expect(c.late).toBe(late.length);
    for (const rec of late) {
      const prev = r.measured.find((x) => x.userId === rec.userId && x.round === rec.round - 1);
      expect(prev, `user ${rec.userId} round ${rec.round - 1}`).toBeDefined();
      // Sent only after the previous turn ended, which was after this turn's due time.
      expect(rec.sentMs).toBeGreaterThanOrEqual((prev as RequestRecord).endMs);
      expect((prev as RequestRecord).endMs).toBeGreaterThan(rec.intendedMs);
      // Follows from the mock's 700 ms floor: prev ended >= its due time + 700 = this due time + 200.
      expect(rec.sentMs - rec.intendedMs).toBeGreaterThan(100);
      // ...and its intended time stays on the schedule's grid: one gap (0.5 s) after the previous round's.
      expect(rec.intendedMs - (prev as RequestRecord).intendedMs).toBeCloseTo(500, 3);
    }
    // Turns not counted late were not held back by their user: the previous round (if any) had ended by their due
    // time, and they were not sent early. (Was "sent < 200 ms after the due time": that is the machine's speed.)
    for (const rec of r.measured.filter((x) => !x.late)) {
      const prev = r.measured.find((x) => x.userId === rec.userId && x.round === rec.round - 1);
      if (prev) expect(prev.endMs).toBeLessThanOrEqual(rec.intendedMs);
      expect(rec.sentMs).toBeGreaterThanOrEqual(rec.intendedMs);
    }
    expect(r.result.metrics.schedule_lag_ms.max as number).toBeGreaterThan(100);
    // Response time from the intended send includes the wait.
    for (const rec of late) expect((rec.firstTokenMs as number) - rec.intendedMs).toBeGreaterThan((rec.firstTokenMs as number) - rec.sentMs);
    expect(r.result.notes.join('\n')).toMatch(/came due while/);
  });

  it('warmup requests go first and are excluded from every statistic', async () => {
    // Warmup (max_tokens 5) is slow; measured turns are fast: any leak shows in the TTFT max.
    const m = await mock({ ttftMs: 5, itlMs: 1 }, (info) => ((info.body as { max_tokens?: number }).max_tokens === 5 ? { ttftMs: 400 } : undefined));
    const r = await run(config(m, { warmupRequests: 3, warmupMaxTokens: 5, answerLen: 6, time: 1 }));
    const c = r.result.counts;
    expect(c.warmup).toEqual({ launched: 3, ok: 3, failed: 0, cancelled: 0 });
    expectNothingDropped(r);
    expect(c.launched).toBeGreaterThan(0);
    const warm = r.records.filter((x) => x.phase === 'warmup');
    expect(warm).toHaveLength(3);
    // The warmup finishes before the first measured turn is sent.
    const lastWarmEnd = Math.max(...warm.map((x) => x.endMs));
    for (const rec of r.measured) expect(rec.sentMs).toBeGreaterThanOrEqual(lastWarmEnd);
    const turns = chatTurns(m);
    expect(turns.slice(0, 3).map((t) => t.maxTokens)).toEqual([5, 5, 5]);
    expect(turns.slice(3).every((t) => t.maxTokens === 6)).toBe(true);
    expect(new Set(turns.slice(0, 3).map((t) => t.raw)).size).toBe(3); // unique warmup prompts
    // Statistics: measured turns only.
    expect(r.result.metrics.ttft_ms.count).toBe(c.ok);
    // Was "TTFT max < 400 ms" (the warmup's TTFT), which also bounds the measured turns' speed. Exactly: the
    // statistic's max is the largest measured TTFT, so no warmup value is in it.
    const measuredTtft = r.measured.filter((x) => x.outcome === 'ok').map((x) => (x.firstTokenMs as number) - x.sentMs);
    expect(r.result.metrics.ttft_ms.max as number).toBeCloseTo(Math.max(...measuredTtft), 6);
    expect(r.result.metrics.e2el_ms.count).toBe(c.ok);
    expect(r.result.tokens.completion).toBe(c.ok * 6);
    expect(r.result.vllm.completed).toBe(c.ok);
  });
});

describe('runBenchmark: token accounting', () => {
  it('a server without usage: counts are the labelled fallback and the result says so', async () => {
    const m = await mock({ usage: 'none', tokensPerChunk: 2 });
    const r = await run(config(m, { time: 0.6, answerLen: 6 }));
    const c = r.result.counts;
    expect(c.ok).toBeGreaterThan(0);
    expect(r.result.tokens.source).toBe('fallback');
    // Fallback completion tokens are counted content chunks: 3 chunks of 2 tokens each.
    expect(r.result.tokens.completion).toBe(c.ok * 3);
    expect(r.result.tokens.prompt).toBe(r.measured.reduce((a, x) => a + x.promptTokensEstimate, 0));
    for (const rec of r.measured) expect(rec.tokenSource).toBe('fallback');
    // None carried usage, so the note says none did (it said "some responses" here).
    const usageNotes = r.result.notes.filter((n) => /carried( no)? usage/.test(n));
    expect(usageNotes).toEqual(['no response carried usage: completion tokens are counted content chunks and prompt tokens are pd-bench estimates']);
  });

  it('a server that leaves usage out of some responses: "some responses carried no usage"', async () => {
    // Every other request without usage (index 0 is the first warmup request; measured ones alternate too).
    const m = await mock({ tokensPerChunk: 1 }, (req) => (req.index % 2 === 1 ? { usage: 'none' } : undefined));
    const r = await run(config(m, { time: 0.6, answerLen: 6 }));
    const sources = new Set(r.measured.filter((x) => x.outcome === 'ok').map((x) => x.tokenSource));
    expect(sources).toEqual(new Set(['usage', 'fallback']));
    expect(r.result.tokens.source).toBe('mixed');
    expect(r.result.notes.filter((n) => /carried( no)? usage/.test(n))).toEqual([
      'some responses carried no usage: their completion tokens are counted content chunks and their prompt tokens are pd-bench estimates',
    ]);
  });

  it('multi-token chunks without per-chunk usage: the result suggests --continuous-usage; with it, ITL is per token', async () => {
    const m = await mock({ tokensPerChunk: 3, usage: 'continuous', itlMs: 3 });
    const plain = await run(config(m, { time: 0.6, answerLen: 6 }));
    expect(plain.result.tokens.perChunkUsage).toBe(false);
    expect(plain.result.tokens.completion).toBe(plain.result.counts.ok * 6);
    expect(plain.result.notes.join('\n')).toMatch(/--continuous-usage/);
    // 2 chunks per answer, each counted as one gap.
    expect(plain.result.metrics.itl_ms.count).toBe(plain.result.counts.ok);

    const exact = await run(config(m, { time: 0.6, answerLen: 6, continuousUsage: true }));
    expect(exact.result.tokens.perChunkUsage).toBe(true);
    expect(exact.result.tokens.tokensPerChunkMean).toBe(3);
    expect(exact.result.notes.join('\n')).not.toMatch(/--continuous-usage/);
    // The second chunk's gap is split into 3 per-token gaps.
    expect(exact.result.metrics.itl_ms.count).toBe(exact.result.counts.ok * 3);
    expect(exact.result.metrics.icl_ms.count).toBe(exact.result.counts.ok);
    expect(exact.result.metrics.itl_ms.mean as number).toBeCloseTo((exact.result.metrics.icl_ms.mean as number) / 3, 1);
  });
});

describe('runBenchmark: requests on the wire', () => {
  it('sends x-user-id on every request, matching the user whose context the prompt carries', async () => {
    const m = await mock();
    const r = await run(config(m, { warmupRequests: 2, warmupMaxTokens: 3 }));
    const turns = chatTurns(m);
    expect(turns.length).toBe(r.result.counts.launched + 2);
    for (const t of turns) {
      expect(t.header, `request ${t.info.index}`).toMatch(/^-?\d+$/);
      if (t.maxTokens === 3) continue; // warmup: its own negative ids
      expect(t.messages[0]?.content).toContain(`For user ${t.header}, here is some other context: `);
    }
    const ids = new Set(turns.filter((t) => t.maxTokens !== 3).map((t) => t.header));
    expect(ids.size).toBeGreaterThan(1);
    for (const rec of r.measured) expect(ids.has(String(rec.userId))).toBe(true);
  });

  it('sends the session header under the configured name (--user-id-header)', async () => {
    const m = await mock();
    const r = await run(config(m, { userIdHeader: 'x-session-affinity', time: 1 }));
    const turns = chatTurns(m, 'x-session-affinity');
    expect(turns.length).toBe(r.result.counts.launched);
    expect(turns.length).toBeGreaterThan(0);
    for (const t of turns) {
      expect(t.header).toMatch(/^\d+$/);
      expect(t.info.headers['x-user-id']).toBeUndefined();
    }
  });

  it('sends streamed, greedy requests with usage and max_tokens = answer-len', async () => {
    const m = await mock();
    await run(config(m, { time: 0.5, answerLen: 7, continuousUsage: true, ignoreEos: true }));
    const turns = chatTurns(m);
    expect(turns.length).toBeGreaterThan(0);
    for (const t of turns) {
      expect(t.info.body).toMatchObject({
        model: 'mock-model',
        stream: true,
        stream_options: { include_usage: true, continuous_usage_stats: true },
        temperature: 0,
        max_tokens: 7,
        ignore_eos: true,
      });
    }
  });

  it('the same seed gives byte-identical prompts for the same user and round; another seed does not', async () => {
    const shape = { numUsers: 3, numRounds: 3, qps: [6], time: 1.2, sharedSystemPrompt: 50, userHistoryPrompt: 80 };
    const bodies = async (seed: number): Promise<Map<string, string>> => {
      const m = await mock();
      await run(config(m, { ...shape, seed }), undefined, { freshText: true });
      return new Map(chatTurns(m).map((t) => [`${t.header}:${t.round}`, t.raw]));
    };
    const a = await bodies(7);
    const b = await bodies(7);
    const other = await bodies(8);
    const common = [...a.keys()].filter((k) => b.has(k));
    expect(common.length).toBeGreaterThanOrEqual(5);
    for (const k of common) expect(b.get(k), k).toBe(a.get(k));
    const commonOther = [...a.keys()].filter((k) => other.has(k));
    expect(commonOther.length).toBeGreaterThanOrEqual(5);
    for (const k of commonOther) expect(other.get(k), k).not.toBe(a.get(k));
  });

  it('the history grows with the model\'s real answers', async () => {
    const m = await mock();
    // The window closes once two users have sent consecutive rounds (an event); --time 600 is only the bound. A
    // fixed 1.5 s window gave pairs only if the first answers came back before it ended.
    const end = new AbortController();
    const seen = new Set<string>();
    const usersWithPairs = new Set<number>();
    const r = await run(config(m, { numUsers: 2, numRounds: 4, qps: [8], time: 600, answerLen: 5 }), undefined, {
      endLaunchWindow: end.signal,
      onRecord: (rec) => {
        if (rec.phase !== 'measure') return;
        seen.add(`${rec.userId}:${rec.round}`);
        if (seen.has(`${rec.userId}:${rec.round - 1}`)) usersWithPairs.add(rec.userId);
        if (usersWithPairs.size >= 2) end.abort();
      },
    });
    expect(end.signal.aborted).toBe(true);
    const turns = chatTurns(m);
    let pairs = 0;
    for (const t of turns) {
      const next = turns.find((x) => x.header === t.header && x.round === (t.round as number) + 1);
      if (!next) continue;
      pairs++;
      const rec = r.measured.find((x) => String(x.userId) === t.header && x.round === t.round) as RequestRecord;
      expect(rec.outcome).toBe('ok');
      expect(rec.text).toBe(answer(5));
      // Next turn = this turn's messages, the real answer, a new question.
      expect(next.messages).toHaveLength(t.messages.length + 2);
      expect(next.messages.slice(0, t.messages.length)).toEqual(t.messages);
      expect(next.messages[t.messages.length]).toEqual({ role: 'assistant', content: answer(5) });
      expect(next.messages[t.messages.length + 1]?.role).toBe('user');
      expect(next.messages[t.messages.length + 1]?.content).toMatch(new RegExp(`^Here's question #${(t.round as number) + 1}:`));
    }
    expect(pairs).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['synthetic', true],
    ['empty', false],
  ] as const)('--preaged-history %s: whether users mid-session at t=0 carry seeded earlier rounds', async (mode, carries) => {
    const m = await mock();
    await run(config(m, { numUsers: 4, numRounds: 3, qps: [8], time: 0.4, preagedHistory: mode }));
    // Users already past round 1 at t=0 send a round > 1 as their first request.
    const firstByUser = new Map<string, SeenTurn>();
    for (const t of chatTurns(m)) if (!firstByUser.has(t.header as string)) firstByUser.set(t.header as string, t);
    const preaged = [...firstByUser.values()].filter((t) => (t.round as number) > 1);
    expect(preaged.length).toBeGreaterThan(0);
    for (const t of preaged) {
      const round = t.round as number;
      expect(t.messages).toHaveLength(carries ? 2 * round - 1 : 1);
      // The first user message always carries the user's context.
      expect(t.messages[0]?.content).toContain(`For user ${t.header},`);
      if (carries) for (const a of t.messages.filter((x) => x.role === 'assistant')) expect(a.content).not.toBe(answer(6));
    }
  });

  it('the shared system text is byte-identical across users; the rest of the first turn is unique per user', async () => {
    const m = await mock();
    await run(config(m, { numUsers: 6, numRounds: 2, qps: [12], time: 1, sharedSystemPrompt: 200, userHistoryPrompt: 60 }));
    const firstTurns = new Map<string, string>();
    for (const t of chatTurns(m)) firstTurns.set(t.header as string, t.messages[0]?.content as string);
    expect(firstTurns.size).toBeGreaterThanOrEqual(4);
    const systems = new Set<string>();
    const contexts = new Set<string>();
    for (const [user, content] of firstTurns) {
      const cut = content.indexOf(`\n\nFor user ${user}, here is some other context: `);
      expect(cut, `user ${user}`).toBeGreaterThan(0);
      systems.add(content.slice(0, cut));
      contexts.add(content.slice(cut));
    }
    expect(systems.size).toBe(1);
    const system = [...systems][0] as string;
    expect(system.startsWith("Here's some system prompt: ")).toBe(true);
    // ~200 tokens at the documented chars/4 estimate.
    expect(system.length / 4).toBeGreaterThan(180);
    expect(system.length / 4).toBeLessThan(220);
    expect(contexts.size).toBe(firstTurns.size);
  });

  it('with no shared system prompt the first turn starts with the user context', async () => {
    const m = await mock();
    await run(config(m, { time: 0.5, sharedSystemPrompt: 0 }));
    const turns = chatTurns(m);
    expect(turns.length).toBeGreaterThan(0);
    for (const t of turns) expect(t.messages[0]?.content.startsWith(`For user ${t.header}, here is some other context: `)).toBe(true);
  });
});

describe('runBenchmark: connection pool', () => {
  it('never queues a request inside the client: every turn gets a socket at once, however many overlap', async () => {
    // Two-round sessions that outlive their gap: user sessions overlap, so more turns are in flight than there
    // are users (the pool was once sized numUsers + 32 and the excess waited for a socket inside TTFT).
    const m = await mock({ ttftMs: 400, itlMs: 1 });
    const r = await run(config(m, { numUsers: 40, numRounds: 2, qps: [400], time: 2, answerLen: 2 }));
    expectNothingDropped(r);
    const ok = r.measured.filter((x) => x.outcome === 'ok');
    // Peak overlap of [sent, end] intervals.
    const events = ok.flatMap((x) => [[x.sentMs, 1], [x.endMs, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let cur = 0;
    let peak = 0;
    for (const [, d] of events) peak = Math.max(peak, (cur += d));
    expect(peak).toBeGreaterThan(40 + 32);
    // No request was stamped sent before the server could see it: TTFT never undercuts the mock's 400 ms.
    const ttft = ok.map((x) => (x.firstTokenMs as number) - x.sentMs).sort((a, b) => a - b);
    expect(ttft[0]).toBeGreaterThanOrEqual(399);
  });
});
