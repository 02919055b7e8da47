// `pd-bench report DIR`: regenerates report.html (and comparison.csv/.json, or summary.csv for a run) from saved
// results, recomputing the statistics from requests.jsonl so a new --slo, --baseline or --gpus applies.
import { resolve } from 'node:path';
import { buildComparisonReport } from '../compare/build-report.js';
import { applyGpus, pickBaseline } from '../compare/targets.js';
import { ConfigError } from '../errors.js';
import { formatComparison } from '../report/comparison-console.js';
import { writeComparisonFiles } from '../store/comparison-files.js';
import { writeSummaryCsv } from '../store/run-files.js';
import { loadSaved } from '../store/saved-results.js';
import { ExitCode } from '../errors.js';
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
