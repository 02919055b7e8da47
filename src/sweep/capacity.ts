// From a sweep's runs to what a capacity planner reads: one flat row per run (capacity.csv), one capacity per
// target — the largest load meeting the SLO with the interval the search brackets, the knee, the first saturated
// and first failing loads — and each target's capacity per GPU against the baseline's with its interval. Pure.
import { formatSlo, type SloSpec } from '../metrics/slo.js';
import { pointLabel, type AxisName } from './axis.js';
import { findKnee, type KneePoint } from './knee.js';
import type { CapacitySearch, LoadState, SearchOutcome } from './search.js';
import type { CapacityRatio, CapacityRow, SweepProbe, TargetCapacity } from './types.js';

export const CAPACITY_METHOD =
  'Each load point is run with the same seed and workload for every target (targets interleaved A B, B A). A run\'s SLO ' +
  'attainment is met / judged requests, where failed requests and turns that came due but were never sent count as ' +
  'misses and cancelled ones are not judged; its interval is the Wilson score interval at the stated confidence, over ' +
  'the pooled requests of every run at that load. A load meets the goal when the whole interval is at or above it, ' +
  'fails when the whole interval is below it or a run there was saturated; otherwise it is uncertain, and a search ' +
  'runs it again (pooling its requests), up to --max-probes runs, then decides by the estimate and marks it uncertain. ' +
  'The search probes the lowest load, doubles it while it meets, then bisects (geometric midpoint) between the largest ' +
  'load that meets and the smallest that fails until they are within --precision. Capacity is the largest load that ' +
  'met, and the true capacity lies in [that load, the first failing load). Capacity in req/s is the schedule\'s offered ' +
  'rate at that load (qps x rounds / (rounds - 1) for multi-round pacing; launched req/s is reported beside it). The ' +
  'knee is the last load before E2EL p50 grows faster than completed req/s (elasticity > 1) or before the first ' +
  'saturated point. The ratio of capacities per GPU is (capacity / GPUs) / (baseline capacity / baseline GPUs); its ' +
  'interval combines the two brackets (lowest over highest, highest over lowest).';

const perGpu = (x: number | null, gpus: number | null): number | null => (x === null || gpus === null || gpus <= 0 ? null : x / gpus);

/** One capacity.csv row of a run; `state` is the pooled state of its load (every run there). */
export function capacityRow(p: SweepProbe, state: LoadState | undefined): CapacityRow {
  const r = p.result;
  const m = r.metrics;
  const judged = r.counts.ok + r.counts.failed;
  const tpotMean = m.tpot_ms.mean;
  return {
    target: p.target,
    gpus: p.gpus,
    axis: p.axis,
    point: p.value,
    qps: r.schedule.configuredQps,
    users: r.config.numUsers,
    repetition: p.rep,
    step: p.step,
    offered_rps: r.throughput.expectedRate,
    launched_rps: r.throughput.launchRate,
    completed_rps: r.throughput.requestThroughput,
    input_tok_s: r.throughput.inputThroughput,
    output_tok_s: r.throughput.outputThroughput,
    output_tok_s_per_gpu: perGpu(r.throughput.outputThroughput, p.gpus),
    output_tok_s_per_user: tpotMean !== null && tpotMean > 0 ? 1000 / tpotMean : null,
    ttft_p50_ms: m.ttft_ms.p50,
    ttft_p90_ms: m.ttft_ms.p90,
    ttft_p99_ms: m.ttft_ms.p99,
    itl_p50_ms: m.itl_ms.p50,
    itl_p90_ms: m.itl_ms.p90,
    itl_p99_ms: m.itl_ms.p99,
    tpot_p50_ms: m.tpot_ms.p50,
    tpot_p90_ms: m.tpot_ms.p90,
    tpot_p99_ms: m.tpot_ms.p99,
    e2el_p50_ms: m.e2el_ms.p50,
    e2el_p90_ms: m.e2el_ms.p90,
    e2el_p99_ms: m.e2el_ms.p99,
    requests: r.counts.launched,
    failed: r.counts.failed,
    error_rate: judged > 0 ? r.counts.failed / judged : null,
    goodput_rps: p.slo ? p.slo.requestGoodput : null,
    goodput_rps_per_gpu: p.slo ? p.slo.requestGoodputPerGpu : null,
    slo_attainment: p.slo ? (state?.attainment.value ?? null) : null,
    slo_attainment_lo: p.slo ? (state?.attainment.lo ?? null) : null,
    slo_attainment_hi: p.slo ? (state?.attainment.hi ?? null) : null,
    slo_verdict: p.slo && state ? state.verdict : null,
    saturated: r.target.saturated ?? null,
    client_healthy: r.client.healthy,
    interrupted: r.interrupted,
    duration_s: r.throughput.measuredDurationS,
    run_dir: p.dir,
  };
}

