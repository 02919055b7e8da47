// Assembles a ComparisonReport from each target's runs and samples: paired statistics of every candidate
// against the baseline, SLO attainment and goodput, the per-round view, prompt drift and errors per target.
// Shared by live and offline comparisons and by `report`. Pure.
import { RoundAggregator } from '../metrics/round-aggregator.js';
import { evaluateSlo } from '../metrics/slo.js';
import type { RunResult } from '../result/schema.js';
import { COMPARISON_METHOD, compareTargets } from './statistics.js';
import { runTimeline, type RunTimeline } from './timeline.js';
import type { CompareOrder, CompareTarget, ComparisonReport, HistoryMode, RequestSample, RoundStat, SloSpec, TargetSamples } from './types.js';

export interface ReportTargetInput {
  name: string;
  baseUrl: string;
  model: string;
  gpus: number | null;
  runs: RunResult[];
  samples: RequestSample[];
}

export interface BuildReportInput {
  order: CompareOrder;
  history: HistoryMode;
  repeat: number;
  qps: number;
  baseline: string;
  targets: ReportTargetInput[];
  slo: SloSpec | null;
  notes?: string[];
  iterations?: number;
  confidence?: number;
  minEffect?: number;
  seed?: number;
  createdAt?: Date;
}

/** TTFT, ITL, prompt length and cached share by round, over all of a target's runs. */
export function roundStats(samples: readonly RequestSample[]): RoundStat[] {
  const rounds = new RoundAggregator();
  for (const s of samples) {
    const itl = rounds.add({ round: s.round, ok: s.outcome === 'ok', ttftMs: s.ttftMs, promptTokens: s.promptTokens, cachedTokens: s.cachedTokens });
    if (itl) for (const g of s.itlMs) itl.record(g);
  }
  return rounds.stats();
}

/** Each run's series over time; the measured start and span come from its windows, else from its samples. */
export function timelines(runs: readonly RunResult[], samples: readonly RequestSample[]): RunTimeline[] {
  return runs.map((run, rep) => {
    const mine = samples.filter((s) => s.rep === rep);
    const ws = run.windows ?? [];
    let startMs = ws.length ? (ws[0] as { startS: number }).startS * 1000 : Number.POSITIVE_INFINITY;
    if (!Number.isFinite(startMs)) for (const s of mine) startMs = Math.min(startMs, s.sentMs);
    if (!Number.isFinite(startMs)) startMs = 0;
    let endMs = ws.length ? (ws[ws.length - 1] as { endS: number }).endS * 1000 : startMs;
    for (const s of mine) endMs = Math.max(endMs, s.endMs);
    return runTimeline(mine, rep, startMs, (endMs - startMs) / 1000);
  });
}

export function durationOf(runs: readonly RunResult[]): number {
  return runs.reduce((a, r) => a + r.throughput.measuredDurationS, 0);
}

/** A target is saturated when any of its runs was (its latencies there measure queueing). */
export function saturatedTarget(t: Pick<CompareTarget, 'runs'> | undefined): boolean {
  return t?.runs.some((r) => r.target.saturated === true) ?? false;
}

function saturationClause(names: readonly string[]): string | undefined {
  if (names.length === 2) return 'both targets were saturated at this load: latencies measure queueing';
  if (names.length === 1) return `${names[0]} was saturated at this load: its latencies measure queueing`;
  return undefined;
}

export function buildComparisonReport(input: BuildReportInput): ComparisonReport {
  const notes = [...(input.notes ?? [])];
  const targets: CompareTarget[] = input.targets.map((t) => {
    const errors: Record<string, number> = {};
    for (const r of t.runs) for (const [k, v] of Object.entries(r.counts.errorsByClass)) errors[k] = (errors[k] ?? 0) + (v ?? 0);
    return {
      name: t.name,
      baseUrl: t.baseUrl,
      model: t.model,
      gpus: t.gpus,
      runs: t.runs,
      errors,
      slo: input.slo ? evaluateSlo(t.samples, input.slo, durationOf(t.runs), t.gpus) : null,
      rounds: roundStats(t.samples),
      timeline: timelines(t.runs, t.samples),
    };
  });
  const samplesOf = (t: ReportTargetInput): TargetSamples => ({ name: t.name, samples: t.samples, durationS: durationOf(t.runs), gpus: t.gpus });
  const base = input.targets.find((t) => t.name === input.baseline);
  const comparisons = base
    ? input.targets
        .filter((t) => t !== base)
        .map((t) => compareTargets(samplesOf(base), samplesOf(t), { slo: input.slo, qps: input.qps, iterations: input.iterations, confidence: input.confidence, minEffect: input.minEffect, seed: input.seed }))
    : [];
  // A comparison of saturated targets compares two queues: the verdict says so before anything else.
  for (const c of comparisons) {
    const clause = saturationClause([c.baseline, c.candidate].filter((n) => saturatedTarget(targets.find((t) => t.name === n))));
    if (clause) c.sentence = `${clause}; ${c.sentence}`;
  }
  for (const t of targets) {
    if (saturatedTarget(t)) notes.push(`${t.name} was saturated in ${t.runs.filter((r) => r.target.saturated).length} of ${t.runs.length} run(s): ${[...new Set(t.runs.flatMap((r) => r.target.reasons ?? []))].join('; ')}`);
  }
  const rounds = [...new Set(targets.flatMap((t) => t.rounds.map((r) => r.round)))].sort((a, b) => a - b);
  const promptDrift = rounds.map((round) => ({
    round,
    promptTokensMean: Object.fromEntries(targets.map((t) => [t.name, t.rounds.find((r) => r.round === round)?.promptTokensMean ?? null])),
  }));
  if (input.history === 'live' && targets.length > 1) {
    const worst = promptDrift.reduce((m, d) => {
      const v = Object.values(d.promptTokensMean).filter((x): x is number => x !== null);
      return v.length > 1 ? Math.max(m, (Math.max(...v) - Math.min(...v)) / Math.min(...v)) : m;
    }, 0);
    if (worst > 0.01) {
      notes.push(`live history: each target's answers went into its own users' histories, so later prompts differ by up to ${(worst * 100).toFixed(1)}% in mean length between targets (prompt drift by round below); --history frozen sends byte-identical prompts`);
    }
  }
  notes.push(COMPARISON_METHOD);
  return {
    schema: 'pd-bench/comparison',
    schemaVersion: 1,
    createdAt: (input.createdAt ?? new Date()).toISOString(),
    order: input.order,
    history: input.history,
    repeat: input.repeat,
    qps: input.qps,
    baseline: input.baseline,
    targets,
    comparisons,
    promptDrift,
    slo: input.slo,
    notes,
  };
}
