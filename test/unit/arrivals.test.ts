// Arrival processes: statistics of the drawn times (rate, dispersion), determinism in the seed, and the
// reshaped multi-round schedule (same turns, same order, rounds in sequence, same mean rate).
import { describe, expect, it } from 'vitest';
import { arrivalTimes, reshapeSchedule } from '../../src/schedule/arrivals.js';
import { dueAt, planMultiRound, userAt } from '../../src/schedule/multi-round.js';

const gaps = (ts: number[]): number[] => ts.slice(1).map((t, i) => t - (ts[i] as number));
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const cv = (xs: number[]): number => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2))) / m;
};

describe('arrivalTimes', () => {
  it('poisson: the rate holds and inter-arrival times have CV 1', () => {
    const ts = arrivalTimes('poisson', 20, 2000, 1, 7);
    // 40,000 expected; 5 sigma = 1,000.
    expect(Math.abs(ts.length - 40_000)).toBeLessThan(1000);
    expect(cv(gaps(ts))).toBeGreaterThan(0.97);
    expect(cv(gaps(ts))).toBeLessThan(1.03);
  });

  it('gamma: burstiness b gives CV 1/sqrt(b) at the same rate (b = 1 is Poisson)', () => {
    for (const b of [0.25, 1, 4]) {
      const ts = arrivalTimes('gamma', 20, 2000, b, 3);
      expect(Math.abs(ts.length - 40_000) / 40_000).toBeLessThan(0.03);
      expect(Math.abs(cv(gaps(ts)) - 1 / Math.sqrt(b))).toBeLessThan(0.05 / Math.sqrt(b));
    }
  });

  it('constant: exact spacing from 0', () => {
    const ts = arrivalTimes('constant', 4, 2, 1, 0);
    expect(ts).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75]);
  });

  it('is determined by the seed', () => {
    expect(arrivalTimes('poisson', 5, 100, 1, 1)).toEqual(arrivalTimes('poisson', 5, 100, 1, 1));
    expect(arrivalTimes('poisson', 5, 100, 1, 1)).not.toEqual(arrivalTimes('poisson', 5, 100, 1, 2));
  });
});

describe('reshapeSchedule', () => {
  const params = { numUsers: 20, numRounds: 4, qps: 2, initUserId: 0 };
  const plan = planMultiRound(params);

  it('per-user leaves the schedule alone', () => {
    expect(reshapeSchedule(plan, params, { kind: 'per-user', burstiness: 1, seed: 0, time: 60 }).size).toBe(0);
  });

  it('keeps the per-user plan\'s turns in their order, each user\'s rounds in sequence, at the plan\'s mean rate', () => {
    const time = 300;
    const due = reshapeSchedule(plan, params, { kind: 'poisson', burstiness: 1, seed: 11, time });
    const assigned: Array<{ user: number; round: number; at: number; planned: number }> = [];
    for (let k = plan.firstJoinIndex; k < 400; k++) {
      const u = userAt(plan, params, k);
      if (!u) continue;
      const rounds = due.get(u.userId);
      for (let r = u.firstRound; r < params.numRounds; r++) {
        const at = rounds?.[r] ?? Number.POSITIVE_INFINITY;
        if (Number.isFinite(at)) assigned.push({ user: u.userId, round: r, at, planned: dueAt(plan, u, r) });
      }
      // Rounds of one user are in sequence.
      const finite = (rounds ?? []).filter((t) => Number.isFinite(t));
      expect(finite).toEqual([...finite].sort((a, b) => a - b));
    }
    // Same order as the per-user plan.
    const byArrival = [...assigned].sort((a, b) => a.at - b.at);
    const byPlan = [...assigned].sort((a, b) => a.planned - b.planned);
    expect(byArrival.map((x) => `${x.user}:${x.round}`)).toEqual(byPlan.map((x) => `${x.user}:${x.round}`));
    // Same mean rate as the per-user plan (plan.expectedRate), within 5 sigma of Poisson.
    const n = assigned.length;
    const expected = plan.expectedRate * time;
    expect(Math.abs(n - expected)).toBeLessThan(5 * Math.sqrt(expected));
    expect(Math.max(...assigned.map((x) => x.at))).toBeLessThan(time);
  });
});
