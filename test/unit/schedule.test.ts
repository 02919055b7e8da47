// Multi-round pacing: pd-bench's closed-form schedule (src/schedule/multi-round.ts) against a line-by-line
// port of production-stack's benchmarks/multi-round-qa/multi-round-qa.py (UserSessionManager / UserSession),
// driven by a virtual polling clock with instantaneous responses. No real time, no IO.
import { describe, expect, it } from 'vitest';
import {
  dueAt,
  planMultiRound,
  scheduleLabel,
  userAt,
  type MultiRoundParams,
  type MultiRoundPlan,
  type UserPlan,
} from '../../src/schedule/multi-round.js';

interface Turn {
  userId: number;
  /** 1-based question number */
  question: number;
  /** s from run start */
  t: number;
}

/** Every turn pd-bench schedules with due time in [0, horizon), built the way src/run.ts walks the plan. */
function pdBenchTurns(p: MultiRoundParams, horizon: number): Turn[] {
  const plan = planMultiRound(p);
  const turns: Turn[] = [];
  const add = (u: UserPlan): void => {
    for (let r = u.firstRound; r < p.numRounds; r++) {
      const t = dueAt(plan, u, r);
      if (t >= horizon) break;
      turns.push({ userId: u.userId, question: r + 1, t });
    }
  };
  for (let k = plan.firstJoinIndex; k < 0; k++) {
    const u = userAt(plan, p, k);
    if (u) add(u);
  }
  for (let k = 0; ; k++) {
    const u = userAt(plan, p, k) as UserPlan;
    if (u.joinAt >= horizon) break;
    add(u);
  }
  return turns.sort((a, b) => a.t - b.t || a.userId - b.userId);
}

/**
 * A port of multi-round-qa.py's scheduling (UserSessionManager.step/_ramp_up, UserSession.step/
 * set_internal_state/_launch_new_request), responses finishing instantly. `dt` is its `step_interval`
 * (0.1 s in the original; smaller here so the comparison is tight). Timestamps start at a large epoch-like
 * base because the original's `last_user_join = 0` relies on `time.time()` being far from 0.
 */
function referenceTurns(p: MultiRoundParams, runTime: number, dt: number): Turn[] {
  const base = 1_000_000;
  const gapReq = p.numUsers / p.qps; // UserConfig.gap_between_requests
  const sessionAlive = gapReq * (p.numRounds - 1);
  const gapBetweenUsers = sessionAlive / (p.numUsers + 0);
  const rampUpTime = p.numUsers * gapBetweenUsers;
  interface Session {
    userId: number;
    lastRequestTime: number | null;
    questionId: number;
    finished: boolean;
  }
  let sessions: Session[] = [];
  let userId = p.initUserId;
  let lastUserJoin = 0;
  let needRampUp = true;
  const turns: Turn[] = [];

  const createSession = (): Session => {
    userId += 1;
    const s: Session = { userId, lastRequestTime: null, questionId: 0, finished: false };
    sessions.push(s);
    return s;
  };
  const setInternalState = (s: Session, offset: number, timestamp: number): void => {
    const numPassed = Math.trunc(offset / gapReq) + 1; // int(offset / gap) + 1
    const passedTime = (numPassed - 1) * gapReq;
    s.lastRequestTime = timestamp - offset + passedTime;
    s.questionId = numPassed;
  };
  const launch = (s: Session, timestamp: number): void => {
    s.questionId += 1;
    turns.push({ userId: s.userId, question: s.questionId, t: timestamp - base });
    s.lastRequestTime = timestamp;
  };
  const sessionStep = (s: Session, timestamp: number): void => {
    if (s.questionId >= p.numRounds) {
      s.finished = true; // has_unfinished_request is always false: responses are instantaneous
      return;
    }
    if (s.lastRequestTime === null) {
      launch(s, timestamp);
      return;
    }
    if (timestamp - s.lastRequestTime > gapReq) launch(s, timestamp);
  };
  const managerStep = (timestamp: number): void => {
    if (needRampUp) {
      for (let i = 0; i < p.numUsers; i++) {
        const s = createSession();
        const offset = rampUpTime - i * gapBetweenUsers;
        if (offset < 0) break;
        setInternalState(s, offset, timestamp);
      }
      needRampUp = false;
    }
    if (timestamp - lastUserJoin > gapBetweenUsers) {
      createSession();
      lastUserJoin = timestamp;
    }
    for (const s of sessions) sessionStep(s, timestamp);
    sessions = sessions.filter((s) => !s.finished);
  };

  // main(): step, sleep(step_interval), stop once time.time() - start_time > args.time
  for (let i = 0; ; i++) {
    const ts = base + i * dt;
    managerStep(ts);
    if (ts + dt - base > runTime) break;
  }
  return turns;
}

