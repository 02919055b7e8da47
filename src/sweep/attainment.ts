// SLO attainment of a load point with its interval, and the three-way decision a capacity search rests on: a
// point *meets* the goal only when the whole interval is at or above it, *fails* only when the whole interval is
// below it, and is *uncertain* otherwise (then it is probed again, and the pooled requests narrow the interval).
// Pure.

export type PointVerdict = 'meets' | 'fails' | 'uncertain';

export interface Attainment {
  met: number;
  judged: number;
  /** met / judged, null when nothing was judged. */
  value: number | null;
  lo: number | null;
  hi: number | null;
}

/** The two-sided standard normal quantile for a confidence level (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const tail = (q: number): number => (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

/**
 * Wilson score interval of met / judged at `confidence` (two-sided). Unlike the normal approximation it stays
 * inside [0, 1] and is not degenerate at 0 or n successes, which is where a capacity search spends its time.
 * Requests of one session are treated as independent; sessions are short, so the interval is somewhat narrow.
 */
export function attainmentOf(met: number, judged: number, confidence: number): Attainment {
  if (judged <= 0) return { met, judged, value: null, lo: null, hi: null };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = met / judged;
  const z2n = (z * z) / judged;
  const center = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / judged + z2n / (4 * judged))) / (1 + z2n);
  return { met, judged, value: p, lo: Math.max(0, center - half), hi: Math.min(1, center + half) };
}

/** meets: the interval is at or above the goal; fails: it is below; uncertain: it straddles (or nothing was judged). */
export function verdictOf(a: Attainment, goal: number): PointVerdict {
  if (a.lo === null || a.hi === null) return 'uncertain';
  if (a.lo >= goal) return 'meets';
  if (a.hi < goal) return 'fails';
  return 'uncertain';
}

/** An uncertain point after its last repetition is decided by its estimate (and stays marked uncertain). */
export function decidedByEstimate(a: Attainment, goal: number): boolean {
  return a.value !== null && a.value >= goal;
}
