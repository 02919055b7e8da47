// The orchestrator: workload x schedule x client -> recorder -> RunResult. It measures and emits typed
// callbacks but prints and writes nothing, so it can be used as a library and tested without IO.
import { availableParallelism, cpus, totalmem } from 'node:os';
import { TargetClient, type TurnRequest, type TurnSender } from './client/target-client.js';
import type { RunConfig } from './config/options.js';
import { redactConfig } from './config/resolve.js';
import { FORMULAS } from './metrics/derive.js';
import { ClientHealthMonitor } from './metrics/client-health.js';
import { RunRecorder } from './metrics/recorder.js';
import type { RequestRecord } from './result/record.js';
import { RESULT_SCHEMA, RESULT_SCHEMA_VERSION, type RunResult, type WindowSummary } from './result/schema.js';
import { reshapeSchedule } from './schedule/arrivals.js';
import { ConcurrencyLimit } from './schedule/concurrency-limit.js';
import { dueAt, planMultiRound, scheduleLabel, userAt, type MultiRoundParams, type UserPlan } from './schedule/multi-round.js';
import { ServerTokenizer, type PromptTokenizer } from './client/server-tokenizer.js';
import { renderCompletionPrompt, requestBody } from './client/openai-request.js';
import { Conversation, firstTurnContent, type ChatMessage } from './workload/conversation.js';
import { ExactPrompts } from './workload/exact-prompts.js';
import { TextFactory, TextKind } from './workload/text.js';
import { estimateTokens } from './workload/tokens.js';
import { onAbort } from './util/abort-fanout.js';
import { VERSION } from './version.js';
import { vllmCompatibleKeys } from './result/vllm-keys.js';
import type { AnswerSource } from './workload/answer-book.js';
import type { ScrapeResult, ServerScraper } from './scrape/types.js';

export interface RunProgress {
  elapsedS: number;
  launchWindowS: number;
  launched: number;
  done: number;
  inFlight: number;
  errors: number;
  phase: 'warmup' | 'measure' | 'drain';
}

export interface RunOptions {
  /** Resolved config; `baseUrl` and `model` must be set (the CLI's preflight fills in the model). */
  config: RunConfig & { baseUrl: string; model: string };
  /** This point's configured QPS (one of config.qps). */
  qps: number;
  runId: string;
  scenario?: string | undefined;
  /** Substitute client (tests); default: an undici TargetClient for config.baseUrl. */
  client?: TurnSender;
  /** Text factory to share across points of a sweep (building it costs ~100 ms). */
  text?: TextFactory;
  /** With config.tokenizer 'server': the tokenizer to fit prompts with (default: the target's /tokenize). */
  tokenizer?: PromptTokenizer;
  /** Called once at the start with the wall-clock origin of the run's millisecond timestamps. */
  onStart?: (info: { wallStartMs: number; t0: bigint }) => void;
  /** Called for every finished request, warmup included, in completion order (stream these to disk). */
  onRecord?: (r: RequestRecord) => void;
  onWindow?: (w: WindowSummary) => void;
  /** Called about every 250 ms. */
  onProgress?: (p: RunProgress) => void;
  /**
   * Run only the users whose join index k has k mod count = index, and the warmup requests i with i mod count =
   * index (--workers: each worker thread runs one share of the same seeded schedule).
   */
  partition?: { index: number; count: number };
  /** The time origin (workers use their coordinator's: process.hrtime is one clock for all threads). */
  t0?: bigint;
  /**
   * Called after the warmup with this run's ready time (ms since t0); resolves with the measured-phase start (ms
   * since t0) that every worker agreed on.
   */
  syncStart?: (readyMs: number) => Promise<number>;
  /** Frozen history: the answers each user's history gets instead of the target's own (compare --history frozen). */
  history?: AnswerSource;
  /** Scrapes server metrics (--scrape) over the measured phase; its result becomes RunResult.server. */
  scraper?: ServerScraper;
  /**
   * Aborting this closes the launch window early, as if `config.time` ended then: no new user or turn starts,
   * turns that came due before are launched as usual, and in-flight requests drain. For callers that stop on
   * an event (a number of finished sessions) rather than at a time; `config.time` stays the upper bound.
   */
  endLaunchWindow?: AbortSignal;
}

