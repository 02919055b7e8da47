// Runs pd-bench's library (runBenchmark) against real llama-servers and computes what the engine tests
// compare: the request bodies pd-bench sent (captured by a wrapping client), client vs server timings, and
// the cached-token share by round.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TargetClient, type TurnRequest, type TurnSender } from '../../src/client/target-client.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { forEachTokenGap } from '../../src/metrics/derive.js';
import type { RequestRecord } from '../../src/result/record.js';
import type { RunResult } from '../../src/result/schema.js';
import { runBenchmark } from '../../src/run.js';

export const MODEL = 'pd-bench-test-llama';

export interface ChatMessage {
  role: string;
  content: string;
}

/** A TargetClient created on the run's own time origin (onStart), that keeps every request pd-bench sends. */
class RecordingSender implements TurnSender {
  readonly sent = new Map<number, TurnRequest>();
  #inner: TargetClient | undefined;
  #baseUrl: string;
  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl;
  }
  start(t0: bigint): void {
    this.#inner = new TargetClient({ baseUrl: this.#baseUrl, apiKey: undefined, endpoint: 'chat', connections: 64, requestTimeoutMs: 120_000, userIdHeader: 'x-user-id', t0 });
  }
  send(req: TurnRequest, signal?: AbortSignal): Promise<RequestRecord> {
    if (!this.#inner) throw new Error('send before onStart');
    this.sent.set(req.id, req);
    return this.#inner.send(req, signal);
  }
  async close(): Promise<void> {
    await this.#inner?.close();
  }
}

export interface EngineRun {
  result: RunResult;
  /** Every finished request (measured phase), in completion order. */
  records: RequestRecord[];
  /** The chat messages of each request, by record id. */
  messages: Map<number, ChatMessage[]>;
  wallMs: number;
  /** The run's time origin (process.hrtime.bigint()): record times are ms since it. */
  t0: bigint;
  /** Event-loop delay of this process during the run (ms): chunks are stamped when their read callback runs. */
  loopDelay: { p50: number; p99: number; max: number };
}

/**
 * The test workload: 3 users x 3 rounds at 1.5 QPS (a turn per user every 2 s, a new user every 1.33 s), up to 3
 * requests at once, 300-500-token prompts, 24-token answers. Users who join during the run go through whole
 * sessions, so later rounds carry real answers. No shared system text: each user's first prompt is unique after
 * the template and "For user ".
 *
 * The run ends on an event, not at a time: the launch window closes once SESSIONS_TO_FINISH users who started in
 * the run have finished every round (about 7 s on an idle machine, 9+ requests), however slowly a busy machine
 * serves them. `time` is only the safety bound: a run that reaches it has not seen the event (see
 * finishedSessions), and the suite says so.
 */
export const SESSIONS_TO_FINISH = 3;
export const WORKLOAD = {
  'num-users': 3,
  'num-rounds': 3,
  qps: '1.5',
  time: 300,
  'shared-system-prompt': 0,
  'user-history-prompt': 300,
  'answer-len': 24,
  'ignore-eos': true,
  seed: 7,
  'request-timeout': 120,
  'drain-timeout': 120,
  'log-interval': 3600,
} as const;

/** Users whose whole session (round 1 to the last round) finished in the run. */
export function finishedSessions(records: readonly RequestRecord[], numRounds: number): number {
  let n = 0;
  for (const list of byUser(records).values()) {
    if ((list[0] as RequestRecord).round === 1 && list.some((r) => r.round === numRounds)) n++;
  }
  return n;
}

/**
 * Runs the workload against `baseUrl`. With `untilSessions`, the launch window closes once that many users who
 * started in the run have finished all their rounds (WORKLOAD.time is then only the safety bound); without it,
 * the run lasts flags.time (or WORKLOAD.time).
 */
export async function runWorkload(baseUrl: string, flags: Record<string, unknown> = {}, untilSessions?: number): Promise<EngineRun> {
  const { config } = resolveConfig({ flags: { ...WORKLOAD, ...flags }, env: {} });
  const sender = new RecordingSender(baseUrl);
  const records: RequestRecord[] = [];
  const endLaunchWindow = new AbortController();
  const done = new Map<number, number>(); // user -> rounds finished in the run, for users who started in it
  const t = Date.now();
  let t0 = 0n;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  try {
    const result = await runBenchmark({
      config: { ...config, baseUrl, model: MODEL },
      qps: config.qps[0] as number,
      runId: 'engine-test',
      scenario: 'engine-test',
      client: sender,
      ...(untilSessions !== undefined ? { endLaunchWindow: endLaunchWindow.signal } : {}),
      onStart: (info) => {
        t0 = info.t0;
        sender.start(info.t0);
      },
      onRecord: (r) => {
        if (r.phase !== 'measure') return;
        records.push(r);
        if (untilSessions === undefined || endLaunchWindow.signal.aborted) return;
        if (r.round === 1 || done.has(r.userId)) done.set(r.userId, (done.get(r.userId) ?? 0) + 1);
        if ([...done.values()].filter((n) => n === config.numRounds).length >= untilSessions) endLaunchWindow.abort();
      },
    });
    const messages = new Map<number, ChatMessage[]>();
    for (const [id, req] of sender.sent) messages.set(id, (JSON.parse(req.body) as { messages: ChatMessage[] }).messages);
    loop.disable();
    const loopDelay = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
    return { result, records, messages, wallMs: Date.now() - t, t0, loopDelay };
  } finally {
    loop.disable();
    await sender.close();
  }
}

