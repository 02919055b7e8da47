// Aggregates finished RequestRecords into histograms, counters and interval windows. Pure and synchronous:
// the run calls it from the request's completion; nothing here keeps per-chunk data after a record is added.
import type { ErrorClass, Phase, RequestRecord } from '../result/record.js';
import { METRIC_NAMES, type MetricBlock, type MetricName, type OutcomeCounts, type RoundStat, type UnsentReason, type WindowSummary } from '../result/schema.js';
import { derive, forEachTokenGap } from './derive.js';
import { LatencyStat, type StatSummary } from './histogram.js';
import { RequestTimeline } from './request-timeline.js';
import { RoundAggregator } from './round-aggregator.js';

function emptyCounts(): OutcomeCounts {
  return { launched: 0, ok: 0, failed: 0, cancelled: 0 };
}

export interface RecorderSnapshot {
  counts: OutcomeCounts;
  late: number;
  /** Turns that came due inside the launch window but were never sent, in all and by reason. */
  unsent: number;
  unsentByReason: Partial<Record<UnsentReason, number>>;
  errorsByClass: Partial<Record<ErrorClass, number>>;
  warmup: OutcomeCounts;
  tokens: {
    prompt: number;
    completion: number;
    cached: number;
    promptWithCacheInfo: number;
    withUsage: number;
    withoutUsage: number;
    perChunkUsage: boolean;
    chunks: number;
    chunkTokens: number;
    /** Distribution of tokens per content chunk (1 per chunk when the server gives no per-chunk usage). */
    perChunk: StatSummary & { histogram: string };
  };
  promptEstimateErrorPct: StatSummary & { histogram: string };
  firstSentMs: number | undefined;
  lastOkEndMs: number | undefined;
  metrics: Record<MetricName, MetricBlock>;
  rounds: RoundStat[];
}

export class RunRecorder {
  readonly stats: Record<MetricName, LatencyStat>;
  readonly counts = emptyCounts();
  readonly warmup = emptyCounts();
  late = 0;
  unsent = 0;
  readonly unsentByReason: Partial<Record<UnsentReason, number>> = {};
  readonly errorsByClass: Partial<Record<ErrorClass, number>> = {};
  promptTokens = 0;
  completionTokens = 0;
  cachedTokens = 0;
  promptWithCacheInfo = 0;
  withUsage = 0;
  withoutUsage = 0;
  perChunkUsage = false;
  chunks = 0;
  chunkTokens = 0;
  firstSentMs: number | undefined;
  lastOkEndMs: number | undefined;
  #estimateError = new LatencyStat();
  #tokensPerChunk = new LatencyStat();
  #estimateErrorNeg = new LatencyStat();
  // The current log window.
  #win = { startMs: 0, launched: 0, completed: 0, failed: 0, cancelled: 0, outputTokens: 0 };
  #winTtft = new LatencyStat();
  #winItl = new LatencyStat();
  #rounds = new RoundAggregator();
  /** Send/end/TTFT of measured requests (thinned past its capacity), for the saturation verdict. */
  readonly timeline = new RequestTimeline();

  constructor() {
    this.stats = Object.fromEntries(METRIC_NAMES.map((n) => [n, new LatencyStat()])) as Record<MetricName, LatencyStat>;
  }

  get inFlight(): number {
    return this.counts.launched - this.counts.ok - this.counts.failed - this.counts.cancelled;
  }

  onLaunch(phase: Phase, late: boolean): void {
    if (phase === 'warmup') {
      this.warmup.launched++;
      return;
    }
    this.counts.launched++;
    this.#win.launched++;
    if (late) this.late++;
  }

  onUnsent(reason: UnsentReason): void {
    this.unsent++;
    this.unsentByReason[reason] = (this.unsentByReason[reason] ?? 0) + 1;
  }

