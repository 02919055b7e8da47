// Assembles a sweep's SweepReport (summary.json of the sweep): the rows of every run, each target's capacity,
// the ratios against the baseline and the headline sentence. Pure.
import type { SloSpec } from '../metrics/slo.js';
import { VERSION } from '../version.js';
import type { AxisSpec } from './axis.js';
import { CAPACITY_METHOD, capacityRatio, capacityRow, capacitySentence, targetCapacity } from './capacity.js';
import type { SweepRuns } from './run-sweep.js';
import { SWEEP_SCHEMA, SWEEP_SCHEMA_VERSION, type FindMode, type SweepReport } from './types.js';

export interface SweepReportInput {
  runs: SweepRuns;
  targets: readonly { name: string; gpus: number | null }[];
  axis: AxisSpec;
  find: FindMode | null;
  slo: SloSpec | null;
  goal: number;
  confidence: number;
  precision: number;
  baseline: string;
  runId: string;
  scenario: string | null;
  startedAt: string;
  notes: string[];
}

export function buildSweepReport(i: SweepReportInput): SweepReport {
  const { runs } = i;
  const rows = runs.probes.map((p) => capacityRow(p, runs.loads.get(p.target)?.loads.get(p.value)));
  const targets = i.targets.map((t) => {
    const book = runs.loads.get(t.name);
    if (!book) throw new Error(`buildSweepReport: no load book for ${t.name}`);
    const probes = runs.probes.filter((p) => p.target === t.name);
    return targetCapacity({
      target: t.name,
      gpus: t.gpus,
      axis: i.axis.name,
      probes,
      book,
      outcome: i.find ? (book.outcome ?? book.summarize()) : book.summarize(),
      slo: i.slo,
      goal: i.goal,
      stoppedBecause: runs.stopped.get(t.name) ?? null,
      interrupted: runs.interrupted,
    });
  });
  const base = targets.find((t) => t.target === i.baseline);
  const ratios = base && i.slo ? targets.filter((t) => t !== base).map((t) => capacityRatio(t, base, i.slo)) : [];
  const sentence = ratios.length > 0 ? ratios.map((r) => r.sentence).join('; ') : targets.map((t) => capacitySentence(t, i.axis.name, i.slo ? i.goal : null)).join('; ');
  const notes = [...i.notes];
  if (runs.interrupted) notes.push('interrupted: the sweep covers only the runs finished before the interrupt (a run cut short is listed but not judged)');
  for (const t of targets) {
    if (i.find && runs.loads.get(t.target)?.outcome === undefined) {
      notes.push(`${t.target}: the search did not converge (${runs.stopped.get(t.target) ?? 'interrupted'}); its capacity is from the loads probed, and its interval is wider than --precision`);
    }
  }
  return {
    schema: SWEEP_SCHEMA,
    schemaVersion: SWEEP_SCHEMA_VERSION,
    tool: { name: 'pd-bench', version: VERSION },
    runId: i.runId,
    scenario: i.scenario,
    startedAt: i.startedAt,
    endedAt: new Date().toISOString(),
    interrupted: runs.interrupted,
    axis: { name: i.axis.name, text: i.axis.text, points: i.axis.points, min: i.axis.min, max: i.axis.max },
    find: i.find,
    slo: i.slo,
    goal: i.slo ? i.goal : null,
    confidence: i.confidence,
    precision: i.find ? i.precision : null,
    baseline: i.baseline,
    config: runs.probes[0]?.result.config ?? null,
    targets,
    ratios,
    sentence,
    rows,
    notes,
    method: CAPACITY_METHOD,
  };
}
