// A turn's lateness in parts, over real sockets against the mock: wait (ready - intended: its user's previous
// turn or a --max-concurrency slot held it; the server's or the workload's doing), sender lag (dispatch - ready:
// the client's own) and connect wait (sent - dispatch: opening a connection). And no turn vanishes: every turn that came due is launched or counted as unsent with its
// reason, even when a stalled stream is cut by the drain deadline. Assertions are identities and counts that
// follow from the schedule, never speeds.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/config/options.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { derive } from '../../src/metrics/derive.js';
import type { RequestRecord } from '../../src/result/record.js';
import { runBenchmark } from '../../src/run.js';
import { dueAt, planMultiRound, userAt } from '../../src/schedule/multi-round.js';
import { startMock, type MockKnobs, type MockPerRequest, type StartedMock } from '../helpers/mock-openai.js';

const mocks: StartedMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

async function mock(knobs: Partial<MockKnobs>, perRequest?: MockPerRequest): Promise<StartedMock> {
  const m = await startMock(knobs, perRequest);
  mocks.push(m);
  return m;
}

function config(m: StartedMock, over: Partial<RunConfig>): RunConfig & { baseUrl: string; model: string } {
  const { config: base } = resolveConfig({ flags: {} });
  return { ...base, sharedSystemPrompt: 0, userHistoryPrompt: 40, answerLen: 4, warmupRequests: 0, ...over, baseUrl: m.url, model: 'mock-model' };
}

/** Turns the schedule makes due inside [0, time): per-user pacing, every user that joins in the window. */
function dueTurns(c: Pick<RunConfig, 'numUsers' | 'numRounds' | 'initUserId' | 'time'>, qps: number): number {
  const p = { numUsers: c.numUsers, numRounds: c.numRounds, qps, initUserId: c.initUserId };
  const plan = planMultiRound(p);
  let n = 0;
  for (let k = plan.firstJoinIndex; ; k++) {
    const u = userAt(plan, p, k);
    if (!u) continue;
    if (k >= 0 && u.joinAt >= c.time) break;
    for (let r = u.firstRound; r < c.numRounds; r++) if (dueAt(plan, u, r) < c.time) n++;
  }
  return n;
}

async function run(cfg: RunConfig & { baseUrl: string; model: string }): Promise<{ records: RequestRecord[]; result: Awaited<ReturnType<typeof runBenchmark>> }> {
  const records: RequestRecord[] = [];
  const result = await runBenchmark({ config: cfg, qps: cfg.qps[0] as number, runId: 't', onRecord: (r) => r.phase === 'measure' && records.push(r) });
  return { records, result };
}

describe('wait and sender lag', () => {
  it('schedule lag = wait + sender lag; a late turn waits exactly until its user is free', async () => {
    // Each answer takes at least 300 ms; a user's turns are 200 ms apart, so later turns come due while the
    // previous one still runs.
    const m = await mock({ ttftMs: 300, itlMs: 1 });
    const { records, result } = await run(config(m, { numUsers: 2, numRounds: 4, qps: [10], time: 1.2 }));
    expect(records.length).toBeGreaterThan(0);
    const late = records.filter((r) => r.late);
    expect(late.length).toBeGreaterThan(0);
    const byUser = new Map<number, RequestRecord[]>();
    for (const r of records) byUser.set(r.userId, [...(byUser.get(r.userId) ?? []), r]);
    for (const list of byUser.values()) {
      list.sort((a, b) => a.round - b.round);
      list.forEach((r, i) => {
        const d = derive(r);
        expect(d.scheduleLagMs).toBeCloseTo(d.waitMs + d.senderLagMs + d.connectWaitMs, 9);
        expect(d.senderLagMs).toBeGreaterThanOrEqual(0);
        expect(d.connectWaitMs).toBeGreaterThanOrEqual(0);
        const prev = list[i - 1];
        if (r.late && prev) {
          // Ready when the previous turn ended: the whole wait is the server's, the rest is the client's.
          expect(r.readyMs).toBe(prev.endMs);
          expect(d.waitMs).toBeCloseTo(prev.endMs - r.intendedMs, 9);
        } else {
          expect(d.waitMs).toBe(0);
        }
      });
    }
    expect(result.metrics.wait_ms.count).toBe(records.length);
    expect(result.metrics.sender_lag_ms.count).toBe(records.length);
    expect(result.metrics.wait_ms.max as number).toBeGreaterThan(0);
    // The health verdict judged the sender lag, not the schedule lag.
    expect(result.client.senderLag).toEqual({ samples: records.length, p90: result.metrics.sender_lag_ms.p90, p99: result.metrics.sender_lag_ms.p99 });
    expect(result.client.reasons.some((x) => x.startsWith('schedule lag'))).toBe(false);
  });

  it('a --max-concurrency wait is a wait, not sender lag', async () => {
    const m = await mock({ ttftMs: 150, itlMs: 1 });
    const { records, result } = await run(config(m, { numUsers: 6, numRounds: 2, qps: [12], time: 1, maxConcurrency: 1 }));
    const waited = records.filter((r) => derive(r).waitMs > 0);
    expect(waited.length).toBeGreaterThan(0);
    // One slot: a turn that waited became ready when the request before it in sending order ended.
    const bySent = [...records].sort((a, b) => a.sentMs - b.sentMs);
    for (let i = 1; i < bySent.length; i++) {
      const r = bySent[i] as RequestRecord;
      if (derive(r).waitMs > 0 && !r.late) expect(r.readyMs as number).toBeGreaterThanOrEqual((bySent[i - 1] as RequestRecord).endMs);
    }
    expect(result.notes.join('\n')).toMatch(/waited for one of --max-concurrency 1 slots/);
  });
});