const nowMs = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

/** Node timers overflow past 2^31-1 ms (~24.8 days) and fire at once: long waits go in slices. */
const MAX_TIMER_MS = 2 ** 31 - 1;

async function sleepUntil(t0: bigint, targetMs: number, signal: AbortSignal): Promise<void> {
  for (;;) {
    const wait = targetMs - nowMs(t0);
    if (wait <= 0 || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      };
      const timer = setTimeout(done, Math.min(wait, MAX_TIMER_MS));
      const unsubscribe = onAbort(signal, done);
    });
  }
}

function promptEstimate(messages: readonly ChatMessage[], charsPerToken?: number): number {
  let n = 0;
  for (const m of messages) n += estimateTokens(m.content, charsPerToken);
  return n;
}

/**
 * Runs one QPS point: optional warmup, then the multi-round schedule for `config.time` seconds, then a drain of
 * in-flight turns (up to `config.drainTimeout`). Aborting `signal` stops scheduling at once and records every
 * in-flight request as cancelled; the returned result then has `interrupted: true`. Never throws for failed
 * requests; they are counted by class.
 */
export async function runBenchmark(options: RunOptions, signal?: AbortSignal): Promise<RunResult> {
  const { config, qps } = options;
  const t0 = options.t0 ?? process.hrtime.bigint();
  const wallStartMs = Date.now() - Number(process.hrtime.bigint() - t0) / 1e6;
  const startedAt = new Date(wallStartMs).toISOString();
  options.onStart?.({ wallStartMs, t0 });
  const text = options.text ?? new TextFactory(config.seed);
  const params: MultiRoundParams = { numUsers: config.numUsers, numRounds: config.numRounds, qps, initUserId: config.initUserId };
  const plan = planMultiRound(params);
  // Non-per-user arrival processes: the same turns at times drawn before the run (empty map for per-user).
  const reshaped = reshapeSchedule(plan, params, { kind: config.arrival, burstiness: config.burstiness, seed: config.seed, time: config.time });
  const turnDue = (u: UserPlan, r: number): number =>
    config.arrival === 'per-user' ? dueAt(plan, u, r) : (reshaped.get(u.userId)?.[r] ?? Number.POSITIVE_INFINITY);
  const recorder = new RunRecorder();
  const ownsClient = !options.client;
  const client: TurnSender =
    options.client ??
    new TargetClient({
      baseUrl: config.baseUrl,
      apiKey: config.apiKey,
      endpoint: config.endpoint,
      // A connection per request in flight, however many that is: each user has at most one turn in flight, but
      // sessions overlap while users hand over and other arrival processes bunch turns, and a request queued
      // inside the pool would wait for a socket after the schedule said go. --max-concurrency is the cap.
      connections: config.maxConcurrency > 0 ? config.maxConcurrency + Math.max(config.warmupRequests, 0) : null,
      requestTimeoutMs: config.requestTimeout * 1000,
      userIdHeader: config.userIdHeader,
      t0,
    });

  // `stop` ends scheduling and cancels in-flight requests: the user's signal or the drain deadline.
  const exact = config.tokenizer === 'server' ? await fitExactPrompts(options, text, plan, params, signal) : undefined;

  const stop = new AbortController();
  const onUserAbort = (): void => stop.abort(signal?.reason ?? 'run interrupted');
  if (signal?.aborted) onUserAbort();
  signal?.addEventListener('abort', onUserAbort, { once: true });
  // `launchWindow` wakes everything that waits for a turn or a join: it aborts when the run stops or the launch
  // window closes early (endLaunchWindow), which also moves launchEndMs to that moment.
  const launchWindow = new AbortController();
  onAbort(stop.signal, () => launchWindow.abort());

  const part = options.partition && options.partition.count > 1 ? options.partition : undefined;
  const mine = (k: number): boolean => !part || (((k % part.count) + part.count) % part.count) === part.index;
  // Request ids stay unique across workers: worker i numbers i, i + n, i + 2n, ...
  let nextId = part ? part.index : 0;
  const idStep = part ? part.count : 1;
  let historyMisses = 0;
  let health: ClientHealthMonitor | undefined;
  const limit = new ConcurrencyLimit(config.maxConcurrency);
  let phase: RunProgress['phase'] = 'warmup';
  let measureStartMs = 0;
  let server: ScrapeResult | null = null;
  let launchEndMs = 0;
  const windows: WindowSummary[] = [];
  const bodyOptions = {
    endpoint: config.endpoint,
    model: config.model,
    continuousUsage: config.continuousUsage,
    ignoreEos: config.ignoreEos,
  };
  const finished = (r: RequestRecord): void => {
    recorder.add(r);
    options.onRecord?.(r);
  };

  const progressTimer = options.onProgress
    ? setInterval(() => {
        const c = recorder.counts;
        options.onProgress?.({
          elapsedS: Math.max(nowMs(t0) - measureStartMs, 0) / 1000,
          launchWindowS: config.time,
          launched: c.launched,
          done: c.ok + c.failed + c.cancelled,
          inFlight: recorder.inFlight,
          errors: c.failed,
          phase,
        });
      }, 250)
    : undefined;
  progressTimer?.unref();

  try {
    // Warmup: unique prompts (so they do not pre-fill the measured users' prefix cache), all at once as
    // multi-round-qa.py does, excluded from every statistic.
    if (config.warmupRequests > 0) {
      const warm: Promise<void>[] = [];
      for (let i = 0; i < config.warmupRequests && !stop.signal.aborted; i++) {
        if (part && i % part.count !== part.index) continue;
        const content = text.text(200, TextKind.warmup, [i], `WARMUP: Hi, I'm warmup user ${i}. Here is some text: `);
        const messages: ChatMessage[] = [{ role: 'user', content }];
        const req: TurnRequest = {
          id: (nextId += idStep) - idStep,
          phase: 'warmup',
          userId: -1 - i,
          round: 1,
          intendedMs: nowMs(t0),
          late: false,
          body: requestBody(messages, { ...bodyOptions, maxTokens: config.warmupMaxTokens }),
          promptTokensEstimate: promptEstimate(messages),
        };
        recorder.onLaunch('warmup', false);
        warm.push(client.send(req, stop.signal).then(finished));
      }
      await Promise.all(warm);
    }

    const shape = {
      sharedSystemPrompt: config.sharedSystemPrompt,
      userHistoryPrompt: config.userHistoryPrompt,
      answerLen: config.answerLen,
    };
    const newConversation = (u: UserPlan): Conversation => {
      const ctx = exact?.context(u.userId);
      const conv = new Conversation(text, u.userId, shape, exact && ctx ? { system: exact.system.text, context: ctx.text } : undefined);
      if (u.firstRound > 0 && config.preagedHistory === 'synthetic') conv.preage(u.firstRound);
      return conv;
    };
    // Users already mid-session at t=0 get their synthetic history now, before the clock starts: building
    // hundreds of long histories at t=0 would delay the first due turns (schedule lag the target did not cause).
    const preaged = new Map<number, Conversation>();
    for (let k = plan.firstJoinIndex; k < 0; k++) {
      const u = userAt(plan, params, k);
      if (u && mine(k)) preaged.set(u.userId, newConversation(u));
    }

    // Workers agree on one start after all have warmed up (their clocks are one clock).
    measureStartMs = options.syncStart ? await options.syncStart(nowMs(t0)) : nowMs(t0);
    await sleepUntil(t0, measureStartMs, stop.signal);
    phase = 'measure';
    health = new ClientHealthMonitor();
    options.scraper?.start(t0 + BigInt(Math.round(measureStartMs * 1e6)));
    launchEndMs = measureStartMs + config.time * 1000;
    if (options.endLaunchWindow) {
      // Closed before the measured phase began: an empty window, nothing launches.
      const closedMs = options.endLaunchWindow.aborted ? measureStartMs : undefined;
      onAbort(options.endLaunchWindow, () => {
        launchEndMs = Math.max(Math.min(launchEndMs, closedMs ?? nowMs(t0)), measureStartMs);
        launchWindow.abort();
      });
    }
    recorder.takeWindow(measureStartMs);
    const windowTimer = setInterval(() => {
      const w = recorder.takeWindow(nowMs(t0));
      windows.push(w);
      options.onWindow?.(w);
    }, config.logInterval * 1000);
    windowTimer.unref();

    const userTask = async (u: UserPlan): Promise<void> => {
      const conv = preaged.get(u.userId) ?? newConversation(u);
      preaged.delete(u.userId);
      let prevEndMs = Number.NEGATIVE_INFINITY;
      for (let r = u.firstRound; r < config.numRounds; r++) {
        const due = measureStartMs + turnDue(u, r) * 1000;
        if (due >= launchEndMs || stop.signal.aborted) return;
        await sleepUntil(t0, due, launchWindow.signal);
        // The window closed early before this turn came due: it never came due inside the window.
        if (stop.signal.aborted || due >= launchEndMs) return;
        // A turn that came due inside the window but whose user was still busy past its end is not started:
        // after --time no new turn starts, as in multi-round-qa.py. It is counted, not silently dropped.
        if (prevEndMs > due && nowMs(t0) >= launchEndMs) {
          recorder.onUnsent();
          return;
        }
        // Late: the turn came due while this user's previous turn was still running (multi-round-qa.py only
        // logs "unable to fit the QPS requirement"; here it is counted and its lag is in schedule_lag_ms).
        const late = prevEndMs > due;
        const slot = await limit.acquire(stop.signal);
        if (!slot) return;
        if (slot === 'waited' && nowMs(t0) >= launchEndMs) {
          // It waited for a slot past --time: not started, counted.
          limit.release();
          recorder.onUnsent();
          return;
        }
        conv.ask(r + 1);
        const req: TurnRequest = {
          id: (nextId += idStep) - idStep,
          phase: 'measure',
          userId: u.userId,
          round: r + 1,
          intendedMs: due,
          late,
          body: requestBody(conv.messages, { ...bodyOptions, maxTokens: config.answerLen }),
          promptTokensEstimate: (r === 0 ? exact?.firstTurnTokens(u.userId) : undefined) ?? promptEstimate(conv.messages),
        };
        recorder.onLaunch('measure', late);
        let rec: RequestRecord;
        try {
          rec = await client.send(req, stop.signal);
        } finally {
          limit.release();
        }
        prevEndMs = rec.endMs;
        finished(rec);
        const frozen = options.history?.answerFor(u.userId, r + 1);
        if (frozen === undefined && options.history) historyMisses++;
        // Frozen history: the recorded answer (or the recorded failure) decides, whatever this target answered.
        const answer = frozen !== undefined ? frozen : rec.outcome === 'ok' ? rec.text : null;
        if (answer !== null) conv.answer(answer);
        else conv.messages.pop(); // the failed question leaves the history; the user goes on with the next round
        if (rec.outcome === 'cancelled') return;
      }
    };

    const tasks: Promise<void>[] = [];
    for (let k = plan.firstJoinIndex; k < 0; k++) {
      const u = userAt(plan, params, k);
      if (u && mine(k)) tasks.push(userTask(u));
    }
    // New users join every gapBetweenUsers, replacing finished sessions, until the launch window closes.
    for (let k = 0; ; k++) {
      const u = userAt(plan, params, k) as UserPlan;
      // With another arrival process a user's first turn may come before its per-user join time.
      const joinMs = measureStartMs + Math.min(u.joinAt, turnDue(u, u.firstRound)) * 1000;
      if (joinMs >= launchEndMs || stop.signal.aborted) break;
      if (!mine(k)) continue;
      await sleepUntil(t0, joinMs, launchWindow.signal);
      if (stop.signal.aborted || joinMs >= launchEndMs) break;
      tasks.push(userTask(u));
    }
    await sleepUntil(t0, launchEndMs, launchWindow.signal);

    phase = 'drain';
    const drainTimer = setTimeout(() => stop.abort(`drain timeout: still running ${config.drainTimeout} s after --time`), Math.min(config.drainTimeout * 1000, MAX_TIMER_MS));
    drainTimer.unref();
    try {
      await Promise.all(tasks);
    } finally {
      clearTimeout(drainTimer);
    }
    clearInterval(windowTimer);
    const last = recorder.takeWindow(nowMs(t0));
    if (last.launched + last.completed + last.failed + last.cancelled > 0) {
      windows.push(last);
      options.onWindow?.(last);
    }
  } finally {
    if (options.scraper && phase !== 'warmup') server = await options.scraper.stop();
    if (progressTimer) clearInterval(progressTimer);
    signal?.removeEventListener('abort', onUserAbort);
    if (ownsClient) await client.close();
  }

  const endMs = nowMs(t0);
  const interrupted = signal?.aborted ?? false;
  const snap = recorder.snapshot();
  const clientHealth = (health ?? new ClientHealthMonitor()).finish(
    { maxLoopDelayMs: config.maxLoopDelay, maxScheduleLagMs: config.maxScheduleLag },
    snap.metrics.schedule_lag_ms.p99,
  );
  const launchWindowS = Math.max(Math.min(interrupted ? endMs : launchEndMs, launchEndMs) - measureStartMs, 0) / 1000;
  const measuredDurationS = Math.max(((snap.lastOkEndMs ?? endMs) - measureStartMs) / 1000, 1e-9);
  const tk = snap.tokens;
  const tokenSource = tk.withUsage > 0 && tk.withoutUsage > 0 ? 'mixed' : tk.withUsage > 0 ? 'usage' : tk.withoutUsage > 0 ? 'fallback' : 'none';
  const throughput = {
    measuredDurationS,
    launchWindowS,
    configuredQps: qps,
    expectedRate: plan.expectedRate,
    launchRate: launchWindowS > 0 ? snap.counts.launched / launchWindowS : 0,
    requestThroughput: snap.counts.ok / measuredDurationS,
    inputThroughput: tk.prompt / measuredDurationS,
    outputThroughput: tk.completion / measuredDurationS,
    cachedTokenShare: tk.promptWithCacheInfo > 0 ? tk.cached / tk.promptWithCacheInfo : null,
  };
  const m = snap.metrics;
  const notes = buildNotes(snap, config, plan.expectedRate, qps, tokenSource);
  if (exact) {
    const st = exact.stats();
    notes.push(
      st.inexact === 0
        ? `--tokenizer server: all ${st.parts} prompt parts (system text, user contexts) have their exact token length under the target's tokenizer`
        : `--tokenizer server: ${st.inexact} of ${st.parts} prompt parts missed their token length (by at most ${st.worstMiss} tokens): the tokenizer would not cut there`,
    );
  }
  if (historyMisses > 0) {
    notes.push(`frozen history: ${historyMisses} turn(s) had no recorded answer (the recording run did not send them); their own answer went into the history`);
  }
  if (limit.waited > 0) {
    notes.push(`${limit.waited} turn(s) waited for one of --max-concurrency ${limit.limit} slots; the wait is in schedule_lag_ms and the from-intended latencies`);
  }
  for (const r of clientHealth.reasons) notes.push(`client unhealthy: ${r}; its latencies are inflated (fewer users per process, or more cores)`);
  const c = cpus();
  const result: Omit<RunResult, 'vllm'> = {
    schema: RESULT_SCHEMA,
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'pd-bench', version: VERSION },
    runId: options.runId,
    label: `${options.scenario ?? 'custom'}@${qps}qps`,
    startedAt,
    endedAt: new Date(wallStartMs + endMs).toISOString(),
    wallStartMs,
    interrupted,
    scenario: options.scenario ?? null,
    config: redactConfig(config),
    target: { baseUrl: config.baseUrl, model: config.model, endpoint: config.endpoint },
    schedule: {
      kind: 'multi-round',
      arrival: config.arrival,
      burstiness: config.burstiness,
      label: scheduleLabel(params) + (config.arrival === 'per-user' ? '' : ` with ${config.arrival} arrivals${config.arrival === 'gamma' ? ` (burstiness ${config.burstiness})` : ''}`),
      configuredQps: qps,
      gapPerUserS: plan.gapPerUser,
      gapBetweenUsersS: plan.gapBetweenUsers,
      sessionSpanS: plan.sessionSpan,
      expectedRate: plan.expectedRate,
    },
    environment: {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cpus: c.length,
      availableCpus: availableParallelism(),
      nodeFlags: [...process.execArgv],
      cpuModel: c[0]?.model ?? 'unknown',
      totalMemoryBytes: totalmem(),
    },
    counts: { ...snap.counts, late: snap.late, unsent: snap.unsent, errorsByClass: snap.errorsByClass, warmup: snap.warmup },
    tokens: {
      prompt: tk.prompt,
      completion: tk.completion,
      cached: tk.cached,
      source: tokenSource,
      perChunkUsage: tk.perChunkUsage,
      promptEstimateErrorPct: snap.promptEstimateErrorPct,
      tokensPerChunkMean: tk.chunks > 0 ? tk.chunkTokens / tk.chunks : null,
      tokensPerChunk: tk.perChunk,
    },
    throughput,
    client: clientHealth,
    metrics: m,
    windows,
    rounds: snap.rounds,
    server,
    formulas: FORMULAS,
    notes,
  };
  return { ...result, vllm: vllmCompatibleKeys(result) };
}

