// Arrival processes for turns (--arrival). `per-user` is multi-round-qa.py's pacing: each user's turns are
// users/QPS apart, which launches bursts (a new user's first turn and older users' later turns at the same
// instant). The others keep the same turns in the same order (so each user's rounds stay in sequence and every
// target sees the same conversations) and the same mean rate, but draw the launch times from a Poisson, gamma
// (shape = --burstiness, as vLLM's bench: 1 is Poisson, lower is burstier) or constant-rate process. Seeded and
// precomputed before the run, so two targets get identical schedules. No IO.
import { mixSeed, prng } from '../util/prng.js';
import { dueAt, userAt, type MultiRoundParams, type MultiRoundPlan } from './multi-round.js';

export type ArrivalKind = 'per-user' | 'poisson' | 'gamma' | 'constant';

export interface ArrivalOptions {
  kind: ArrivalKind;
  /** Gamma shape; 1 = Poisson. */
  burstiness: number;
  seed: number;
  /** Launch window (s). */
  time: number;
}

/** Gamma(shape, 1) by Marsaglia and Tsang (with the shape < 1 boost). */
function gamma(shape: number, rand: () => number): number {
  if (shape < 1) return gamma(shape + 1, rand) * Math.pow(1 - rand(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      // Standard normal by Box-Muller.
      x = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rand();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Arrival times (s from 0, increasing) of a process with mean `rate` per second, up to `time`. */
export function arrivalTimes(kind: Exclude<ArrivalKind, 'per-user'>, rate: number, time: number, burstiness: number, seed: number): number[] {
  const out: number[] = [];
  const rand = prng(mixSeed(seed, 0xa441));
  let t = 0;
  for (;;) {
    let gap: number;
    if (kind === 'constant') gap = 1 / rate;
    else if (kind === 'poisson') gap = -Math.log(1 - rand()) / rate;
    else gap = gamma(burstiness, rand) / (rate * burstiness);
    // A constant process starts at t = 0; random ones one draw in, as a process observed from a random time.
    const at = kind === 'constant' ? t : t + gap;
    if (at >= time) return out;
    out.push(at);
    t = kind === 'constant' ? t + gap : at;
  }
}

/**
 * Due times (s) per user id and 0-based round when the arrival process is not per-user: the per-user plan's
 * turns in their due order get the process's arrival times, one each; turns left over are not sent.
 */
export function reshapeSchedule(plan: MultiRoundPlan, params: MultiRoundParams, o: ArrivalOptions): Map<number, number[]> {
  const due = new Map<number, number[]>();
  if (o.kind === 'per-user') return due;
  const times = arrivalTimes(o.kind, plan.expectedRate, o.time, o.burstiness, o.seed);
  // Enough of the per-user plan's turns to take every arrival: the plan launches at expectedRate, so twice the
  // window (plus one session) covers any random process's excess.
  const horizon = 2 * o.time + plan.sessionSpan + plan.gapPerUser;
  const turns: Array<{ user: number; round: number; at: number; k: number }> = [];
  for (let k = plan.firstJoinIndex; ; k++) {
    const u = userAt(plan, params, k);
    if (!u) continue;
    if (u.joinAt >= horizon) break;
    for (let r = u.firstRound; r < params.numRounds; r++) {
      const at = dueAt(plan, u, r);
      if (at < 0 || at >= horizon) continue;
      turns.push({ user: u.userId, round: r, at, k });
    }
  }
  turns.sort((a, b) => a.at - b.at || a.k - b.k || a.round - b.round);
  for (let i = 0; i < turns.length; i++) {
    const t = turns[i] as (typeof turns)[number];
    let rounds = due.get(t.user);
    if (!rounds) due.set(t.user, (rounds = new Array<number>(params.numRounds).fill(Number.POSITIVE_INFINITY)));
    rounds[t.round] = i < times.length ? (times[i] as number) : Number.POSITIVE_INFINITY;
  }
  return due;
}