const key = (t: Turn): string => `${t.userId}#${t.question}`;

/**
 * The same users ask the same questions at the same times. The reference polls, so its times lag by at most
 * one poll per round and one per user join (its join clock restarts at the poll that noticed the join).
 */
function expectSameSchedule(p: MultiRoundParams, runTime: number, dt: number): { ours: Turn[]; ref: Turn[] } {
  const plan = planMultiRound(p);
  const joins = Math.ceil(runTime / plan.gapBetweenUsers) + 1;
  const tol = dt * (joins + p.numRounds + 2);
  const ref = referenceTurns(p, runTime, dt);
  const ours = pdBenchTurns(p, runTime + 1);
  const refByKey = new Map(ref.map((t) => [key(t), t]));
  const oursByKey = new Map(ours.map((t) => [key(t), t]));
  expect(refByKey.size).toBe(ref.length); // no (user, question) twice
  expect(oursByKey.size).toBe(ours.length);
  const cutoff = runTime - 2 * tol;
  let compared = 0;
  for (const t of ours) {
    if (t.t >= cutoff) continue;
    const r = refByKey.get(key(t));
    expect(r, `multi-round-qa.py never sends user ${t.userId} question ${t.question} (pd-bench: t=${t.t})`).toBeDefined();
    expect(Math.abs((r as Turn).t - t.t)).toBeLessThanOrEqual(tol);
    compared++;
  }
  for (const r of ref) {
    if (r.t >= cutoff) continue;
    expect(oursByKey.get(key(r)), `pd-bench never sends user ${r.userId} question ${r.question} (reference: t=${r.t})`).toBeDefined();
  }
  expect(compared).toBeGreaterThan(0);
  return { ours, ref };
}

describe('planMultiRound', () => {
  it('derives the run_pd.sh pacing: gap = users/qps, span = gap*(rounds-1), join gap = span/users', () => {
    const plan = planMultiRound({ numUsers: 120, numRounds: 2, qps: 1.1, initUserId: 0 });
    expect(plan.gapPerUser).toBeCloseTo(120 / 1.1, 12);
    expect(plan.sessionSpan).toBeCloseTo(120 / 1.1, 12);
    expect(plan.gapBetweenUsers).toBeCloseTo(1 / 1.1, 12);
    expect(plan.expectedRate).toBeCloseTo(2.2, 12); // qps * R / (R - 1): 2x the configured QPS for 2 rounds
    expect(plan.firstJoinIndex).toBe(-119);
  });

  it('derives the run.sh main workload pacing (320 users, 10 rounds)', () => {
    const plan = planMultiRound({ numUsers: 320, numRounds: 10, qps: 4.1, initUserId: 0 });
    expect(plan.gapPerUser).toBeCloseTo(320 / 4.1, 10);
    expect(plan.sessionSpan).toBeCloseTo((320 / 4.1) * 9, 10);
    expect(plan.gapBetweenUsers).toBeCloseTo((9 / 4.1), 10);
    expect(plan.expectedRate).toBeCloseTo((4.1 * 10) / 9, 10);
    expect(plan.firstJoinIndex).toBe(-319);
  });

  it('with one round lets one single-turn user join every 1/qps s (the span is zero)', () => {
    const p = { numUsers: 5, numRounds: 1, qps: 2, initUserId: 0 };
    const plan = planMultiRound(p);
    expect(plan.sessionSpan).toBe(0);
    expect(plan.gapBetweenUsers).toBeCloseTo(0.5, 12);
    expect(plan.expectedRate).toBe(2);
    expect(plan.firstJoinIndex).toBe(0);
    const turns = pdBenchTurns(p, 10);
    expect(turns).toHaveLength(20);
    expect(turns.every((t) => t.question === 1)).toBe(true);
    expect(new Set(turns.map((t) => t.userId)).size).toBe(20);
    turns.forEach((t, i) => expect(t.t).toBeCloseTo(i * 0.5, 9));
    expect(turns[0]?.userId).toBe(6); // init-user-id + 1 + users, as if the ramp-up had created `users` ids
  });

  it('is a pure function of its parameters', () => {
    const p = { numUsers: 37, numRounds: 7, qps: 0.9, initUserId: 11 };
    expect(planMultiRound(p)).toEqual(planMultiRound({ ...p }));
    expect(pdBenchTurns(p, 500)).toEqual(pdBenchTurns({ ...p }, 500));
  });

  it('labels the schedule', () => {
    expect(scheduleLabel({ numUsers: 120, numRounds: 2, qps: 1.1, initUserId: 0 })).toBe('multi-round per-user@1.1qps (120 users x 2 rounds)');
  });
});

