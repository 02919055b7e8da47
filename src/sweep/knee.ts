// The knee of a latency-vs-load curve: the last load before latency starts rising faster than throughput. Pure.
//
// Between consecutive points (sorted by load) the elasticity e = Δln(E2EL p50) / Δln(completed req/s) says how
// many percent latency grows per percent of throughput gained: near 0 while the target has headroom, above 1
// once queueing dominates (and infinite when throughput stops growing while latency does). The knee is the
// lower point of the first segment with e > 1; a saturated point ends the curve too, so the knee is never past
// the last point before the first saturated one.

export interface KneePoint {
  load: number;
  /** Completed requests per second. */
  throughput: number;
  /** E2EL p50 in ms (null when nothing completed). */
  latencyMs: number | null;
  saturated: boolean;
}

export interface Knee {
  load: number;
  /** Why: the elasticity that crossed 1, or the saturated point after it. */
  reason: string;
}

export const KNEE_ELASTICITY = 1;

export function findKnee(points: readonly KneePoint[]): Knee | null {
  const ps = [...points].sort((a, b) => a.load - b.load);
  for (let i = 1; i < ps.length; i++) {
    const a = ps[i - 1] as KneePoint;
    const b = ps[i] as KneePoint;
    if (b.saturated) return a.saturated ? null : { load: a.load, reason: `the next point (${b.load}) is saturated` };
    if (a.latencyMs === null || b.latencyMs === null || a.latencyMs <= 0 || b.latencyMs <= 0 || a.throughput <= 0) continue;
    const dLat = Math.log(b.latencyMs / a.latencyMs);
    const dThr = b.throughput > 0 ? Math.log(b.throughput / a.throughput) : Number.NEGATIVE_INFINITY;
    const e = dThr > 0 ? dLat / dThr : dLat > 0 ? Number.POSITIVE_INFINITY : 0;
    if (e > KNEE_ELASTICITY) {
      const eText = Number.isFinite(e) ? e.toFixed(2) : 'inf (throughput stopped growing)';
      return { load: a.load, reason: `from ${a.load} to ${b.load}, E2EL p50 rose ${pct(dLat)} for ${pct(dThr)} more throughput (elasticity ${eText} > ${KNEE_ELASTICITY})` };
    }
  }
  return null;
}

const pct = (dLog: number): string => (Number.isFinite(dLog) ? `${((Math.exp(dLog) - 1) * 100).toFixed(0)}%` : 'none');