/** Records grouped by user, each list in round order. */
export function byUser(records: readonly RequestRecord[]): Map<number, RequestRecord[]> {
  const m = new Map<number, RequestRecord[]>();
  for (const r of records) {
    const list = m.get(r.userId) ?? [];
    list.push(r);
    m.set(r.userId, list);
  }
  for (const list of m.values()) list.sort((a, b) => a.round - b.round);
  return m;
}

/**
 * Problems with history carrying, as messages (empty when fine): each user's consecutive requests in the run
 * must be the previous request's messages, then the previous answer as the assistant's, then a new question;
 * a user's first request in round k carries k - 1 earlier exchanges (pre-aged users carry seeded ones).
 */
export function historyProblems(run: EngineRun): string[] {
  const problems: string[] = [];
  for (const [user, list] of byUser(run.records)) {
    let prev: RequestRecord | undefined;
    for (const r of list) {
      const msgs = run.messages.get(r.id);
      if (!msgs) {
        problems.push(`user ${user} round ${r.round}: request body not captured`);
        continue;
      }
      if (msgs.length !== 2 * r.round - 1) problems.push(`user ${user} round ${r.round}: ${msgs.length} messages, expected ${2 * r.round - 1}`);
      msgs.forEach((m, i) => {
        if (m.role !== (i % 2 === 0 ? 'user' : 'assistant')) problems.push(`user ${user} round ${r.round}: message ${i} has role ${m.role}`);
      });
      if (prev) {
        const before = run.messages.get(prev.id) ?? [];
        if (r.round !== prev.round + 1) problems.push(`user ${user}: round ${r.round} follows round ${prev.round}`);
        const expected = [...before, { role: 'assistant', content: prev.text }];
        for (let i = 0; i < expected.length; i++) {
          const a = msgs[i];
          const e = expected[i] as ChatMessage;
          if (!a || a.role !== e.role || a.content !== e.content) {
            problems.push(`user ${user} round ${r.round}: message ${i} is not the previous round's ${i === expected.length - 1 ? 'answer' : 'message'}`);
            break;
          }
        }
      }
      prev = r;
    }
  }
  return problems;
}

export const ttftMs = (r: RequestRecord): number => (r.firstTokenMs as number) - r.sentMs;

/** Client-side mean inter-token latency of one request, as pd-bench's itl_ms samples it (token-weighted). */
export function meanItlMs(r: RequestRecord): number {
  let sum = 0;
  let n = 0;
  forEachTokenGap(r, (gap, count) => {
    sum += gap * count;
    n += count;
  });
  return n > 0 ? sum / n : NaN;
}

/** Server decode time per token from timings (predicted_ms / (predicted_n - 1), llama-server's predicted_per_token_ms). */
export function serverItlMs(r: RequestRecord): number {
  const t = r.serverTimings;
  if (!t || t.predictedMs === undefined || t.predictedN === undefined || t.predictedN < 2) return NaN;
  return t.predictedMs / (t.predictedN - 1);
}

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

export interface Spread {
  n: number;
  min: number;
  p50: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  return { n: xs.length, min: Math.min(...xs), p50: quantile(xs, 0.5), max: Math.max(...xs) };
}

export const fmt = (s: Spread): string => `n=${s.n} min ${s.min.toFixed(2)} p50 ${s.p50.toFixed(2)} max ${s.max.toFixed(2)} ms`;

/** Cached share (cached / prompt tokens) of each request, split into a user's first request in the run and later ones, and by round. */
export function cachedShares(records: readonly RequestRecord[]): {
  firstRoundFresh: number[];
  continued: number[];
  byRound: Map<number, number[]>;
} {
  const firstRoundFresh: number[] = [];
  const continued: number[] = [];
  const byRound = new Map<number, number[]>();
  for (const list of byUser(records).values()) {
    list.forEach((r, i) => {
      const share = (r.cachedTokens ?? NaN) / (r.promptTokens ?? NaN);
      if (i > 0) continued.push(share);
      else if (r.round === 1) firstRoundFresh.push(share);
      // Rounds of users who started in the run: their history was sent by the run itself.
      if ((list[0] as RequestRecord).round === 1) {
        const l = byRound.get(r.round) ?? [];
        l.push(share);
        byRound.set(r.round, l);
      }
    });
  }
  return { firstRoundFresh, continued, byRound };
}

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Total length of [from, to] covered by the union of `intervals` (each [start, end]). */
export function coveredMs(from: number, to: number, intervals: readonly (readonly [number, number])[]): number {
  const parts = intervals
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = from;
  for (const [a, b] of parts) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}
