// Turns what one run loop gathered into the RunResult: counts, tokens and throughput from the recorder, the
// client's health verdict, the notes a reader needs (pacing, late and unsent turns, token sources), the schedule
// and the environment. Pure apart from reading the machine's description (os) and the clock at the end.
import { availableParallelism, cpus, totalmem } from 'node:os';
import { redactConfig } from '../config/resolve.js';
import type { RunConfig } from '../config/options.js';
import { ClientHealthMonitor } from '../metrics/client-health.js';
import type { RunRecorder } from '../metrics/recorder.js';
import { FORMULAS } from '../result/formulas.js';
import { saturationVerdict } from '../metrics/saturation.js';
import { tokenSourceNote } from '../metrics/token-notes.js';
import type { TrendPoint } from '../metrics/trend.js';
import { RESULT_SCHEMA, RESULT_SCHEMA_VERSION, type ClientHealth, type RunResult, type SaturationSummary } from '../result/schema.js';
import { vllmCompatibleKeys } from '../result/vllm-keys.js';
import { scheduleLabel, type MultiRoundParams, type MultiRoundPlan } from '../schedule/multi-round.js';
import type { ExactPrompts } from '../workload/exact-prompts.js';
import { VERSION } from '../version.js';
import type { LoopOutcome } from './run-loop.js';
import type { RunOptions } from './options.js';

type Snapshot = ReturnType<RunRecorder['snapshot']>;
type TokenSource = RunResult['tokens']['source'];

export interface AssembleInput {
  options: RunOptions;
  loop: LoopOutcome;
  plan: MultiRoundPlan;
  params: MultiRoundParams;
  exact: ExactPrompts | undefined;
  wallStartMs: number;
  /** ms since t0 when the run ended. */
  endMs: number;
  interrupted: boolean;
}

export function assembleResult(a: AssembleInput): RunResult {
  const { options, loop, plan, params, wallStartMs, endMs, interrupted } = a;
  const { config, qps } = options;
  const snap = loop.recorder.snapshot();
  const lag = snap.metrics.sender_lag_ms;
  const clientHealth = (loop.health ?? new ClientHealthMonitor()).finish(
    { maxLoopDelayMs: config.maxLoopDelay, maxSenderLagMs: config.maxScheduleLag },
    { samples: lag.count, p90: lag.p90, p99: lag.p99 },
    snap.metrics.schedule_lag_ms.p99,
  );
  const launchWindowS = Math.max(Math.min(interrupted ? endMs : loop.launchEndMs, loop.launchEndMs) - loop.measureStartMs, 0) / 1000;
  const measuredDurationS = Math.max(((snap.lastOkEndMs ?? endMs) - loop.measureStartMs) / 1000, 1e-9);
  const tk = snap.tokens;
  const tokenSource: TokenSource = tk.withUsage > 0 && tk.withoutUsage > 0 ? 'mixed' : tk.withUsage > 0 ? 'usage' : tk.withoutUsage > 0 ? 'fallback' : 'none';
  const saturation = saturationOf(loop, snap, launchWindowS, plan.expectedRate);
  const c = cpus();
  const result: Omit<RunResult, 'vllm'> = {
    schema: RESULT_SCHEMA,
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'pd-bench', version: VERSION },
    runId: options.runId,
    label: `${options.scenario ?? 'custom'}@${qps}qps`,
    startedAt: new Date(wallStartMs).toISOString(),
    endedAt: new Date(wallStartMs + endMs).toISOString(),
    wallStartMs,
    interrupted,
    scenario: options.scenario ?? null,
    config: redactConfig(config),
    target: { baseUrl: config.baseUrl, model: config.model, endpoint: config.endpoint, saturated: saturation.saturated, reasons: saturation.reasons },
    saturation,
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
    counts: { ...snap.counts, late: snap.late, unsent: snap.unsent, unsentByReason: snap.unsentByReason, errorsByClass: snap.errorsByClass, warmup: snap.warmup },
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
    throughput: {
      measuredDurationS,
      launchWindowS,
      configuredQps: qps,
      expectedRate: plan.expectedRate,
      launchRate: launchWindowS > 0 ? snap.counts.launched / launchWindowS : 0,
      requestThroughput: snap.counts.ok / measuredDurationS,
      inputThroughput: tk.prompt / measuredDurationS,
      outputThroughput: tk.completion / measuredDurationS,
      cachedTokenShare: tk.promptWithCacheInfo > 0 ? tk.cached / tk.promptWithCacheInfo : null,
    },
    client: clientHealth,
    metrics: snap.metrics,
    windows: loop.windows,
    rounds: snap.rounds,
    server: loop.server,
    formulas: FORMULAS,
    notes: runNotes(a, snap, tokenSource, clientHealth),
  };
  return { ...result, vllm: vllmCompatibleKeys(result) };
}

