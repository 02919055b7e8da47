// `pd-bench gate`: tonight's result (a run made now with --base-url, or --current DIR) against a baseline (--baseline
// DIR, or the --baseline-store entry for this target and workload): every gated metric's change with its bootstrap
// interval and verdict, the thresholds, then the console table and one verdict line, gate.json, --junit, --markdown,
// $GITHUB_STEP_SUMMARY, a history.csv row and, when it passed, --update-baseline. Exit 0, 6, 7 or 8.
import { resolve } from 'node:path';
import { ExitCode } from '../errors.js';
import { formatGate } from '../gate/console.js';
import { evaluateGate, type GateSideInput } from '../gate/evaluate.js';
import { keyOf, workloadFields } from '../gate/fingerprint.js';
import { historyRow, trendRows, type HistoryRow } from '../gate/history.js';
import { gateSentence } from '../gate/sentence.js';
import type { GateReport } from '../gate/types.js';
import { appendHistory, readHistory, saveEntry } from '../store/baseline-store.js';
import { writeGateFiles } from '../store/gate-files.js';
import { assertSameWorkload, loadSide, planGate, storeBaseline, type GateFlags, type GatePlan, type LoadedSide } from './gate-plan.js';
import { runCommand } from './run-command.js';

export type { GateFlags } from './gate-plan.js';

export interface GateCommandOptions {
  scenario?: string | undefined;
  /** Workload flags (run options) the user typed, keyed by option name; --base-url among them runs the scenario. */
  flags: Record<string, unknown>;
  gate: GateFlags;
  outputDir?: string | undefined;
  runId?: string | undefined;
  scrape?: string[] | undefined;
  scrapeInterval?: string | undefined;
  env?: Record<string, string | undefined>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
  signal?: AbortSignal;
}

export interface GateCommandResult {
  exitCode: number;
  report: GateReport | undefined;
  /** Where tonight's run was written (live), or where gate.json went (saved, with --output-dir). */
  outputDir: string | undefined;
}

interface Baseline {
  side: LoadedSide | null;
  missing: string;
}

/** The baseline for tonight's workload: the explicit one (checked against it), else the store's entry. */
function findBaseline(plan: GatePlan, store: string | undefined, current: LoadedSide['key'], explicitSource: string | undefined): Baseline {
  if (plan.baseline) {
    assertSameWorkload(plan.baseline.key, current, explicitSource ?? plan.baseline.source);
    return { side: plan.baseline, missing: '' };
  }
  return storeBaseline(resolve(store as string), plan.target, current);
}

