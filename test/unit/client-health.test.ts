// The client's self-check: a blocked event loop or a lagging schedule makes the run unhealthy, with reasons;
// --strict turns that into exit code 3.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { exitCodeFor, workersHint } from '../../src/cli/run-command.js';
import { ExitCode } from '../../src/errors.js';
import { clientBound, ClientHealthMonitor, judgedTail } from '../../src/metrics/client-health.js';
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
const thresholds = { maxLoopDelayMs: 5, maxSenderLagMs: 10 };
const noLag = { samples: 0, p90: null, p99: null };

describe('ClientHealthMonitor', () => {
  it('an idle client is healthy and its loop delay is what the machine gave this process', async () => {
    // The loop-delay threshold is derived from this process's own loop delay over the same span, measured by a
    // second monitor: a busy machine delays every timer, and this case is about the healthy path, not speed.
    const own = monitorEventLoopDelay({ resolution: 1 });
    own.enable();
    const m = new ClientHealthMonitor();
    await untilSamples(own, 20);
    const h = m.finish({ ...thresholds, maxLoopDelayMs: own.max / 1e6 + 1 }, { samples: 200, p90: 1, p99: 1.5 }, 1.5);
    own.disable();
    expect(h.healthy, h.reasons.join('; ')).toBe(true);
    expect(h.reasons).toEqual([]);
    expect(h.loopDelayMs.samples).toBeGreaterThan(0);
    expect(h.loopDelayMs.max).toBeLessThanOrEqual(own.max / 1e6);
    expect(h.cpuShare).toBeGreaterThanOrEqual(0);
    expect(h.maxRssBytes).toBeGreaterThan(10e6);
    expect(h.scheduleLagP99Ms).toBe(1.5);
    expect(h.senderLag.p99).toBe(1.5);
  });

  it('a loop blocked on purpose makes it unhealthy, with the delay and CPU share in the reason', async () => {
    const cpu0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    const m = new ClientHealthMonitor();
    // Block for 40 ms (of wall time), then let the loop turn for 2 ms, 20 times: the loop cannot sample while
    // blocked, however busy the machine, so the largest delay is at least the block; and at least 20 of the
    // samples (one after each block) are delayed while only a few can fall between blocks, so the judged tail
    // (p90 with 20 to 99 samples, p99 from 100) is a blocked one.
    for (let i = 0; i < 20; i++) {
      busyFor(40);
      await sleep(2);
    }
    const h = m.finish(thresholds, noLag);
    const cpuS = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;
    const outerCpuS = cpuS(process.cpuUsage(cpu0));
    const outerWallS = Number(process.hrtime.bigint() - wall0) / 1e9;
    expect(h.healthy).toBe(false);
    expect(h.loopDelayMs.max).toBeGreaterThanOrEqual(30);
    expect(h.reasons[0]).toMatch(/^event-loop delay p(99|90) \d+\.\d ms > 5 ms: chunk stamps and sends ran late \(CPU share \d\.\d\d of a core\)$/);
    // The CPU share is this process's CPU time over the monitor's wall time: it lies inside what the test saw
    // around it (how much CPU a loaded machine gave the busy loop is not the point).
    expect(h.cpuSeconds).toBeGreaterThan(0);
    expect(h.cpuSeconds).toBeLessThanOrEqual(outerCpuS);
    // Its wall time lies inside the test's, so the share is at least the CPU it counted over the test's wall time.
    expect(h.cpuShare).toBeGreaterThanOrEqual(h.cpuSeconds / outerWallS);
    expect(h.reasons[0]).toContain(`CPU share ${h.cpuShare.toFixed(2)} of a core`);
  });

  it('sender lag past its threshold alone makes it unhealthy, judged at a tail its sample count supports', async () => {
    const m = new ClientHealthMonitor();
    await sleep(50);
    // Sender lag alone: the loop-delay threshold is out of reach, whatever the machine's load did to timers.
    const h = m.finish({ ...thresholds, maxLoopDelayMs: Number.POSITIVE_INFINITY }, { samples: 150, p90: 4, p99: 25.3 }, 40);
    expect(h.healthy).toBe(false);
    expect(h.reasons).toEqual(['sender lag p99 25.3 ms > 10 ms: turns that could go were sent late by the client']);
  });

  it('a tail percentile flags only when enough samples stand behind it (p90 under 100, nothing under 20)', () => {
    expect([judgedTail(0), judgedTail(19), judgedTail(20), judgedTail(99), judgedTail(100)]).toEqual([null, null, 'p90', 'p90', 'p99']);
    const loose = { ...thresholds, maxLoopDelayMs: Number.POSITIVE_INFINITY };
    // 88 sends with one stall: p99 is that stall, p90 is not; the p90 is judged, so the client stays healthy.
    expect(new ClientHealthMonitor().finish(loose, { samples: 88, p90: 2, p99: 11.8 }).healthy).toBe(true);
    expect(new ClientHealthMonitor().finish(loose, { samples: 88, p90: 12, p99: 30 }).reasons).toEqual(['sender lag p90 12.0 ms > 10 ms: turns that could go were sent late by the client']);
    expect(new ClientHealthMonitor().finish(loose, { samples: 10, p90: 500, p99: 900 }).healthy).toBe(true);
  });

  it('waits for the server are not the client\'s: a large schedule lag with no sender lag stays healthy', () => {
    const h = new ClientHealthMonitor().finish({ ...thresholds, maxLoopDelayMs: Number.POSITIVE_INFINITY }, { samples: 500, p90: 0.5, p99: 1 }, 17_645.6);
    expect(h.healthy).toBe(true);
    expect(clientBound(h)).toBe(false);
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

describe('the --workers hint', () => {
  const result = (cpuShare: number): RunResult =>
    ({ client: { healthy: false, cpuShare, reasons: ['event-loop delay p99 9.0 ms > 5 ms: chunk stamps and sends ran late (CPU share 0.90 of a core)'] } }) as unknown as RunResult;
  it('suggests worker threads when the client kept its core busy', () => {
    expect(workersHint(result(0.9), 8)).toMatch(/try --workers 8 /);
    expect(workersHint(result(0.9), 1)).toMatch(/this machine has 1 core/);
  });
  it('says the machine was busy, not "add workers", when the client itself used little CPU', () => {
    const h = workersHint(result(0.04), 8);
    expect(h).toMatch(/used only 0\.04 of a core, so other processes on this machine delayed it/);
    expect(h).not.toMatch(/--workers/);
  });
});
