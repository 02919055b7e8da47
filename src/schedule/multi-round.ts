// When each turn is due under multi-round-qa.py's pacing, as pure functions of the config. No IO, no clock.
//
//   gap per user      = users / qps                 (each user asks every `gap` seconds)
//   session span      = gap * (rounds - 1)
//   gap between users = span / users                (a new user joins this often, replacing finished ones)
//
// Users are numbered by a join index k: user k joins at k * gapBetweenUsers. At t = 0 the users k = -(N-1) .. -1
// are already mid-session (pre-aged, so the run is at steady state from t = 0); their rounds due at or before
// t = 0 count as already asked and are skipped. New users join at k = 0, 1, 2, ... . Round r (0-based) of user k
// is due at k * gapBetweenUsers + r * gap. User ids follow multi-round-qa.py: initUserId + 1 + (k + N).
//
// Consequence, reported rather than hidden: with R rounds the users together send qps * R / (R - 1) requests/s
// (2x the configured QPS for run_pd.sh's 2 rounds), because every user sends R turns within R - 1 gaps.
// With one round the span is zero; pd-bench then lets one single-turn user join every 1 / qps seconds.

export interface MultiRoundParams {
  numUsers: number;
  numRounds: number;
  qps: number;
  initUserId: number;
}

export interface MultiRoundPlan {
  /** s between a user's consecutive turns */
  gapPerUser: number;
  /** s between consecutive user joins */
  gapBetweenUsers: number;
  /** s from a user's first turn to its last */
  sessionSpan: number;
  /** The request rate the schedule actually produces at steady state (req/s). */
  expectedRate: number;
  /** Lowest join index of a pre-aged user (inclusive). */
  firstJoinIndex: number;
}

export interface UserPlan {
  joinIndex: number;
  userId: number;
  /** s relative to run start; negative for pre-aged users */
  joinAt: number;
  /** 0-based index of the first round this user actually sends */
  firstRound: number;
}

const EPS = 1e-9;

export function planMultiRound(p: MultiRoundParams): MultiRoundPlan {
  const gapPerUser = p.numUsers / p.qps;
  if (p.numRounds <= 1) {
    return { gapPerUser, gapBetweenUsers: 1 / p.qps, sessionSpan: 0, expectedRate: p.qps, firstJoinIndex: 0 };
  }
  const sessionSpan = gapPerUser * (p.numRounds - 1);
  const gapBetweenUsers = sessionSpan / p.numUsers;
  return {
    gapPerUser,
    gapBetweenUsers,
    sessionSpan,
    expectedRate: (p.qps * p.numRounds) / (p.numRounds - 1),
    firstJoinIndex: -(p.numUsers - 1),
  };
}

/** The user with join index k, or undefined when it would have finished before t = 0. */
export function userAt(plan: MultiRoundPlan, p: MultiRoundParams, k: number): UserPlan | undefined {
  const joinAt = k * plan.gapBetweenUsers;
  let firstRound = 0;
  if (k < 0) {
    // Rounds due at or before t = 0 were "asked" before the run started.
    firstRound = Math.floor(-joinAt / plan.gapPerUser + EPS) + 1;
    if (firstRound >= p.numRounds) return undefined;
  }
  return { joinIndex: k, userId: p.initUserId + 1 + (k + p.numUsers), joinAt, firstRound };
}

/** Due time (s from run start) of 0-based round r of a user. */
export function dueAt(plan: MultiRoundPlan, user: UserPlan, round: number): number {
  return user.joinAt + round * plan.gapPerUser;
}

/** A human label for results, e.g. "multi-round per-user@1.1qps (120 users x 2 rounds)". */
export function scheduleLabel(p: MultiRoundParams): string {
  return `multi-round per-user@${p.qps}qps (${p.numUsers} users x ${p.numRounds} rounds)`;
}