/** Live: runs the scenario (checking the baseline's workload after the preflight, before any measured traffic). */
async function runNow(o: GateCommandOptions, plan: GatePlan): Promise<{ exitCode: number; current?: LoadedSide; baseline?: Baseline; outputDir: string }> {
  const stderr = o.stderr ?? process.stderr;
  let baseline: Baseline | undefined;
  const r = await runCommand({
    scenario: o.scenario,
    flags: o.flags,
    outputDir: o.outputDir,
    runId: o.runId,
    scrape: o.scrape,
    scrapeInterval: o.scrapeInterval,
    ...(o.env ? { env: o.env } : {}),
    ...(o.stdout ? { stdout: o.stdout } : {}),
    ...(o.stderr ? { stderr: o.stderr } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    beforeTraffic: ({ config, scenarioName }) => {
      const key = keyOf(workloadFields(config, scenarioName ?? null, config.model, config.qps[0] as number));
      baseline = findBaseline(plan, o.gate.baselineStore, key, o.gate.baseline);
      if (!baseline.side) stderr.write(`gate: ${baseline.missing}${o.gate.updateBaseline ? "; tonight's result becomes the baseline if the gate passes" : ''}\n`);
    },
  });
  if (r.exitCode === ExitCode.interrupted || r.exitCode === ExitCode.failure || r.results.length === 0) return { exitCode: r.exitCode === ExitCode.ok ? ExitCode.failure : r.exitCode, outputDir: r.outputDir };
  return { exitCode: ExitCode.ok, current: loadSide(r.outputDir, undefined, '--output-dir'), ...(baseline ? { baseline } : {}), outputDir: r.outputDir };
}

/**
 * --update-baseline after a pass, then the history row; returns the trend rows for the outputs and what could not
 * be written (the gate's own outputs are still written after a store failure).
 */
function updateStore(o: GateCommandOptions, plan: GatePlan, report: GateReport, current: LoadedSide): { trend: HistoryRow[]; errors: string[] } {
  const store = o.gate.baselineStore;
  if (store === undefined) return { trend: [], errors: [] };
  const dir = resolve(store);
  const errors: string[] = [];
  if (o.gate.updateBaseline && report.verdict === 'pass') {
    try {
      const saved = saveEntry(dir, { target: plan.target, workload: report.workload, createdAt: report.createdAt, label: report.label, source: current.source }, current.runDirs);
      report.baselineUpdated = true;
      report.notes.push(`baseline updated: ${saved}`);
    } catch (err) {
      errors.push(`the new baseline in ${dir}: ${(err as Error).message}`);
      report.notes.push(`baseline not updated: writing it failed (${(err as Error).message}); the old one is kept`);
    }
  } else if (o.gate.updateBaseline) {
    report.notes.push(`baseline not updated: the gate did not pass (${report.verdict})`);
  }
  try {
    appendHistory(dir, historyRow(report));
  } catch (err) {
    errors.push(`${resolve(dir, 'history.csv')}: ${(err as Error).message}`);
  }
  return { trend: plan.trend > 0 ? trendRows(readHistory(dir), plan.target, report.workload.hash, plan.trend) : [], errors };
}

export async function gateCommand(o: GateCommandOptions): Promise<GateCommandResult> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const env = o.env ?? process.env;
  const plan = planGate({ scenario: o.scenario, flags: o.flags, gate: o.gate, env });
  let current: LoadedSide;
  let baseline: Baseline;
  let outputDir: string | undefined;
  if (plan.mode === 'live') {
    const run = await runNow(o, plan);
    if (!run.current || !run.baseline) return { exitCode: run.exitCode, report: undefined, outputDir: run.outputDir };
    [current, baseline, outputDir] = [run.current, run.baseline, run.outputDir];
  } else {
    current = plan.current as LoadedSide;
    baseline = findBaseline(plan, o.gate.baselineStore, current.key, o.gate.baseline);
    outputDir = o.outputDir !== undefined ? resolve(o.outputDir) : undefined;
  }
  const side = (s: LoadedSide): GateSideInput => ({ source: s.source, runs: s.runs, samples: s.samples });
  const report = evaluateGate(baseline.side ? side(baseline.side) : null, side(current), {
    tolerances: plan.tolerances,
    slo: plan.slo,
    thresholds: plan.thresholds,
    target: plan.target,
    label: plan.label,
    iterations: plan.iterations,
    confidence: plan.confidence,
    noBaseline: baseline.missing,
    seedsBaseline: o.gate.updateBaseline === true,
  });
  if (plan.mode === 'live') report.current.source = `this run (${outputDir})`;
  const stored = updateStore(o, plan, report, current);
  report.sentence = gateSentence(report);
  stdout.write('\n' + formatGate(report, stored.trend) + '\n');
  const files = writeGateFiles({ dir: outputDir, junit: o.gate.junit, markdown: o.gate.markdown, stepSummary: env.GITHUB_STEP_SUMMARY }, report, stored.trend);
  const errors = [...stored.errors, ...files.errors];
  for (const e of errors) stderr.write(`error: writing ${e}\n`);
  const written = [...files.written, ...(o.gate.baselineStore !== undefined && stored.errors.length === 0 ? [resolve(o.gate.baselineStore, 'history.csv')] : [])];
  if (written.length > 0) stderr.write(`gate files: ${written.join(', ')}\n`);
  // A file that could not be written is a failure only when the gate itself passed: a regression stays one.
  const exitCode = errors.length > 0 && report.exitCode === ExitCode.ok ? ExitCode.failure : report.exitCode;
  return { exitCode, report, outputDir };
}
