// The regression gate: tonight's runs against the baseline's, metric by metric, with compare's session-bootstrap
// statistics (compare/statistics.ts compareTargets) for the ratios and gate/error-rate.ts for the error rate; a
// verdict per metric against its tolerance, the thresholds, what makes the comparison inconclusive, and the
// overall verdict with its exit code and one line. The caller has checked both sides ran the same workload. Pure.
import { durationOf } from '../compare/build-report.js';
import { compareTargets, minValuesFor } from '../compare/statistics.js';
import type { Estimate, MetricComparison, RequestSample, TargetComparison } from '../compare/types.js';
import { ExitCode } from '../errors.js';
import { evaluateSlo, type SloSpec } from '../metrics/slo.js';
import type { RunResult } from '../result/schema.js';
import { errorRateChange } from './error-rate.js';
import { workloadKey } from './fingerprint.js';
import { poolRuns } from './pool.js';
import { gateSentence } from './sentence.js';
import { evaluateThresholds, type Threshold, type ThresholdOutcome } from './thresholds.js';
import { GATED_METRICS, type GatedSpec, type Tolerances } from './tolerance.js';
import type { GatedMetric, GateReport, GateSide, GateVerdict, MetricVerdict } from './types.js';

/** Default bootstrap settings of the gate (bench/GATE-NOISE.md). */
export const GATE_ITERATIONS = 2000;
export const GATE_CONFIDENCE = 0.95;
export const GATE_SEED = 1;

export interface GateSideInput {
  source: string;
  /** One RunResult per repetition. */
  runs: RunResult[];
  /** Every measured request of those runs (rep = the repetition index). */
  samples: RequestSample[];
}

export interface GateOptions {
  tolerances: Tolerances;
  slo: SloSpec | null;
  thresholds: Threshold[];
  target: string;
  label: string | null;
  iterations?: number;
  confidence?: number;
  seed?: number;
  createdAt?: Date;
  /** Why there is no baseline, when there is none (e.g. "no baseline for this workload in STORE yet"). */
  noBaseline?: string;
  /**
   * With no baseline: tonight's result will become it (--update-baseline), so the missing baseline is a note, not
   * a reason to call the gate inconclusive.
   */
  seedsBaseline?: boolean;
}

function side(s: GateSideInput): GateSide {
  return {
    source: s.source,
    runIds: s.runs.map((r) => r.runId),
    startedAt: s.runs[0]?.startedAt ?? '',
    requests: s.samples.length,
    clientHealthy: s.runs.every((r) => r.client.healthy),
    saturated: s.runs.some((r) => r.target.saturated === true),
  };
}

/** What makes one side's latencies unfit to judge a change: an unhealthy client, a saturated target, an interrupt. */
function sideProblems(name: string, s: GateSideInput): string[] {
  const out: string[] = [];
  const reasons = (pick: (r: RunResult) => readonly string[]): string => [...new Set(s.runs.flatMap(pick))].join('; ');
  if (s.runs.some((r) => !r.client.healthy)) out.push(`the ${name} run's client was unhealthy, so its latencies are inflated (${reasons((r) => r.client.reasons)})`);
  if (s.runs.some((r) => r.target.saturated === true)) out.push(`the target was saturated in the ${name} run: its latencies measure queueing (${reasons((r) => r.target.reasons ?? [])})`);
  if (s.runs.some((r) => r.interrupted)) out.push(`the ${name} run was interrupted`);
  if (s.samples.length === 0) out.push(`the ${name} run has no measured requests`);
  return out;
}

/** Whole interval past the tolerance, on the worse or the better side; null endpoints: insufficient data. */
function verdictOf(spec: GatedSpec, tol: number, change: Estimate): MetricVerdict {
  const { lo, hi } = change;
  if (lo === null || hi === null) return 'insufficient data';
  if (spec.kind === 'absolute') return lo > tol ? 'regression' : hi < -tol ? 'improvement' : 'within noise';
  if (spec.higherIsBetter) return hi < 1 - tol ? 'regression' : lo > 1 + tol ? 'improvement' : 'within noise';
  return lo > 1 + tol ? 'regression' : hi < 1 - tol ? 'improvement' : 'within noise';
}

/** Values a latency percentile is computed from, per side (for the "too few samples" message). */
function valueCount(samples: readonly RequestSample[], family: string): number {
  let n = 0;
  for (const s of samples) {
    if (s.outcome !== 'ok') continue;
    if (family === 'itl') n += s.itlMs.length;
    else if (family === 'ttft') n += s.ttftMs !== undefined ? 1 : 0;
    else if (family === 'tpot') n += s.tpotMs !== undefined ? 1 : 0;
    else n++;
  }
  return n;
}

function insufficientWhy(spec: GatedSpec, cmp: TargetComparison, b: GateSideInput, c: GateSideInput, m: MetricComparison | undefined): string {
  if (cmp.sessions < 2) return `fewer than 2 sessions (users) on a side`;
  if (spec.source !== 'error_rate' && spec.source.stat !== 'value') {
    const family = spec.name.split('.')[0] as string;
    const need = minValuesFor(Number(spec.source.stat.slice(1)) / 100);
    return `${spec.source.stat} needs ${need} values per side; baseline has ${valueCount(b.samples, family)}, current ${valueCount(c.samples, family)}`;
  }
  if (m && m.baseline.value === 0) return 'the baseline is 0, so no ratio';
  return 'too few samples';
}

