// The run loop of one load point: warmup, then every user's turns at their due times for the launch window, then
// the drain of in-flight turns. It sends through a TurnSender, feeds the RunRecorder and the caller's callbacks,
// and counts every turn that came due as launched or unsent. It prints and writes nothing; assemble-result.ts
// turns what it gathered into a RunResult.
import type { TurnRequest, TurnSender } from '../client/target-client.js';
import { requestBody, type BodyOptions } from '../client/openai-request.js';
import { ClientHealthMonitor } from '../metrics/client-health.js';
import { RunRecorder } from '../metrics/recorder.js';
import type { RequestRecord } from '../result/record.js';
import type { UnsentReason } from '../result/schema.js';
import type { WindowSummary } from '../result/schema.js';
import type { ScrapeResult } from '../result/server-metrics.js';
import { reshapeSchedule } from '../schedule/arrivals.js';
import { ConcurrencyLimit } from '../schedule/concurrency-limit.js';
import { dueAt, planMultiRound, userAt, type MultiRoundParams, type MultiRoundPlan, type UserPlan } from '../schedule/multi-round.js';
import { onAbort } from '../util/abort-fanout.js';
import { Conversation, type ChatMessage } from '../workload/conversation.js';
import type { ExactPrompts } from '../workload/exact-prompts.js';
import { TextKind, type TextFactory } from '../workload/text.js';
import { estimateTokens } from '../workload/tokens.js';
import { MAX_TIMER_MS, nowMs, sleepUntil } from './clock.js';
import type { RunOptions, RunProgress } from './options.js';

function promptEstimate(messages: readonly ChatMessage[], charsPerToken?: number): number {
  let n = 0;
  for (const m of messages) n += estimateTokens(m.content, charsPerToken);
  return n;
}

/** What the loop leaves for the result: its recorder and the moments and side counts it saw. */
export interface LoopOutcome {
  recorder: RunRecorder;
  windows: WindowSummary[];
  measureStartMs: number;
  launchEndMs: number;
  health: ClientHealthMonitor | undefined;
  limit: ConcurrencyLimit;
  historyMisses: number;
  server: ScrapeResult | null;
}

/** The multi-round schedule of a run's load point. */
export function scheduleOf(o: RunOptions): { params: MultiRoundParams; plan: MultiRoundPlan } {
  const { config, qps } = o;
  const params = { numUsers: config.numUsers, numRounds: config.numRounds, qps, initUserId: config.initUserId };
  return { params, plan: planMultiRound(params) };
}

export class RunLoop {
  readonly plan: MultiRoundPlan;
  readonly params: MultiRoundParams;
  readonly recorder = new RunRecorder();
  readonly windows: WindowSummary[] = [];
  readonly limit: ConcurrencyLimit;
  #o: RunOptions;
  #client: TurnSender;
  #text: TextFactory;
  #t0: bigint;
  #exact: ExactPrompts | undefined;
  #reshaped: Map<number, number[]>;
  #body: Omit<BodyOptions, 'maxTokens'>;
  /** Ends scheduling and cancels in-flight requests: the user's signal or the drain deadline. */
  #stop = new AbortController();
  /**
   * Wakes everything that waits for a turn or a join: it aborts when the run stops or the launch window closes
   * early (endLaunchWindow), which also moves launchEndMs to that moment.
   */
  #launchWindow = new AbortController();
  #part: { index: number; count: number } | undefined;
  #nextId: number;
  #idStep: number;
  #historyMisses = 0;
  #health: ClientHealthMonitor | undefined;
  #phase: RunProgress['phase'] = 'warmup';
  #measureStartMs = 0;
  #launchEndMs = 0;

