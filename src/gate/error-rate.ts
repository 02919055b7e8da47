// The error rate's change between baseline and current, with the same session bootstrap as compare's statistics
// (sessions (rep, user) resampled, paired when both sides ran the same users): compare/statistics.ts has no error
// rate, and a rate that is usually 0 needs a difference, not a ratio. Pure.
import { drawWeights, percentileInterval } from '../compare/bootstrap.js';
import { MIN_SESSIONS } from '../compare/statistics.js';
import type { Estimate, RequestSample } from '../compare/types.js';
import { prng } from '../util/prng.js';

export interface ErrorRateChange {
  baseline: Estimate;
  current: Estimate;
  /** current - baseline (a fraction: 0.01 is one percentage point). */
  difference: Estimate;
  /** Both sides had at least MIN_SESSIONS sessions with a launched request. */
  enough: boolean;
  sessions: { baseline: number; current: number };
}

/** Per session key: [failed, launched]. */
function tally(samples: readonly RequestSample[]): Map<string, [number, number]> {
  const m = new Map<string, [number, number]>();
  for (const s of samples) {
    const k = `${s.rep}:${s.userId}`;
    const t = m.get(k) ?? [0, 0];
    if (s.outcome !== 'ok' && s.outcome !== 'cancelled') t[0]++;
    t[1]++;
    m.set(k, t);
  }
  return m;
}

function rateOf(tallies: readonly (readonly [number, number])[], w: Uint32Array | null): number {
  let f = 0;
  let n = 0;
  tallies.forEach(([failed, launched], i) => {
    const k = w ? (w[i] as number) : 1;
    f += k * failed;
    n += k * launched;
  });
  return n > 0 ? f / n : Number.NaN;
}

const est = (value: number, reps: Float64Array, confidence: number, enough: boolean): Estimate => {
  const ci = enough ? percentileInterval(reps, confidence) : null;
  return { value: Number.isFinite(value) ? value : null, lo: ci?.lo ?? null, hi: ci?.hi ?? null };
};

/**
 * failed / launched on each side (cancelled requests count as launched, not failed, as the run's own error
 * rate does) and the interval of the difference, from `iterations` session resamples seeded by `seed`.
 */
export function errorRateChange(baseline: readonly RequestSample[], current: readonly RequestSample[], o: { iterations: number; confidence: number; seed: number }): ErrorRateChange {
  const tb = tally(baseline);
  const tc = tally(current);
  const shared = [...tb.keys()].some((k) => tc.has(k));
  const keysB = shared ? [...new Set([...tb.keys(), ...tc.keys()])].sort() : [...tb.keys()].sort();
  const keysC = shared ? keysB : [...tc.keys()].sort();
  const zero: [number, number] = [0, 0];
  const b = keysB.map((k) => tb.get(k) ?? zero);
  const c = keysC.map((k) => tc.get(k) ?? zero);
  const rand = prng(o.seed);
  const wB = new Uint32Array(b.length);
  const wC = shared ? wB : new Uint32Array(c.length);
  const repsB = new Float64Array(o.iterations);
  const repsC = new Float64Array(o.iterations);
  const repsD = new Float64Array(o.iterations);
  for (let i = 0; i < o.iterations; i++) {
    drawWeights(rand, wB);
    if (!shared) drawWeights(rand, wC);
    repsB[i] = rateOf(b, wB);
    repsC[i] = rateOf(c, wC);
    repsD[i] = (repsC[i] as number) - (repsB[i] as number);
  }
  const enoughB = tb.size >= MIN_SESSIONS;
  const enoughC = tc.size >= MIN_SESSIONS;
  const vb = rateOf(b, null);
  const vc = rateOf(c, null);
  return {
    baseline: est(vb, repsB, o.confidence, enoughB),
    current: est(vc, repsC, o.confidence, enoughC),
    difference: est(vc - vb, repsD, o.confidence, enoughB && enoughC),
    enough: enoughB && enoughC,
    sessions: { baseline: tb.size, current: tc.size },
  };
}