  add(r: RequestRecord): void {
    if (r.phase === 'warmup') {
      this.warmup[r.outcome]++;
      return;
    }
    this.counts[r.outcome]++;
    if (r.errorClass) this.errorsByClass[r.errorClass] = (this.errorsByClass[r.errorClass] ?? 0) + 1;
    if (this.firstSentMs === undefined || r.sentMs < this.firstSentMs) this.firstSentMs = r.sentMs;
    const d = derive(r);
    this.timeline.add(r.sentMs, r.endMs, r.outcome === 'ok' ? d.ttftMs : undefined);
    const roundItl = this.#rounds.add({ round: r.round, ok: r.outcome === 'ok', ttftMs: d.ttftMs, promptTokens: r.promptTokens, cachedTokens: r.cachedTokens });
    // Schedule lag is a property of the sender, so every launched request counts, whatever its outcome.
    this.stats.schedule_lag_ms.record(d.scheduleLagMs);
    this.stats.wait_ms.record(d.waitMs);
    this.stats.sender_lag_ms.record(d.senderLagMs);
    this.stats.connect_wait_ms.record(d.connectWaitMs);
    if (r.outcome === 'failed') this.#win.failed++;
    if (r.outcome === 'cancelled') this.#win.cancelled++;
    if (r.outcome !== 'ok') return;

    this.#win.completed++;
    if (this.lastOkEndMs === undefined || r.endMs > this.lastOkEndMs) this.lastOkEndMs = r.endMs;
    const s = this.stats;
    if (d.ttfbMs !== undefined) s.ttfb_ms.record(d.ttfbMs);
    if (d.ttftMs !== undefined) {
      s.ttft_ms.record(d.ttftMs);
      this.#winTtft.record(d.ttftMs);
    }
    if (d.ttstMs !== undefined) s.ttst_ms.record(d.ttstMs);
    if (d.tpotMs !== undefined) s.tpot_ms.record(d.tpotMs);
    s.e2el_ms.record(d.e2elMs);
    if (d.ttftFromIntendedMs !== undefined) s.ttft_from_intended_ms.record(d.ttftFromIntendedMs);
    s.e2el_from_intended_ms.record(d.e2elFromIntendedMs);
    const icl = s.icl_ms;
    const itl = s.itl_ms;
    const winItl = this.#winItl;
    forEachTokenGap(r, (gapMs, count) => {
      itl.record(gapMs, count);
      winItl.record(gapMs, count);
      roundItl?.record(gapMs, count);
    });
    for (let i = 1; i < r.chunkTimesMs.length; i++) icl.record((r.chunkTimesMs[i] as number) - (r.chunkTimesMs[i - 1] as number));

    this.chunks += r.chunkTimesMs.length;
    for (const k of r.chunkTokens) {
      this.chunkTokens += k;
      this.#tokensPerChunk.record(k);
    }
    if (r.perChunkUsage) this.perChunkUsage = true;
    if (r.tokenSource === 'usage') this.withUsage++;
    else this.withoutUsage++;
    this.promptTokens += r.promptTokens ?? 0;
    this.completionTokens += r.completionTokens ?? 0;
    this.#win.outputTokens += r.completionTokens ?? 0;
    if (r.cachedTokens !== undefined) {
      this.cachedTokens += r.cachedTokens;
      this.promptWithCacheInfo += r.promptTokens ?? 0;
    }
    if (r.tokenSource === 'usage' && r.promptTokens) {
      const errPct = ((r.promptTokensEstimate - r.promptTokens) / r.promptTokens) * 100;
      // HDR stores non-negative values: keep the sign split and recombine in the summary.
      if (errPct >= 0) this.#estimateError.record(errPct);
      else this.#estimateErrorNeg.record(-errPct);
    }
  }

  /** Closes the current log window at `nowMs` and starts the next. */
  takeWindow(nowMs: number): WindowSummary {
    const w = this.#win;
    const spanS = Math.max((nowMs - w.startMs) / 1000, 1e-9);
    const out: WindowSummary = {
      startS: w.startMs / 1000,
      endS: nowMs / 1000,
      launched: w.launched,
      completed: w.completed,
      failed: w.failed,
      cancelled: w.cancelled,
      inFlight: this.inFlight,
      ttftP50Ms: this.#winTtft.percentile(50),
      ttftP99Ms: this.#winTtft.percentile(99),
      itlP50Ms: this.#winItl.percentile(50),
      itlP99Ms: this.#winItl.percentile(99),
      outputTokensPerS: w.outputTokens / spanS,
      requestsPerS: w.completed / spanS,
    };
    this.#win = { startMs: nowMs, launched: 0, completed: 0, failed: 0, cancelled: 0, outputTokens: 0 };
    this.#winTtft.reset();
    this.#winItl.reset();
    return out;
  }

  snapshot(): RecorderSnapshot {
    const metrics = {} as Record<MetricName, MetricBlock>;
    for (const name of METRIC_NAMES) metrics[name] = this.stats[name].block();
    return {
      counts: { ...this.counts },
      late: this.late,
      unsent: this.unsent,
      unsentByReason: { ...this.unsentByReason },
      errorsByClass: { ...this.errorsByClass },
      warmup: { ...this.warmup },
      tokens: {
        prompt: this.promptTokens,
        completion: this.completionTokens,
        cached: this.cachedTokens,
        promptWithCacheInfo: this.promptWithCacheInfo,
        withUsage: this.withUsage,
        withoutUsage: this.withoutUsage,
        perChunkUsage: this.perChunkUsage,
        chunks: this.chunks,
        chunkTokens: this.chunkTokens,
        perChunk: { ...this.#tokensPerChunk.summary(), histogram: this.#tokensPerChunk.encode() },
      },
      promptEstimateErrorPct: signedSummary(this.#estimateError, this.#estimateErrorNeg),
      firstSentMs: this.firstSentMs,
      lastOkEndMs: this.lastOkEndMs,
      metrics,
      rounds: this.#rounds.stats(),
    };
  }
}


/**
 * Mean/min/max of a signed quantity kept as two non-negative stats; percentiles of its magnitude, whose histogram
 * comes along so that results merge exactly.
 */
function signedSummary(pos: LatencyStat, neg: LatencyStat): StatSummary & { histogram: string } {
  const count = pos.count + neg.count;
  const abs = new LatencyStat();
  if (count === 0) return { ...abs.summary(), histogram: abs.encode() };
  const sum = pos.sum - neg.sum;
  const mean = sum / count;
  const sumSq = pos.sumSq + neg.sumSq;
  abs.merge(pos);
  abs.merge(neg);
  const a = abs.summary();
  return {
    count,
    mean,
    stddev: Math.sqrt(Math.max(sumSq / count - mean * mean, 0)),
    min: neg.count > 0 ? -neg.max : pos.min,
    max: pos.count > 0 ? pos.max : -neg.min,
    // Percentiles of |error|: "p99 of the sizing error is within x%".
    p50: a.p50,
    p90: a.p90,
    p95: a.p95,
    p99: a.p99,
    p999: a.p999,
    histogram: abs.encode(),
  };
}