describe('userAt / dueAt on an exactly representable example (4 users, 3 rounds, 1 QPS)', () => {
  // gap = 4 s, span = 8 s, a user joins every 2 s. Pre-aged users k = -3..-1 joined at -6, -4, -2 s.
  const p: MultiRoundParams = { numUsers: 4, numRounds: 3, qps: 1, initUserId: 0 };
  const plan = planMultiRound(p);

  it('pre-ages users so that rounds due at or before t = 0 count as already asked', () => {
    expect(plan).toMatchObject({ gapPerUser: 4, sessionSpan: 8, gapBetweenUsers: 2, firstJoinIndex: -3 });
    expect(userAt(plan, p, -4)).toBeUndefined(); // rounds at -8, -4, 0: finished at t = 0
    expect(userAt(plan, p, -5)).toBeUndefined();
    expect(userAt(plan, p, -3)).toEqual({ joinIndex: -3, userId: 2, joinAt: -6, firstRound: 2 }); // rounds -6, -2 | 2
    expect(userAt(plan, p, -2)).toEqual({ joinIndex: -2, userId: 3, joinAt: -4, firstRound: 2 }); // -4, 0 | 4
    expect(userAt(plan, p, -1)).toEqual({ joinIndex: -1, userId: 4, joinAt: -2, firstRound: 1 }); // -2 | 2, 6
    expect(userAt(plan, p, 0)).toEqual({ joinIndex: 0, userId: 5, joinAt: 0, firstRound: 0 });
    expect(userAt(plan, p, 3)).toEqual({ joinIndex: 3, userId: 8, joinAt: 6, firstRound: 0 });
  });

  it('puts round r of a user at joinAt + r * gap', () => {
    const u = userAt(plan, p, 2) as UserPlan;
    expect([0, 1, 2].map((r) => dueAt(plan, u, r))).toEqual([4, 8, 12]);
    const old = userAt(plan, p, -1) as UserPlan;
    expect(dueAt(plan, old, old.firstRound)).toBe(2);
  });

  it('sends exactly the turns multi-round-qa.py sends', () => {
    const turns = pdBenchTurns(p, 10).map((t) => [t.t, t.userId, t.question]);
    expect(turns).toEqual([
      [0, 5, 1],
      [2, 2, 3],
      [2, 4, 2],
      [2, 6, 1],
      [4, 3, 3],
      [4, 5, 2],
      [4, 7, 1],
      [6, 4, 3],
      [6, 6, 2],
      [6, 8, 1],
      [8, 5, 3],
      [8, 7, 2],
      [8, 9, 1],
    ]);
    expectSameSchedule(p, 10, 0.001);
  });

  it('offsets every user id by --init-user-id', () => {
    const shifted = { ...p, initUserId: 1000 };
    const a = pdBenchTurns(p, 30);
    const b = pdBenchTurns(shifted, 30);
    expect(b.map((t) => t.userId)).toEqual(a.map((t) => t.userId + 1000));
    expect(b.map((t) => [t.t, t.question])).toEqual(a.map((t) => [t.t, t.question]));
  });
});

describe('matches multi-round-qa.py', () => {
  it.each([
    ['run_pd.sh', { numUsers: 120, numRounds: 2, qps: 1.1, initUserId: 0 }, 60, 0.0005],
    ['run.sh main point', { numUsers: 320, numRounds: 10, qps: 4.1, initUserId: 0 }, 100, 0.002],
    ['run.sh warmup', { numUsers: 1, numRounds: 2, qps: 2, initUserId: 0 }, 20, 0.001],
    ['run_single.sh', { numUsers: 15, numRounds: 20, qps: 1.1, initUserId: 0 }, 100, 0.001],
    ['run_single.sh low QPS', { numUsers: 15, numRounds: 20, qps: 0.1, initUserId: 0 }, 400, 0.002],
    ['odd sizes, init id', { numUsers: 7, numRounds: 4, qps: 0.7, initUserId: 42 }, 60, 0.001],
  ] as const)('%s: same users, same questions, same times', (_name, p, runTime, dt) => {
    const { ours, ref } = expectSameSchedule(p, runTime, dt);
    expect(ours.length).toBeGreaterThan(2);
    expect(ref.length).toBeGreaterThan(2);
  });
});

