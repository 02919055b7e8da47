// The client's self-check: a blocked event loop or a lagging schedule makes the run unhealthy, with reasons;
// --strict turns that into exit code 3.
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
const thresholds = { maxLoopDelayMs: 5, maxScheduleLagMs: 10 };

describe('ClientHealthMonitor', () => {
  it('an idle client is healthy and its loop delay is small', async () => {
    const m = new ClientHealthMonitor();
    await sleep(300);
    // A generous loop threshold: other test files share the 2 cores, and this case is about the healthy path.
    const h = m.finish({ ...thresholds, maxLoopDelayMs: 50 }, 1.5);
    expect(h.healthy, h.reasons.join('; ')).toBe(true);
    expect(h.reasons).toEqual([]);
    expect(h.loopDelayMs.samples).toBeGreaterThan(50);
    expect(h.cpuShare).toBeGreaterThanOrEqual(0);
    expect(h.maxRssBytes).toBeGreaterThan(10e6);
    expect(h.scheduleLagP99Ms).toBe(1.5);
  });

  it('a loop blocked on purpose makes it unhealthy, with the delay and CPU share in the reason', async () => {
    const m = new ClientHealthMonitor();
    // Block for 40 ms every 50 ms: most samples see tens of ms of delay.
    for (let i = 0; i < 8; i++) {
      busyFor(40);
      await sleep(10);
    }
    const h = m.finish(thresholds, 2);
    expect(h.healthy).toBe(false);
    expect(h.loopDelayMs.max).toBeGreaterThanOrEqual(30);
    expect(h.reasons[0]).toMatch(/^event-loop delay p99 \d+\.\d ms > 5 ms: chunk stamps and sends ran late \(CPU share \d\.\d\d of a core\)$/);
    expect(h.cpuShare).toBeGreaterThan(0.5);
  });

  it('schedule lag past its threshold alone makes it unhealthy', async () => {
    const m = new ClientHealthMonitor();
    await sleep(50);
    const h = m.finish(thresholds, 25.3);
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
