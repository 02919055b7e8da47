// The client's own health during a run: event-loop delay (perf_hooks.monitorEventLoopDelay), the process's CPU
// share and peak RSS. A busy client stamps chunks late and sends turns late, inflating exactly the latencies it
// reports, so every run says whether its numbers can be trusted (`client.healthy` and the reasons). No IO.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ClientHealth, ClientHealthThresholds } from '../result/schema.js';

export type { ClientHealth, ClientHealthThresholds } from '../result/schema.js';

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

  /** Stops sampling and judges the run against the thresholds. */
  finish(thresholds: ClientHealthThresholds, scheduleLagP99Ms: number | null): ClientHealth {
    this.#loop.disable();
    clearInterval(this.#rssTimer);
    this.#sampleRss();
    const cpu = process.cpuUsage(this.#cpu0);
    const wallS = Number(process.hrtime.bigint() - this.#wall0) / 1e9;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const h = this.#loop;
    // The histogram records the whole interval between samples; the 1 ms sampling interval itself is not delay.
    const ms = (ns: number): number => (Number.isFinite(ns) && h.count > 0 ? Math.max(ns / 1e6 - 1, 0) : 0);
    const loopDelayMs = { mean: ms(h.mean), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), samples: h.count };
    const reasons: string[] = [];
    if (loopDelayMs.p99 > thresholds.maxLoopDelayMs) {
      reasons.push(`event-loop delay p99 ${loopDelayMs.p99.toFixed(1)} ms > ${thresholds.maxLoopDelayMs} ms: chunk stamps and sends ran late (CPU share ${(cpuSeconds / Math.max(wallS, 1e-9)).toFixed(2)} of a core)`);
    }
    if (scheduleLagP99Ms !== null && scheduleLagP99Ms > thresholds.maxScheduleLagMs) {
      reasons.push(`schedule lag p99 ${scheduleLagP99Ms.toFixed(1)} ms > ${thresholds.maxScheduleLagMs} ms: turns were sent later than the schedule asked`);
    }
    return {
      healthy: reasons.length === 0,
      reasons,
      thresholds,
      loopDelayMs,
      cpuShare: wallS > 0 ? cpuSeconds / wallS : 0,
      cpuSeconds,
      maxRssBytes: this.#maxRss,
      scheduleLagP99Ms,
    };
  }
}