describe('steady state from t = 0', () => {
  const cases: Array<[string, MultiRoundParams]> = [
    ['run_pd.sh', { numUsers: 120, numRounds: 2, qps: 1.1, initUserId: 0 }],
    ['run.sh', { numUsers: 320, numRounds: 10, qps: 4.1, initUserId: 0 }],
    ['run_single.sh', { numUsers: 15, numRounds: 20, qps: 0.7, initUserId: 0 }],
  ];

  function activeAt(plan: MultiRoundPlan, p: MultiRoundParams, t: number): number {
    // A user is in session from its join to its last round; pre-aged ones count from t = 0.
    let n = 0;
    for (let k = -(p.numUsers + 2); k * plan.gapBetweenUsers <= t; k++) {
      const u = userAt(plan, p, k);
      if (!u) continue;
      if (u.joinAt <= t && t < u.joinAt + plan.sessionSpan) n++;
    }
    return n;
  }

  it.each(cases)('%s: `users` sessions are alive at every moment, including t = 0', (_name, p) => {
    const plan = planMultiRound(p);
    for (let j = 0; j < 50; j++) {
      // Mid-way between joins, so no session is exactly starting or ending.
      const t = (j + 0.5) * plan.gapBetweenUsers;
      expect(activeAt(plan, p, t)).toBe(p.numUsers);
    }
    expect(activeAt(plan, p, 0)).toBe(p.numUsers);
  });

  it.each(cases)('%s: the launch rate is the steady-state rate in the first gap and in every later one', (_name, p) => {
    const plan = planMultiRound(p);
    const windows = 6;
    const turns = pdBenchTurns(p, windows * plan.gapPerUser);
    const perWindow = plan.expectedRate * plan.gapPerUser; // = users * R / (R - 1)
    for (let w = 0; w < windows; w++) {
      const n = turns.filter((t) => t.t >= w * plan.gapPerUser && t.t < (w + 1) * plan.gapPerUser).length;
      // Within a few turns of the exact count (turns landing on window edges); no ramp-up in the first window.
      expect(Math.abs(n - perWindow)).toBeLessThanOrEqual(p.numRounds);
    }
  });

  it('no pre-aged user starts at round 1 and every pre-aged user still has a round to send', () => {
    const p = { numUsers: 120, numRounds: 2, qps: 1.1, initUserId: 0 };
    const plan = planMultiRound(p);
    for (let k = plan.firstJoinIndex; k < 0; k++) {
      const u = userAt(plan, p, k) as UserPlan;
      expect(u).toBeDefined();
      expect(u.firstRound).toBeGreaterThan(0);
      expect(u.firstRound).toBeLessThan(p.numRounds);
      expect(dueAt(plan, u, u.firstRound)).toBeGreaterThan(0);
      expect(dueAt(plan, u, u.firstRound - 1)).toBeLessThanOrEqual(0);
    }
  });
});

describe('finished sessions are replaced by new users', () => {
  it('new users get fresh ids (init-user-id + users + 1, + 2, ...), each asks every round once, in order', () => {
    const p = { numUsers: 10, numRounds: 4, qps: 2, initUserId: 100 };
    const plan = planMultiRound(p);
    const turns = pdBenchTurns(p, 200);
    const byUser = new Map<number, Turn[]>();
    for (const t of turns) byUser.set(t.userId, [...(byUser.get(t.userId) ?? []), t]);
    // Pre-aged users: ids 102..110 (101 had finished before t = 0); joiners: 111, 112, ... in join order.
    const ids = [...byUser.keys()].sort((a, b) => a - b);
    expect(ids[0]).toBe(102);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => 102 + i));
    for (let k = 0; k < 50; k++) {
      const u = userAt(plan, p, k) as UserPlan;
      expect(u.userId).toBe(100 + 10 + 1 + k);
      const mine = byUser.get(u.userId) as Turn[];
      expect(mine.map((t) => t.question)).toEqual([1, 2, 3, 4]);
      mine.forEach((t, r) => expect(t.t).toBeCloseTo(k * plan.gapBetweenUsers + r * plan.gapPerUser, 9));
    }
  });

  it('a new user joins every gapBetweenUsers while old sessions end at the same pace', () => {
    const p = { numUsers: 120, numRounds: 2, qps: 1.1, initUserId: 0 };
    const plan = planMultiRound(p);
    const joins = Array.from({ length: 100 }, (_, k) => (userAt(plan, p, k) as UserPlan).joinAt);
    joins.forEach((j, k) => expect(j).toBeCloseTo(k / 1.1, 9));
    // Session k ends (last round due) exactly when user k + users joins.
    for (let k = -119; k < 50; k++) {
      const u = userAt(plan, p, k) as UserPlan;
      const end = dueAt(plan, u, p.numRounds - 1);
      expect(end).toBeCloseTo((userAt(plan, p, k + p.numUsers) as UserPlan).joinAt, 9);
    }
  });
});