/** The offered req/s of a target at a load (the schedule's rate), from any run there. */
function offeredAt(probes: readonly SweepProbe[], load: number | null | undefined): number | null {
  if (load === null || load === undefined) return null;
  return probes.find((p) => p.value === load)?.result.throughput.expectedRate ?? null;
}

const mean = (xs: readonly number[]): number | null => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Why a load failed: saturation first, else its attainment against the goal and what was missed. */
function whyFailed(state: LoadState, probes: readonly SweepProbe[], goal: number): string {
  if (state.saturated) {
    const reasons = probes.find((p) => p.value === state.load && p.result.target.saturated)?.result.target.reasons ?? [];
    return `saturated${reasons[0] ? `: ${reasons[0]}` : ''}`;
  }
  const a = state.attainment;
  const missed = new Map<string, number>();
  for (const p of probes) if (p.value === state.load && p.slo) for (const [k, n] of Object.entries(p.slo.missedBy)) if (n > 0) missed.set(k, (missed.get(k) ?? 0) + n);
  const by = [...missed].sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  const interval = a.lo !== null && a.hi !== null ? ` [${a.lo.toFixed(3)}, ${a.hi.toFixed(3)}]` : '';
  return `attainment ${a.value === null ? '-' : a.value.toFixed(3)}${interval} < ${goal}${by ? ` (missed by ${by})` : ''}`;
}

export interface CapacityInput {
  target: string;
  gpus: number | null;
  axis: AxisName;
  probes: readonly SweepProbe[];
  book: CapacitySearch;
  /** The search's outcome, or the fixed points' summary. */
  outcome: SearchOutcome | undefined;
  slo: SloSpec | null;
  goal: number;
  stoppedBecause: string | null;
  interrupted: boolean;
}

