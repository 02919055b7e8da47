// runBenchmark's endLaunchWindow: a caller that stops on an event (here: two users finished every round) closes
// the launch window then, and the run ends as at --time: nothing new starts, in-flight requests drain, and
// every turn that came due is launched or counted. Over real sockets against the mock.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import type { RequestRecord } from '../../src/result/record.js';
import { runBenchmark } from '../../src/run.js';
import { startMock, type StartedMock } from '../helpers/mock-openai.js';

const mocks: StartedMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

describe('endLaunchWindow', () => {
  it('closes the window on an event: no turn starts after it, in-flight turns finish, the window is the real one', async () => {
    const m = await startMock({ ttftMs: 5, itlMs: 2 });
    mocks.push(m);
    const { config: base } = resolveConfig({ flags: {} });
    // --time is only the safety bound: the run is meant to end on the event long before it.
    const config = { ...base, numUsers: 3, numRounds: 3, qps: [6], sharedSystemPrompt: 0, userHistoryPrompt: 50, answerLen: 8, time: 600, drainTimeout: 30, requestTimeout: 30, baseUrl: m.url, model: 'mock-model' };
    const end = new AbortController();
    const records: RequestRecord[] = [];
    let t0 = 0n;
    let closedAtMs = 0;
    const finishedUsers = new Set<number>();
    const result = await runBenchmark({
      config,
      qps: 6,
      runId: 't',
      endLaunchWindow: end.signal,
      onStart: (s) => (t0 = s.t0),
      onRecord: (r) => {
        if (r.phase !== 'measure') return;
        records.push(r);
        if (r.round === config.numRounds) finishedUsers.add(r.userId);
        if (finishedUsers.size >= 2 && !end.signal.aborted) {
          closedAtMs = Number(process.hrtime.bigint() - t0) / 1e6;
          end.abort();
        }
      },
    });
    expect(end.signal.aborted).toBe(true);
    expect(result.interrupted).toBe(false);
    expect(finishedUsers.size).toBeGreaterThanOrEqual(2);
    // Nothing was sent after the window closed, and nothing was cut off: in-flight requests drained.
    for (const r of records) expect(r.sentMs).toBeLessThanOrEqual(closedAtMs);
    expect(result.counts).toMatchObject({ failed: 0, cancelled: 0 });
    expect(result.counts.launched).toBe(records.length);
    expect(result.counts.ok).toBe(records.length);
    // The launch window is the real one (measured start to the close), not the 600 s of --time.
    expect(result.throughput.launchWindowS).toBeLessThan(600);
    expect(result.throughput.launchWindowS).toBeGreaterThan(0);
    expect(result.throughput.launchRate).toBeCloseTo(result.counts.launched / result.throughput.launchWindowS, 9);
  });

  it('a window closed before the measured phase launches nothing and still returns a result', async () => {
    const m = await startMock({ ttftMs: 5, itlMs: 2 });
    mocks.push(m);
    const { config: base } = resolveConfig({ flags: {} });
    const config = { ...base, numUsers: 2, numRounds: 2, qps: [4], userHistoryPrompt: 20, answerLen: 4, time: 600, baseUrl: m.url, model: 'mock-model' };
    const end = new AbortController();
    end.abort();
    const result = await runBenchmark({ config, qps: 4, runId: 't', endLaunchWindow: end.signal });
    expect(result.interrupted).toBe(false);
    expect(result.counts.launched).toBe(0);
    expect(result.counts.unsent).toBe(0);
    expect(result.throughput.launchWindowS).toBe(0);
  });
});
