// The client's self-check: a blocked event loop or a lagging schedule makes the run unhealthy, with reasons;
// --strict turns that into exit code 3.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/run-command.js';
import { ExitCode } from '../../src/errors.js';
import { ClientHealthMonitor } from '../../src/metrics/client-health.js';
import type { RunResult } from '../../src/result/schema.js';

const busyFor = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Blocking the event loop on purpose.
  }
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Waits (for events: timer ticks) until the monitor has taken at least n samples; fails after 30 s. */
async function untilSamples(h: IntervalHistogram, n: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (h.count < n) {
    if (Date.now() > deadline) throw new Error(`the event-loop monitor took only ${h.count} samples in 30 s`);
    await sleep(5);
  }
}
const thresholds = { maxLoopDelayMs: 5, maxScheduleLagMs: 10 };

describe('ClientHealthMonitor', () => {
  it('an idle client is healthy and its loop delay is what the machine gave this process', async () => {
    // The loop-delay threshold is derived from this process's own loop delay over the same span, measured by a
    // second monitor: a busy machine delays every timer, and this case is about the healthy path, not speed.
    const own = monitorEventLoopDelay({ resolution: 1 });
    own.enable();
    const m = new ClientHealthMonitor();
    await untilSamples(own, 20);
    const h = m.finish({ ...thresholds, maxLoopDelayMs: own.max / 1e6 + 1 }, 1.5);
    own.disable();
    expect(h.healthy, h.reasons.join('; ')).toBe(true);
    expect(h.reasons).toEqual([]);
    expect(h.loopDelayMs.samples).toBeGreaterThan(0);
    expect(h.loopDelayMs.max).toBeLessThanOrEqual(own.max / 1e6);
    expect(h.cpuShare).toBeGreaterThanOrEqual(0);
    expect(h.maxRssBytes).toBeGreaterThan(10e6);
    expect(h.scheduleLagP99Ms).toBe(1.5);
  });

  it('a loop blocked on purpose makes it unhealthy, with the delay and CPU share in the reason', async () => {
    const cpu0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    const m = new ClientHealthMonitor();
    // Block for 40 ms (of wall time) every 50 ms: the loop cannot sample while blocked, however busy the
    // machine, so the largest delay is at least the block.
    for (let i = 0; i < 8; i++) {
      busyFor(40);
      await sleep(10);
    }
    const h = m.finish(thresholds, 2);
    const cpuS = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;
    const outerCpuS = cpuS(process.cpuUsage(cpu0));
    const outerWallS = Number(process.hrtime.bigint() - wall0) / 1e9;
    expect(h.healthy).toBe(false);
    expect(h.loopDelayMs.max).toBeGreaterThanOrEqual(30);
    expect(h.reasons[0]).toMatch(/^event-loop delay p99 \d+\.\d ms > 5 ms: chunk stamps and sends ran late \(CPU share \d\.\d\d of a core\)$/);
    // The CPU share is this process's CPU time over the monitor's wall time: it lies inside what the test saw
    // around it (how much CPU a loaded machine gave the busy loop is not the point).
    expect(h.cpuSeconds).toBeGreaterThan(0);
    expect(h.cpuSeconds).toBeLessThanOrEqual(outerCpuS);
    // Its wall time lies inside the test's, so the share is at least the CPU it counted over the test's wall time.
    expect(h.cpuShare).toBeGreaterThanOrEqual(h.cpuSeconds / outerWallS);
    expect(h.reasons[0]).toContain(`CPU share ${h.cpuShare.toFixed(2)} of a core`);
  });

  it('schedule lag past its threshold alone makes it unhealthy', async () => {
    const m = new ClientHealthMonitor();
    await sleep(50);
    // Schedule lag alone: the loop-delay threshold is out of reach, whatever the machine's load did to timers.
    const h = m.finish({ ...thresholds, maxLoopDelayMs: Number.POSITIVE_INFINITY }, 25.3);
    expect(h.healthy).toBe(false);
    expect(h.reasons).toEqual(['schedule lag p99 25.3 ms > 10 ms: turns were sent later than the schedule asked']);
  });
});

describe('exit codes', () => {
  const result = (healthy: boolean): RunResult => ({ client: { healthy } }) as unknown as RunResult;
  it('--strict makes an unhealthy client exit 3; without it the run exits 0', () => {
    expect(exitCodeFor({ interrupted: false, writeError: false, strict: true, results: [result(true), result(false)] })).toBe(ExitCode.unhealthy);
    expect(ExitCode.unhealthy).toBe(3);
    expect(exitCodeFor({ interrupted: false, writeError: false, strict: false, results: [result(false)] })).toBe(ExitCode.ok);
    expect(exitCodeFor({ interrupted: false, writeError: false, strict: true, results: [result(true)] })).toBe(ExitCode.ok);
  });
  it('an interrupt beats a write failure, which beats an unhealthy client', () => {
    expect(exitCodeFor({ interrupted: true, writeError: true, strict: true, results: [result(false)] })).toBe(ExitCode.interrupted);
    expect(exitCodeFor({ interrupted: false, writeError: true, strict: true, results: [result(false)] })).toBe(ExitCode.failure);
  });
});
