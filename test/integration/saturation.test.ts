// The saturation verdict over real sockets: a server whose capacity is fixed by construction (C slots, a fixed
// service time S: C/S req/s) driven far above it is saturated, with its evidence, and the client is not blamed;
// the same server well below capacity is not saturated; a client whose own event loop is blocked is unhealthy
// while the target is not saturated. Speed bounds are derived from what this process measured of itself.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/config/options.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { clientBound } from '../../src/metrics/client-health.js';
import { formatSummary } from '../../src/report/console.js';
import { runBenchmark } from '../../src/run.js';
import { startMock, type MockPerRequest, type StartedMock } from '../helpers/mock-openai.js';

const mocks: StartedMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

/**
 * A FIFO server of `slots` slots and a fixed service time: each request's first token comes when a slot is free
 * plus `serviceMs`, so it carries at most slots / serviceMs requests per ms, whatever the client does.
 */
function limitedServer(slots: number, serviceMs: number): MockPerRequest {
  const freeAt = new Array<number>(slots).fill(0);
  return () => {
    const now = performance.now();
    let i = 0;
    for (let k = 1; k < slots; k++) if ((freeAt[k] as number) < (freeAt[i] as number)) i = k;
    const start = Math.max(now, freeAt[i] as number);
    freeAt[i] = start + serviceMs;
    return { ttftMs: start - now + serviceMs };
  };
}

async function runAgainst(perRequest: MockPerRequest | undefined, over: Partial<RunConfig>, during?: () => () => void) {
  const m = await startMock({ ttftMs: 5, itlMs: 1 }, perRequest);
  mocks.push(m);
  const { config: base } = resolveConfig({ flags: {} });
  // This process's own event-loop delay over the run: the sender-lag threshold is set above what the machine
  // gave it, so a busy machine does not decide the client's verdict in the saturation cases.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const stop = during?.();
  try {
    const config = { ...base, sharedSystemPrompt: 0, userHistoryPrompt: 40, answerLen: 4, warmupRequests: 0, drainTimeout: 60, requestTimeout: 120, ...over, baseUrl: m.url, model: 'mock-model' };
    const result = await runBenchmark({ config, qps: config.qps[0] as number, runId: 't' });
    return { result, loopMaxMs: loop.max / 1e6 };
  } finally {
    stop?.();
    loop.disable();
  }
}

describe('saturation verdict', () => {
  it('far above a fixed capacity: saturated, with the evidence; the waits are not the client\'s', async () => {
    // Capacity 2 slots / 100 ms = 20 req/s; offered 30 users at 60 QPS per-user pacing (3x, before the waits).
    const { result } = await runAgainst(limitedServer(2, 100), { numUsers: 30, numRounds: 4, qps: [60], time: 4, maxLoopDelay: 60_000, maxScheduleLag: 1000 });
    console.log(`saturated case: ${formatSummary(result).split('\n').find((l) => l.startsWith('target:'))}; schedule lag p99 ${result.metrics.schedule_lag_ms.p99} ms, wait p99 ${result.metrics.wait_ms.p99} ms, sender lag p99 ${result.metrics.sender_lag_ms.p99} ms`);
    expect(result.target.saturated).toBe(true);
    expect(result.saturation?.saturated).toBe(true);
    expect(result.target.reasons?.length).toBeGreaterThan(0);
    expect(result.target.reasons?.join('\n')).toMatch(/turns waited|TTFT rising|in flight grew/);
    // The schedule lag is large (the waits: seconds, past the 1 s threshold the old verdict would have judged),
    // the sender lag is the client's small share of it and stays under that threshold.
    expect(result.metrics.schedule_lag_ms.p99 as number).toBeGreaterThan(1000);
    expect(result.metrics.wait_ms.p99 as number).toBeGreaterThan(result.metrics.sender_lag_ms.p99 as number);
    expect(result.client.reasons.some((r) => /schedule lag|sender lag/.test(r))).toBe(false);
    expect(clientBound(result.client)).toBe(false);
    expect(formatSummary(result)).toMatch(/^target: SATURATED \(.+\): its latencies measure queueing; lower the load, or run a sweep to find its capacity$/m);
  });

  it('well below the same capacity: not saturated', async () => {
    // 2 users, a turn each per second: 2 req/s against 20 req/s of capacity.
    const { result, loopMaxMs } = await runAgainst(limitedServer(2, 100), { numUsers: 2, numRounds: 3, qps: [2], time: 4, maxLoopDelay: 60_000 });
    expect(result.target.saturated, (result.target.reasons ?? []).join('; ')).toBe(false);
    expect(result.target.reasons).toEqual([]);
    expect(result.saturation?.evidence.ttftTrend).not.toBeNull();
    expect(formatSummary(result)).toMatch(/^target: not saturated/m);
    expect(loopMaxMs).toBeGreaterThanOrEqual(0);
  });

  it('a client whose event loop is blocked on purpose is unhealthy; the idle target is not saturated', async () => {
    const block = (): (() => void) => {
      const t = setInterval(() => {
        const end = performance.now() + 30;
        while (performance.now() < end) {
          // Blocking the event loop on purpose.
        }
      }, 40);
      return () => clearInterval(t);
    };
    const { result } = await runAgainst(undefined, { numUsers: 2, numRounds: 3, qps: [2], time: 3, maxLoopDelay: 5 }, block);
    expect(result.client.healthy).toBe(false);
    expect(result.client.reasons[0]).toMatch(/^event-loop delay p(99|90) /);
    expect(result.target.saturated, (result.target.reasons ?? []).join('; ')).toBe(false);
  });
});