function buildNotes(
  snap: ReturnType<RunRecorder['snapshot']>,
  config: RunConfig,
  expectedRate: number,
  qps: number,
  tokenSource: string,
): string[] {
  const notes: string[] = [];
  if (config.numRounds > 1 && Math.abs(expectedRate - qps) / qps > 0.01) {
    notes.push(
      `multi-round pacing (users/qps per user, ${config.numRounds} rounds) launches ${expectedRate.toFixed(3)} req/s at steady state, ` +
        `${(expectedRate / qps).toFixed(2)}x the configured ${qps} QPS, as multi-round-qa.py does; compare launch_rate, not the configured QPS`,
    );
  }
  if (snap.unsent > 0) {
    notes.push(`${snap.unsent} turn(s) came due before --time ended while the user's previous turn was still running past it; they were not sent (no new turn starts after --time)`);
  }
  if (snap.late > 0) {
    notes.push(`${snap.late} turn(s) came due while the user's previous turn was still running; they were sent late (see schedule_lag_ms)`);
  }
  if (tokenSource === 'fallback' || tokenSource === 'mixed') {
    notes.push('some responses carried no usage: their completion tokens are counted content chunks and their prompt tokens are pd-bench estimates');
  }
  const tk = snap.tokens;
  if (!tk.perChunkUsage && tk.withUsage > 0 && tk.chunks > 0 && tk.completion > tk.chunks * 1.05) {
    notes.push(
      `the server sent ${tk.completion} tokens in ${tk.chunks} content chunks: ITL is per chunk, not per token; add --continuous-usage for exact per-token ITL`,
    );
  }
  if (snap.counts.cancelled > 0) notes.push(`${snap.counts.cancelled} request(s) were cancelled (interrupt or drain timeout); they are in requests.csv`);
  return notes;
}