function gatedMetrics(b: GateSideInput, c: GateSideInput, o: GateOptions, cmp: TargetComparison, iterations: number, confidence: number, seed: number): GatedMetric[] {
  const out: GatedMetric[] = [];
  for (const spec of GATED_METRICS) {
    const tol = o.tolerances[spec.name];
    if (tol === undefined || tol === 'off' || (spec.needsSlo && !o.slo)) continue;
    let baseline: number | null;
    let current: number | null;
    let change: Estimate;
    let m: MetricComparison | undefined;
    if (spec.source === 'error_rate') {
      const e = errorRateChange(b.samples, c.samples, { iterations, confidence, seed });
      [baseline, current, change] = [e.baseline.value, e.current.value, e.difference];
    } else {
      const src = spec.source;
      m = cmp.metrics.find((x) => x.metric === src.metric && x.stat === src.stat);
      [baseline, current] = [m?.baseline.value ?? null, m?.candidate.value ?? null];
      change = m?.ratio ?? { value: null, lo: null, hi: null };
      // Both zero (no goodput either night): no change at all, not missing data.
      if (m && baseline === 0 && current === 0) change = { value: 1, lo: 1, hi: 1 };
    }
    const verdict = verdictOf(spec, tol, change);
    out.push({
      name: spec.name,
      unit: spec.unit,
      higherIsBetter: spec.higherIsBetter,
      kind: spec.kind,
      tolerance: tol,
      baseline,
      current,
      change,
      verdict,
      ...(verdict === 'insufficient data' ? { why: insufficientWhy(spec, cmp, b, c, m) } : {}),
    });
  }
  return out;
}

/** Thresholds on tonight's runs pooled, goodput from its samples. */
function judgeThresholds(c: GateSideInput, o: GateOptions): ThresholdOutcome[] {
  if (o.thresholds.length === 0 || c.runs.length === 0) return [];
  const slo = o.slo ? evaluateSlo(c.samples, o.slo, durationOf(c.runs), null) : null;
  return evaluateThresholds(o.thresholds, poolRuns(c.runs), { goodput: slo ? slo.requestGoodput : null, sloAttainment: slo ? slo.attainment : null });
}

const EXIT: Record<GateVerdict, number> = { pass: ExitCode.ok, regression: ExitCode.regression, 'threshold breach': ExitCode.thresholdBreached, inconclusive: ExitCode.inconclusive };

/**
 * Regression when a metric regressed and nothing undermines the comparison (an unhealthy client, a saturated
 * target or an interrupt on either side would explain it); else a threshold breach; else inconclusive when
 * something undermines it or a metric lacked samples; else pass.
 */
export function overallVerdict(metrics: readonly GatedMetric[], thresholds: readonly ThresholdOutcome[], sideIssues: readonly string[]): GateVerdict {
  if (metrics.some((m) => m.verdict === 'regression') && sideIssues.length === 0) return 'regression';
  if (thresholds.some((t) => !t.passed)) return 'threshold breach';
  if (sideIssues.length > 0 || metrics.some((m) => m.verdict === 'insufficient data')) return 'inconclusive';
  return 'pass';
}

export function evaluateGate(baseline: GateSideInput | null, current: GateSideInput, o: GateOptions): GateReport {
  const iterations = o.iterations ?? GATE_ITERATIONS;
  const confidence = o.confidence ?? GATE_CONFIDENCE;
  const seed = o.seed ?? GATE_SEED;
  const first = current.runs[0];
  if (!first) throw new RangeError('evaluateGate: the current side has no runs');
  const missing = o.noBaseline ?? 'no baseline to compare with';
  const seeding = !baseline && o.seedsBaseline === true;
  const sideIssues = [...sideProblems('current', current), ...(baseline ? sideProblems('baseline', baseline) : seeding ? [] : [missing])];
  let metrics: GatedMetric[] = [];
  let cmp: TargetComparison | undefined;
  if (baseline && baseline.samples.length > 0 && current.samples.length > 0) {
    const ts = (s: GateSideInput, name: string): { name: string; samples: RequestSample[]; durationS: number; gpus: null } => ({ name, samples: s.samples, durationS: durationOf(s.runs), gpus: null });
    cmp = compareTargets(ts(baseline, 'baseline'), ts(current, 'current'), { slo: o.slo, iterations, confidence, seed, minEffect: 0 });
    metrics = gatedMetrics(baseline, current, o, cmp, iterations, confidence, seed);
  }
  const thresholds = judgeThresholds(current, o);
  const verdict = overallVerdict(metrics, thresholds, sideIssues);
  const report: GateReport = {
    schema: 'pd-bench/gate',
    schemaVersion: 1,
    createdAt: (o.createdAt ?? new Date()).toISOString(),
    label: o.label,
    target: o.target,
    workload: workloadKey(first),
    baseline: baseline ? side(baseline) : null,
    current: side(current),
    slo: o.slo,
    confidence,
    iterations,
    paired: cmp?.paired ?? false,
    sessions: cmp?.sessions ?? 0,
    metrics,
    thresholds,
    problems: sideIssues,
    verdict,
    exitCode: EXIT[verdict],
    sentence: '',
    baselineUpdated: false,
    notes: seeding ? [`${missing}: tonight's result becomes the baseline if the gate passes`] : [],
  };
  report.sentence = gateSentence(report);
  return report;
}