export function targetCapacity(i: CapacityInput): TargetCapacity {
  const probes = i.probes.filter((p) => !p.result.interrupted);
  const kneePoints: KneePoint[] = [...new Set(probes.map((p) => p.value))].map((load) => {
    const at = probes.filter((p) => p.value === load);
    return {
      load,
      throughput: mean(at.map((p) => p.result.throughput.requestThroughput)) ?? 0,
      latencyMs: mean(at.flatMap((p) => (p.result.metrics.e2el_ms.p50 === null ? [] : [p.result.metrics.e2el_ms.p50]))),
      saturated: at.some((p) => p.result.target.saturated === true),
    };
  });
  const sat = [...probes].sort((a, b) => a.value - b.value).find((p) => p.result.target.saturated === true);
  const base: TargetCapacity = {
    target: i.target,
    gpus: i.gpus,
    outcome: i.slo === null ? 'no-slo' : i.outcome?.kind ?? 'interrupted',
    maxLoad: null,
    maxLoadLo: null,
    maxLoadHi: null,
    capacityRps: null,
    capacityRpsLo: null,
    capacityRpsHi: null,
    capacityRpsPerGpu: null,
    launchedRps: null,
    goodputRps: null,
    goodputRpsPerGpu: null,
    outputTokSPerGpu: null,
    attainment: null,
    uncertain: false,
    firstFailing: null,
    lowest: null,
    knee: findKnee(kneePoints),
    firstSaturated: sat ? { load: sat.value, reasons: sat.result.target.reasons ?? [] } : null,
    stoppedBecause: i.stoppedBecause,
    probes: i.probes.length,
  };
  if (i.slo === null || !i.outcome) return base;
  const { lo, hi } = i.book.bracket();
  const lowestLoad = Math.min(...i.book.loads.keys());
  const lowestState = i.book.loads.get(lowestLoad);
  base.lowest = lowestState ? { load: lowestLoad, attainment: lowestState.attainment.value } : null;
  const hiState = hi !== undefined ? i.book.loads.get(hi) : undefined;
  if (hiState) base.firstFailing = { load: hiState.load, why: whyFailed(hiState, probes, i.goal) };
  if (lo === undefined) {
    // None met: capacity is below the lowest load tried.
    base.maxLoadHi = lowestLoad;
    base.capacityRpsLo = 0;
    base.capacityRpsHi = offeredAt(probes, lowestLoad);
    if (lowestState && !base.firstFailing) base.firstFailing = { load: lowestLoad, why: whyFailed(lowestState, probes, i.goal) };
    return base;
  }
  const loState = i.book.loads.get(lo) as LoadState;
  const at = probes.filter((p) => p.value === lo);
  Object.assign(base, {
    maxLoad: lo,
    maxLoadLo: lo,
    maxLoadHi: hi ?? null,
    capacityRps: offeredAt(probes, lo),
    capacityRpsLo: offeredAt(probes, lo),
    capacityRpsHi: offeredAt(probes, hi),
    launchedRps: mean(at.map((p) => p.result.throughput.launchRate)),
    goodputRps: mean(at.flatMap((p) => (p.slo ? [p.slo.requestGoodput] : []))),
    outputTokSPerGpu: perGpu(mean(at.map((p) => p.result.throughput.outputThroughput)), i.gpus),
    attainment: loState.attainment.value,
    uncertain: loState.verdict === 'uncertain' || (hiState !== undefined && !hiState.saturated && hiState.verdict === 'uncertain'),
  });
  base.capacityRpsPerGpu = perGpu(base.capacityRps, i.gpus);
  base.goodputRpsPerGpu = perGpu(base.goodputRps, i.gpus);
  return base;
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** Capacity per GPU against the baseline's: the estimate from the largest loads that met, the interval from the brackets. */
export function capacityRatio(t: TargetCapacity, b: TargetCapacity, slo: SloSpec | null): CapacityRatio {
  const tg = t.gpus ?? 1;
  const bg = b.gpus ?? 1;
  const per = (x: number | null, g: number): number | null => (x === null ? null : x / g);
  const div = (x: number | null, y: number | null): number | null => (x === null || y === null || y <= 0 ? null : x / y);
  const ratio = div(per(t.capacityRps, tg), per(b.capacityRps, bg));
  const lo = div(per(t.capacityRpsLo, tg), per(b.capacityRpsHi, bg));
  const hi = div(per(t.capacityRpsHi, tg), per(b.capacityRpsLo, bg));
  const unit = t.gpus !== null && b.gpus !== null ? 'req/s per GPU' : 'req/s (GPU counts unknown: per target)';
  const under = slo ? ` under ${formatSlo(slo)}` : '';
  let sentence: string;
  if (ratio === null) sentence = `${t.target} vs ${b.target}: no capacity ratio (${t.capacityRps === null ? t.target : b.target} met the SLO at no load tried)`;
  else {
    const interval = `[${lo === null ? '0' : fmt(lo)}, ${hi === null ? 'open' : fmt(hi)}]`;
    sentence = `${t.target} carries ${fmt(ratio)}x ${interval} the ${unit} of ${b.target}${under}`;
  }
  return { target: t.target, baseline: b.target, ratio, lo, hi, sentence };
}

/** One line per target's capacity, for the console and the report. */
export function capacitySentence(t: TargetCapacity, axis: AxisName, goal: number | null): string {
  const pl = (v: number): string => pointLabel(axis, v).replace('-', ' ');
  switch (t.outcome) {
    case 'no-slo':
      return `${t.target}: no SLO given (--slo): knee ${t.knee ? pl(t.knee.load) : 'not reached'}${t.firstSaturated ? `, first saturated at ${pl(t.firstSaturated.load)}` : ''}`;
    case 'interrupted':
      return `${t.target}: interrupted before any load was decided`;
    case 'none-meets':
      return `${t.target}: no load meets the SLO; the lowest (${pl(t.lowest?.load ?? 0)}) reached attainment ${t.lowest?.attainment?.toFixed(3) ?? '-'} < ${goal}${t.firstFailing ? ` (${t.firstFailing.why})` : ''}`;
    case 'above-max':
      return `${t.target}: meets the SLO at the highest load tried (${pl(t.maxLoad ?? 0)}, ${fmt(t.capacityRps ?? 0)} req/s): capacity is above it`;
    case 'found':
      return (
        `${t.target}: capacity ${pl(t.maxLoad ?? 0)} [${fmt(t.maxLoadLo ?? 0)}, ${fmt(t.maxLoadHi ?? 0)}), ${fmt(t.capacityRps ?? 0)} req/s` +
        `${t.capacityRpsPerGpu !== null ? ` (${fmt(t.capacityRpsPerGpu)} per GPU)` : ''}${t.uncertain ? ' (uncertain: decided by estimate)' : ''}; ` +
        `first failing ${pl(t.maxLoadHi ?? 0)}: ${t.firstFailing?.why ?? '-'}`
      );
  }
}