  constructor(o: RunOptions, client: TurnSender, text: TextFactory, t0: bigint, exact: ExactPrompts | undefined) {
    const { config } = o;
    this.#o = o;
    this.#client = client;
    this.#text = text;
    this.#t0 = t0;
    this.#exact = exact;
    ({ params: this.params, plan: this.plan } = scheduleOf(o));
    // Non-per-user arrival processes: the same turns at times drawn before the run (empty map for per-user).
    this.#reshaped = reshapeSchedule(this.plan, this.params, { kind: config.arrival, burstiness: config.burstiness, seed: config.seed, time: config.time });
    this.limit = new ConcurrencyLimit(config.maxConcurrency);
    this.#body = { endpoint: config.endpoint, model: config.model, continuousUsage: config.continuousUsage, ignoreEos: config.ignoreEos };
    this.#part = o.partition && o.partition.count > 1 ? o.partition : undefined;
    // Request ids stay unique across workers: worker i numbers i, i + n, i + 2n, ...
    this.#nextId = this.#part ? this.#part.index : 0;
    this.#idStep = this.#part ? this.#part.count : 1;
    onAbort(this.#stop.signal, () => this.#launchWindow.abort());
  }

  /** Runs warmup, measured phase and drain; aborting `signal` stops at once and cancels what is in flight. */
  async run(signal: AbortSignal | undefined): Promise<LoopOutcome> {
    const onUserAbort = (): void => this.#stop.abort(signal?.reason ?? 'run interrupted');
    if (signal?.aborted) onUserAbort();
    signal?.addEventListener('abort', onUserAbort, { once: true });
    const progressTimer = this.#startProgress();
    let server: ScrapeResult | null = null;
    try {
      await this.#warmup();
      const preaged = this.#preage();
      // Workers agree on one start after all have warmed up (their clocks are one clock).
      this.#measureStartMs = this.#o.syncStart ? await this.#o.syncStart(this.#now()) : this.#now();
      await sleepUntil(this.#t0, this.#measureStartMs, this.#stop.signal);
      this.#phase = 'measure';
      this.#health = new ClientHealthMonitor();
      this.#o.scraper?.start(this.#t0 + BigInt(Math.round(this.#measureStartMs * 1e6)));
      this.#openWindow();
      const windowTimer = setInterval(() => this.#emitWindow(), this.#o.config.logInterval * 1000);
      windowTimer.unref();
      const tasks = await this.#launchUsers(preaged);
      await this.#drain(tasks);
      clearInterval(windowTimer);
      this.#emitWindow(true);
    } finally {
      if (this.#o.scraper && this.#phase !== 'warmup') server = await this.#o.scraper.stop();
      if (progressTimer) clearInterval(progressTimer);
      signal?.removeEventListener('abort', onUserAbort);
    }
    return {
      recorder: this.recorder,
      windows: this.windows,
      measureStartMs: this.#measureStartMs,
      launchEndMs: this.#launchEndMs,
      health: this.#health,
      limit: this.limit,
      historyMisses: this.#historyMisses,
      server,
    };
  }

  #now(): number {
    return nowMs(this.#t0);
  }

  #mine(k: number): boolean {
    const p = this.#part;
    return !p || ((k % p.count) + p.count) % p.count === p.index;
  }

  #takeId(): number {
    return (this.#nextId += this.#idStep) - this.#idStep;
  }

  #turnDue(u: UserPlan, r: number): number {
    return this.#o.config.arrival === 'per-user' ? dueAt(this.plan, u, r) : (this.#reshaped.get(u.userId)?.[r] ?? Number.POSITIVE_INFINITY);
  }

  #finished(r: RequestRecord): void {
    this.recorder.add(r);
    this.#o.onRecord?.(r);
  }

  #startProgress(): NodeJS.Timeout | undefined {
    const onProgress = this.#o.onProgress;
    if (!onProgress) return undefined;
    const timer = setInterval(() => {
      const c = this.recorder.counts;
      onProgress({
        elapsedS: Math.max(this.#now() - this.#measureStartMs, 0) / 1000,
        launchWindowS: this.#o.config.time,
        launched: c.launched,
        done: c.ok + c.failed + c.cancelled,
        inFlight: this.recorder.inFlight,
        errors: c.failed,
        phase: this.#phase,
      });
    }, 250);
    timer.unref();
    return timer;
  }

  /**
   * Unique prompts (so they do not pre-fill the measured users' prefix cache), all at once as multi-round-qa.py
   * does, excluded from every statistic.
   */
  async #warmup(): Promise<void> {
    const { config } = this.#o;
    const warm: Promise<void>[] = [];
    for (let i = 0; i < config.warmupRequests && !this.#stop.signal.aborted; i++) {
      if (this.#part && i % this.#part.count !== this.#part.index) continue;
      const content = this.#text.text(200, TextKind.warmup, [i], `WARMUP: Hi, I'm warmup user ${i}. Here is some text: `);
      const messages: ChatMessage[] = [{ role: 'user', content }];
      const req: TurnRequest = {
        id: this.#takeId(),
        phase: 'warmup',
        userId: -1 - i,
        round: 1,
        intendedMs: this.#now(),
        late: false,
        body: requestBody(messages, { ...this.#body, maxTokens: config.warmupMaxTokens }),
        promptTokensEstimate: promptEstimate(messages),
      };
      this.recorder.onLaunch('warmup', false);
      warm.push(this.#client.send(req, this.#stop.signal).then((r) => this.#finished(r)));
    }
    await Promise.all(warm);
  }

  #newConversation(u: UserPlan): Conversation {
    const { config } = this.#o;
    const shape = { sharedSystemPrompt: config.sharedSystemPrompt, userHistoryPrompt: config.userHistoryPrompt, answerLen: config.answerLen };
    const exact = this.#exact;
    const ctx = exact?.context(u.userId);
    const conv = new Conversation(this.#text, u.userId, shape, exact && ctx ? { system: exact.system.text, context: ctx.text } : undefined);
    if (u.firstRound > 0 && config.preagedHistory === 'synthetic') conv.preage(u.firstRound);
    return conv;
  }

  /**
   * Users already mid-session at t=0 get their synthetic history now, before the clock starts: building hundreds
   * of long histories at t=0 would delay the first due turns (schedule lag the target did not cause).
   */
  #preage(): Map<number, Conversation> {
    const preaged = new Map<number, Conversation>();
    for (let k = this.plan.firstJoinIndex; k < 0; k++) {
      const u = userAt(this.plan, this.params, k);
      if (u && this.#mine(k)) preaged.set(u.userId, this.#newConversation(u));
    }
    return preaged;
  }

  #openWindow(): void {
    this.#launchEndMs = this.#measureStartMs + this.#o.config.time * 1000;
    const end = this.#o.endLaunchWindow;
    if (end) {
      // Closed before the measured phase began: an empty window, nothing launches.
      const closedMs = end.aborted ? this.#measureStartMs : undefined;
      onAbort(end, () => {
        this.#launchEndMs = Math.max(Math.min(this.#launchEndMs, closedMs ?? this.#now()), this.#measureStartMs);
        this.#launchWindow.abort();
      });
    }
    this.recorder.takeWindow(this.#measureStartMs);
  }

  #emitWindow(last = false): void {
    const w = this.recorder.takeWindow(this.#now());
    // The last, partial window only when something happened in it.
    if (last && w.launched + w.completed + w.failed + w.cancelled === 0) return;
    this.windows.push(w);
    this.#o.onWindow?.(w);
  }

  /** Starts the pre-aged users, then a new user every gapBetweenUsers until the launch window closes. */
  async #launchUsers(preaged: Map<number, Conversation>): Promise<Promise<void>[]> {
    const tasks: Promise<void>[] = [];
    const start = (u: UserPlan): void => {
      const conv = preaged.get(u.userId) ?? this.#newConversation(u);
      preaged.delete(u.userId);
      tasks.push(this.#userTask(u, conv));
    };
    for (let k = this.plan.firstJoinIndex; k < 0; k++) {
      const u = userAt(this.plan, this.params, k);
      if (u && this.#mine(k)) start(u);
    }
    for (let k = 0; ; k++) {
      const u = userAt(this.plan, this.params, k) as UserPlan;
      // With another arrival process a user's first turn may come before its per-user join time.
      const joinMs = this.#measureStartMs + Math.min(u.joinAt, this.#turnDue(u, u.firstRound)) * 1000;
      if (joinMs >= this.#launchEndMs || this.#stop.signal.aborted) break;
      if (!this.#mine(k)) continue;
      await sleepUntil(this.#t0, joinMs, this.#launchWindow.signal);
      if (this.#stop.signal.aborted || joinMs >= this.#launchEndMs) break;
      start(u);
    }
    await sleepUntil(this.#t0, this.#launchEndMs, this.#launchWindow.signal);
    return tasks;
  }

  async #drain(tasks: Promise<void>[]): Promise<void> {
    this.#phase = 'drain';
    const { drainTimeout } = this.#o.config;
    const timer = setTimeout(() => this.#stop.abort(`drain timeout: still running ${drainTimeout} s after --time`), Math.min(drainTimeout * 1000, MAX_TIMER_MS));
    timer.unref();
    try {
      await Promise.all(tasks);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One user's remaining rounds, each at its due time (or late, after the previous turn ended). */
  async #userTask(u: UserPlan, conv: Conversation): Promise<void> {
    let prevEndMs = Number.NEGATIVE_INFINITY;
    // The first turn not yet launched or counted: whatever ends the session, every later turn that came due
    // inside the launch window is counted as unsent with its reason (finally), so launched + unsent = due.
    let next = u.firstRound;
    let reason: UnsentReason = 'interrupted';
    try {
      for (; next < this.#o.config.numRounds; next++) {
        const due = this.#dueMs(u, next);
        if (due >= this.#launchEndMs || this.#stop.signal.aborted) return;
        await sleepUntil(this.#t0, due, this.#launchWindow.signal);
        // The window closed early before this turn came due: it never came due inside the window.
        if (this.#stop.signal.aborted || due >= this.#launchEndMs) return;
        // A turn that came due inside the window but whose user was still busy past its end is not started:
        // after --time no new turn starts, as in multi-round-qa.py. It is counted, not silently dropped.
        if (prevEndMs > due && this.#now() >= this.#launchEndMs) {
          reason = 'user-busy';
          return;
        }
        const rec = await this.#sendTurn(u, conv, next, due, prevEndMs);
        if (typeof rec === 'string') {
          reason = rec;
          return;
        }
        prevEndMs = rec.endMs;
        // A cancelled turn (interrupt, drain deadline) ends the session; the turns that came due while it ran
        // were waiting on it.
        if (rec.outcome === 'cancelled') {
          next++;
          reason = this.#now() >= this.#launchEndMs ? 'user-busy' : 'interrupted';
          return;
        }
      }
    } finally {
      this.#countUnsent(u, next, reason);
    }
  }

  #dueMs(u: UserPlan, r: number): number {
    return this.#measureStartMs + this.#turnDue(u, r) * 1000;
  }

  /** Counts rounds from..numRounds-1 of a user that came due inside the launch window (and by now) as unsent. */
  #countUnsent(u: UserPlan, from: number, reason: UnsentReason): void {
    const horizon = Math.min(this.#launchEndMs, this.#now());
    for (let r = from; r < this.#o.config.numRounds; r++) {
      if (this.#dueMs(u, r) < horizon) this.recorder.onUnsent(reason);
    }
  }

  /**
   * Sends round r + 1 of a user once a concurrency slot is free, records it and carries the answer into the
   * history. Late: the turn came due while the user's previous turn was still running (multi-round-qa.py only
   * logs "unable to fit the QPS requirement"; here it is counted and its wait is in wait_ms). Returns why the
   * turn was not sent instead (stopped, or it waited for a slot past --time); the caller counts it as unsent.
   */
  async #sendTurn(u: UserPlan, conv: Conversation, r: number, due: number, prevEndMs: number): Promise<RequestRecord | UnsentReason> {
    const late = prevEndMs > due;
    const slot = await this.limit.acquire(this.#stop.signal);
    if (!slot) return this.#now() >= this.#launchEndMs ? 'slot-wait' : 'interrupted';
    // Ready: due, the user free (its previous turn ended) and a slot free. A granted slot resolves in the same
    // tick as the release that freed it, so now is that moment.
    const readyMs = slot === 'waited' ? Math.max(due, prevEndMs, this.#now()) : Math.max(due, prevEndMs);
    if (slot === 'waited' && this.#now() >= this.#launchEndMs) {
      this.limit.release();
      return 'slot-wait';
    }
    conv.ask(r + 1);
    const exact = this.#exact;
    const req: TurnRequest = {
      id: this.#takeId(),
      phase: 'measure',
      userId: u.userId,
      round: r + 1,
      intendedMs: due,
      readyMs,
      late,
      body: requestBody(conv.messages, { ...this.#body, maxTokens: this.#o.config.answerLen }),
      promptTokensEstimate: (r === 0 ? exact?.firstTurnTokens(u.userId) : undefined) ?? promptEstimate(conv.messages),
    };
    this.recorder.onLaunch('measure', late);
    let rec: RequestRecord;
    try {
      rec = await this.#client.send(req, this.#stop.signal);
    } finally {
      this.limit.release();
    }
    this.#finished(rec);
    const history = this.#o.history;
    const frozen = history?.answerFor(u.userId, r + 1);
    if (frozen === undefined && history) this.#historyMisses++;
    // Frozen history: the recorded answer (or the recorded failure) decides, whatever this target answered.
    const answer = frozen !== undefined ? frozen : rec.outcome === 'ok' ? rec.text : null;
    if (answer !== null) conv.answer(answer);
    else conv.messages.pop(); // the failed question leaves the history; the user goes on with the next round
    return rec;
  }
}
