// `pd-bench report DIR`: regenerates report.html (and comparison.csv/.json, or summary.csv for a run) from saved
// results, recomputing the statistics from requests.jsonl so a new --slo, --baseline or --gpus applies.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildComparisonReport } from '../compare/build-report.js';
import { applyGpus, pickBaseline } from '../compare/targets.js';
import { ConfigError } from '../errors.js';
import { formatComparison } from '../report/comparison-console.js';
import { writeComparisonFiles } from '../store/comparison-files.js';
import { writeSummaryCsv } from '../store/run-files.js';
import { loadSaved } from '../store/saved-results.js';
import { ExitCode } from '../errors.js';
import { formatSweep } from '../report/sweep-console.js';
import { writeSweepFiles } from '../store/sweep-files.js';
import { SWEEP_SCHEMA, type SweepReport } from '../sweep/types.js';
import { loadInputs, parseCompareFlags, type CompareFlags } from './compare-command.js';

export interface ReportCommandOptions {
  dir: string;
  compare: Pick<CompareFlags, 'slo' | 'baseline' | 'gpus' | 'iterations' | 'confidence' | 'minEffect'>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

export async function reportCommand(o: ReportCommandOptions): Promise<number> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const dir = resolve(o.dir);
  const sweep = loadSweep(dir);
  if (sweep) return rewriteSweep(dir, sweep, o, stdout, stderr);
  const p = parseCompareFlags(o.compare);
  const saved = loadSaved(dir);
  const inputs = loadInputs([dir]);
  const names = inputs.map((t) => t.name);
  const gpuIssues = applyGpus(inputs, o.compare.gpus ?? []);
  if (gpuIssues.length > 0) throw new ConfigError(gpuIssues);
  if (saved.kind === 'run' && o.compare.baseline !== undefined) {
    throw new ConfigError([{ field: '--baseline', value: o.compare.baseline, allowed: 'only for a comparison directory (this is a single run)' }]);
  }
  const prev = saved.kind === 'comparison' ? saved.report : undefined;
  const report = buildComparisonReport({
    order: prev?.order ?? 'offline',
    history: prev?.history ?? 'live',
    repeat: prev?.repeat ?? 1,
    qps: prev?.qps ?? inputs[0]?.runs[0]?.schedule.configuredQps ?? 0,
    baseline: pickBaseline(names, o.compare.baseline ?? prev?.baseline),
    targets: inputs,
    slo: p.slo ?? (o.compare.slo === undefined ? (prev?.slo ?? null) : null),
    notes: (prev?.notes ?? []).filter((n) => !n.startsWith('Percentile-bootstrap') && !n.startsWith('live history:')),
    iterations: p.iterations,
    confidence: p.confidence,
    minEffect: p.minEffect,
  });
  if (report.comparisons.length > 0) stdout.write(formatComparison(report) + '\n');
  const files = writeComparisonFiles(dir, report, { json: saved.kind === 'comparison' });
  if (saved.kind === 'run') {
    try {
      writeSummaryCsv(dir, [saved.run.result]);
      files.written.push('summary.csv');
    } catch (err) {
      files.errors.push(`${dir}/summary.csv: ${(err as Error).message}`);
    }
  }
  for (const e of files.errors) stderr.write(`error: writing ${e}\n`);
  stderr.write(`results: ${dir}/{${files.written.join(',')}}\n`);
  return files.errors.length > 0 ? ExitCode.failure : ExitCode.ok;
}

/** A sweep's summary.json, or undefined when the directory holds something else. */
function loadSweep(dir: string): SweepReport | undefined {
  const path = join(dir, 'summary.json');
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    // Not JSON: loadSaved below reports the directory with the reason.
    return undefined;
  }
  return (parsed as { schema?: unknown } | null)?.schema === SWEEP_SCHEMA ? (parsed as SweepReport) : undefined;
}

/** A sweep directory: report.html and the capacity CSVs again from its summary.json (the verdicts are kept). */
function rewriteSweep(dir: string, report: SweepReport, o: ReportCommandOptions, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): number {
  const given = Object.entries(o.compare).find(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0));
  if (given) {
    throw new ConfigError([{ field: `--${given[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, value: given[1], allowed: 'not for a sweep directory: its loads were decided during the sweep; run the sweep again to change the SLO, baseline or GPUs' }]);
  }
  stdout.write(formatSweep(report) + '\n');
  const files = writeSweepFiles(dir, report, { json: false });
  for (const e of files.errors) stderr.write(`error: writing ${e}\n`);
  stderr.write(`results: ${dir}/{${files.written.join(',')}}\n`);
  return files.errors.length > 0 ? ExitCode.failure : ExitCode.ok;
}