/** The saturation verdict from what the loop recorded (times relative to the measured start, in seconds). */
function saturationOf(loop: LoopOutcome, snap: Snapshot, launchWindowS: number, expectedRate: number): SaturationSummary {
  const tl = loop.recorder.timeline;
  const s0 = loop.measureStartMs;
  const ttft: TrendPoint[] = [];
  const spans: { sentS: number; endS: number }[] = [];
  for (let i = 0; i < tl.sentMs.length; i++) {
    const sentS = ((tl.sentMs[i] as number) - s0) / 1000;
    spans.push({ sentS, endS: ((tl.endMs[i] as number) - s0) / 1000 });
    const v = tl.ttftMs[i] as number;
    if (Number.isFinite(v)) ttft.push({ t: sentS, ms: v });
  }
  const c = snap.counts;
  return saturationVerdict({
    due: c.launched + snap.unsent,
    waited: snap.late + snap.unsent,
    launchRate: launchWindowS > 0 ? c.launched / launchWindowS : 0,
    expectedRate,
    ttft,
    spans,
    spanWeight: tl.stride,
    launchWindowS,
    server: loop.server,
  });
}

/** Everything a reader of the result needs to know about how to read it, one sentence each. */
function runNotes(a: AssembleInput, snap: Snapshot, tokenSource: TokenSource, clientHealth: ClientHealth): string[] {
  const { config, qps } = a.options;
  const notes = recorderNotes(snap, config, a.plan.expectedRate, qps, tokenSource);
  if (a.exact) {
    const st = a.exact.stats();
    notes.push(
      st.inexact === 0
        ? `--tokenizer server: all ${st.parts} prompt parts (system text, user contexts) have their exact token length under the target's tokenizer`
        : `--tokenizer server: ${st.inexact} of ${st.parts} prompt parts missed their token length (by at most ${st.worstMiss} tokens): the tokenizer would not cut there`,
    );
  }
  if (a.loop.historyMisses > 0) {
    notes.push(`frozen history: ${a.loop.historyMisses} turn(s) had no recorded answer (the recording run did not send them); their own answer went into the history`);
  }
  const limit = a.loop.limit;
  if (limit.waited > 0) {
    notes.push(`${limit.waited} turn(s) waited for one of --max-concurrency ${limit.limit} slots; the wait is in schedule_lag_ms and the from-intended latencies`);
  }
  for (const r of clientHealth.reasons) notes.push(`client unhealthy: ${r}; its latencies are inflated (fewer users per process, or more cores)`);
  return notes;
}

function recorderNotes(snap: Snapshot, config: RunConfig, expectedRate: number, qps: number, tokenSource: TokenSource): string[] {
  const notes: string[] = [];
  if (config.numRounds > 1 && Math.abs(expectedRate - qps) / qps > 0.01) {
    notes.push(
      `multi-round pacing (users/qps per user, ${config.numRounds} rounds) launches ${expectedRate.toFixed(3)} req/s at steady state, ` +
        `${(expectedRate / qps).toFixed(2)}x the configured ${qps} QPS, as multi-round-qa.py does; compare launch_rate, not the configured QPS`,
    );
  }
  const why = snap.unsentByReason;
  if (why['user-busy']) {
    notes.push(`${why['user-busy']} turn(s) came due before --time ended while the user's previous turn was still running past it; they were not sent (no new turn starts after --time)`);
  }
  if (why['slot-wait']) notes.push(`${why['slot-wait']} turn(s) waited for a --max-concurrency slot past --time; they were not sent`);
  if (why.interrupted) notes.push(`${why.interrupted} turn(s) came due but the run was stopped before they could be sent`);
  if (snap.late > 0) {
    notes.push(`${snap.late} turn(s) came due while the user's previous turn was still running; they were sent late (see schedule_lag_ms)`);
  }
  const usage = tokenSourceNote(tokenSource);
  if (usage) notes.push(usage);
  const tk = snap.tokens;
  if (!tk.perChunkUsage && tk.withUsage > 0 && tk.chunks > 0 && tk.completion > tk.chunks * 1.05) {
    notes.push(
      `the server sent ${tk.completion} tokens in ${tk.chunks} content chunks: ITL is per chunk, not per token; add --continuous-usage for exact per-token ITL`,
    );
  }
  if (snap.counts.cancelled > 0) notes.push(`${snap.counts.cancelled} request(s) were cancelled (interrupt or drain timeout); they are in requests.csv`);
  return notes;
}