/**
 * --tokenizer server: fits the shared system text and the context of every user the run can start (the
 * pre-aged ones and every joiner within --time) to exact token lengths before any request is timed.
 */
async function fitExactPrompts(options: RunOptions, text: TextFactory, plan: ReturnType<typeof planMultiRound>, params: MultiRoundParams, signal: AbortSignal | undefined): Promise<ExactPrompts> {
  const { config } = options;
  const tok = options.tokenizer ?? (await ServerTokenizer.connect({ baseUrl: config.baseUrl, model: config.model, apiKey: config.apiKey, signal }));
  const exact = await ExactPrompts.create(tok, text, config.sharedSystemPrompt, config.userHistoryPrompt);
  const ids: number[] = [];
  for (let k = plan.firstJoinIndex; ; k++) {
    const u = userAt(plan, params, k);
    if (!u) continue;
    if (k >= 0 && u.joinAt >= config.time) break;
    ids.push(u.userId);
  }
  const firstMessage = (id: number, context: string): ChatMessage[] => [{ role: 'user', content: firstTurnContent(exact.system.text, context, text.question(id, 1)) }];
  const count = (m: ChatMessage[]): Promise<number> => (config.endpoint === 'chat' ? tok.countChat(m) : tok.countCompletion(renderCompletionPrompt(m)));
  await exact.prepare(ids, firstMessage, count);
  return exact;
}
