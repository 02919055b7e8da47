// The client's own health during a run: event-loop delay (perf_hooks.monitorEventLoopDelay), sender lag (turns
// that could go but left late), the process's CPU share and peak RSS. A busy client stamps chunks late and sends
// turns late, inflating exactly the latencies it reports, so every run says whether its numbers can be trusted
// (`client.healthy` and the reasons). Only the client is judged: a turn that waited for its user's previous turn
// or a concurrency slot waited on the server (wait_ms), which is saturation, not client trouble. No IO.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ClientHealth, ClientHealthThresholds } from '../result/schema.js';

export type { ClientHealth, ClientHealthThresholds } from '../result/schema.js';

/**
 * The tail percentile that may flag with n samples. A p99 of fewer than 100 values is the maximum or next to
 * it, so one stall (a GC pause, a timer falling due with a burst of reads) would flip the verdict; from 100
 * samples the p99 stands on at least one other value. With 20 to 99 samples the p90 is judged instead (it
 * stands on two or more); below 20 nothing flags: too little to call a client unhealthy.
 */
export function judgedTail(samples: number): 'p99' | 'p90' | null {
  if (samples >= 100) return 'p99';
  if (samples >= 20) return 'p90';
  return null;
}

/** Sender lag of the run: its sample count and tail (ms). */
export interface SenderLagSummary {
  samples: number;
  p90: number | null;
  p99: number | null;
}

export class ClientHealthMonitor {
  #loop: IntervalHistogram;
  #cpu0: NodeJS.CpuUsage;
  #wall0: bigint;
  #rssTimer: NodeJS.Timeout;
  #maxRss = 0;

  constructor() {
    // 1 ms resolution: the smallest; delays are measured beyond it.
    this.#loop = monitorEventLoopDelay({ resolution: 1 });
    this.#loop.enable();
    this.#cpu0 = process.cpuUsage();
    this.#wall0 = process.hrtime.bigint();
    this.#sampleRss();
    this.#rssTimer = setInterval(() => this.#sampleRss(), 1000);
    this.#rssTimer.unref();
  }

  #sampleRss(): void {
    this.#maxRss = Math.max(this.#maxRss, process.memoryUsage.rss());
  }

  /** Stops sampling and judges the client against the thresholds. */
  finish(thresholds: ClientHealthThresholds, senderLag: SenderLagSummary, scheduleLagP99Ms: number | null = null): ClientHealth {
    this.#loop.disable();
    clearInterval(this.#rssTimer);
    this.#sampleRss();
    const cpu = process.cpuUsage(this.#cpu0);
    const wallS = Number(process.hrtime.bigint() - this.#wall0) / 1e9;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const h = this.#loop;
    // The histogram records the whole interval between samples; the 1 ms sampling interval itself is not delay.
    const ms = (ns: number): number => (Number.isFinite(ns) && h.count > 0 ? Math.max(ns / 1e6 - 1, 0) : 0);
    const loopDelayMs = { mean: ms(h.mean), p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p99: ms(h.percentile(99)), max: ms(h.max), samples: h.count };
    const cpuShare = wallS > 0 ? cpuSeconds / wallS : 0;
    const reasons: string[] = [];
    const loopTail = judgedTail(loopDelayMs.samples);
    if (loopTail && loopDelayMs[loopTail] > thresholds.maxLoopDelayMs) {
      reasons.push(`event-loop delay ${loopTail} ${loopDelayMs[loopTail].toFixed(1)} ms > ${thresholds.maxLoopDelayMs} ms: chunk stamps and sends ran late (CPU share ${cpuShare.toFixed(2)} of a core)`);
    }
    const lagTail = judgedTail(senderLag.samples);
    const lag = lagTail ? senderLag[lagTail] : null;
    if (lagTail && lag !== null && lag > thresholds.maxSenderLagMs) {
      reasons.push(`sender lag ${lagTail} ${lag.toFixed(1)} ms > ${thresholds.maxSenderLagMs} ms: turns that could go were sent late by the client`);
    }
    const { p90: _p90, ...loop } = loopDelayMs;
    return { healthy: reasons.length === 0, reasons, thresholds, loopDelayMs: loop, cpuShare, cpuSeconds, maxRssBytes: this.#maxRss, scheduleLagP99Ms, senderLag };
  }
}

/**
 * Whether the client itself was the bottleneck, so more threads would help (--workers): its event loop was
 * late, or it kept a core busy. A saturated server makes turns wait (wait_ms), never this.
 */
export function clientBound(h: ClientHealth): boolean {
  return !h.healthy && (h.reasons.some((r) => r.startsWith('event-loop delay')) || h.cpuShare >= 0.7);
}
