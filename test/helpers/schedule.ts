// What the multi-round schedule alone decides, for tests that count requests after a fixed --time: counts that
// follow from the schedule hold on any machine, counts that need requests to be fast do not.
import { dueAt, planMultiRound, userAt } from '../../src/schedule/multi-round.js';

export interface WindowShape {
  numUsers: number;
  numRounds: number;
  qps: number;
  /** Launch window, s. */
  time: number;
  initUserId?: number;
}

/**
 * Users whose first turn (multi-round pacing, --arrival per-user) is due inside the launch window [0, time).
 * A user's first turn has no earlier turn to wait for, so it is launched however slow the machine is: the run
 * launches at least this many turns.
 */
export function firstTurnsInWindow(w: WindowShape): number {
  const p = { numUsers: w.numUsers, numRounds: w.numRounds, qps: w.qps, initUserId: w.initUserId ?? 0 };
  const plan = planMultiRound(p);
  let n = 0;
  for (let k = plan.firstJoinIndex; ; k++) {
    const u = userAt(plan, p, k);
    if (!u) continue;
    if (u.joinAt >= w.time) break;
    if (dueAt(plan, u, u.firstRound) < w.time) n++;
  }
  return n;
}