describe('no turn vanishes', () => {
  it('a stalled stream cut by the drain deadline: launched + unsent = turns due, each unsent turn with its reason', async () => {
    // The first second-round turn the mock sees stalls mid-stream far past the drain deadline; that user's later
    // turns come due meanwhile.
    let stalledUser: string | undefined;
    const m = await mock({ ttftMs: 10, itlMs: 2 }, (req) => {
      const body = req.body as { messages?: { content: string }[] };
      if (stalledUser === undefined && (body.messages?.length ?? 0) === 3) stalledUser = String(req.headers['x-user-id']);
      return stalledUser !== undefined && String(req.headers['x-user-id']) === stalledUser && (body.messages?.length ?? 0) === 3 ? { stallMs: 600_000 } : undefined;
    });
    const cfg = config(m, { numUsers: 3, numRounds: 5, qps: [6], time: 3, drainTimeout: 1, requestTimeout: 600, answerLen: 8 });
    const { result } = await run(cfg);
    const due = dueTurns(cfg, 6);
    expect(result.counts.cancelled).toBeGreaterThanOrEqual(1);
    expect(result.counts.launched + result.counts.unsent).toBe(due);
    const reasons = result.counts.unsentByReason ?? {};
    expect(Object.values(reasons).reduce((a, b) => a + (b ?? 0), 0)).toBe(result.counts.unsent);
    expect(reasons['user-busy'] ?? 0).toBeGreaterThan(0);
    expect(result.notes.join('\n')).toMatch(/came due before --time ended while the user's previous turn was still running/);
  });

  it('an interrupted run counts the turns that came due before the interrupt and were not sent', async () => {
    const m = await mock({ ttftMs: 400, itlMs: 1 });
    const cfg = config(m, { numUsers: 2, numRounds: 6, qps: [10], time: 30, drainTimeout: 5 });
    const ac = new AbortController();
    const records: RequestRecord[] = [];
    const result = await runBenchmark({
      config: cfg,
      qps: 10,
      runId: 't',
      onRecord: (r) => {
        records.push(r);
        // Stop once a late turn has been answered: other turns have come due behind the busy users by then.
        if (records.filter((x) => x.late).length >= 1 && !ac.signal.aborted) ac.abort();
      },
    }, ac.signal);
    expect(result.interrupted).toBe(true);
    const reasons = result.counts.unsentByReason ?? {};
    expect(Object.values(reasons).reduce((a, b) => a + (b ?? 0), 0)).toBe(result.counts.unsent);
    // Every unsent turn here was stopped by the interrupt (the window had not ended).
    expect(reasons['user-busy'] ?? 0).toBe(0);
  });
});
