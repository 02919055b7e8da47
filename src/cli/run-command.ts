// `pd-bench run`: resolve config, preflight the target, run each QPS point, stream requests.csv, write
// summary.json / summary.csv, print summaries. A plain async function so tests can call it directly.
import { join, resolve } from 'node:path';
import { preflight } from '../client/preflight.js';
import type { RunConfig } from '../config/options.js';
import { resolveConfig } from '../config/resolve.js';
import { loadScenario } from '../config/scenario.js';
import { ConfigError, ExitCode } from '../errors.js';
import { formatSummary, formatWindow } from '../report/console.js';
import { prepareOutputDir, RequestsCsvWriter, writeRunSummary, writeSummaryCsv } from '../report/files.js';
import { createProgress } from '../report/progress.js';
import type { RunResult } from '../result/schema.js';
import { runBenchmark } from '../run.js';
import { TextFactory } from '../workload/text.js';

export interface RunCommandOptions {
  scenario?: string | undefined;
  /** Raw flags the user typed, keyed by option name. */
  flags: Record<string, unknown>;
  outputDir?: string | undefined;
  runId?: string | undefined;
  env?: Record<string, string | undefined>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
  signal?: AbortSignal;
  /** Label printed before progress lines (e.g. the target name in a demo). */
  label?: string;
}

export interface RunCommandResult {
  exitCode: number;
  outputDir: string;
  results: RunResult[];
}

export function defaultRunId(scenario: string | undefined, now = new Date()): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${ts}-${(scenario ?? 'custom').replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

export async function runCommand(o: RunCommandOptions): Promise<RunCommandResult> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const scenario = o.scenario ? loadScenario(o.scenario) : undefined;
  const { config, scenarioName } = resolveConfig({ scenario, flags: o.flags, env: o.env ?? process.env });
  if (!config.baseUrl) {
    throw new ConfigError([
      { field: '--base-url', value: null, allowed: 'required for `run`: the OpenAI-compatible /v1 root, e.g. http://localhost:30080/v1 (or run `npx pd-bench` alone for the simulated demo)' },
    ]);
  }
  const baseUrl = config.baseUrl;
  const runId = o.runId ?? defaultRunId(scenarioName);
  const outputDir = resolve(o.outputDir ?? join('results', runId));
  // Before any traffic: nothing measured may be lost to an unwritable directory found at the end.
  for (const qps of config.qps) prepareOutputDir(config.qps.length > 1 ? join(outputDir, `qps-${qps}`) : outputDir);
  let model = config.model;
  if (config.preflight) {
    const pf = await preflight({ baseUrl, model, apiKey: config.apiKey, endpoint: config.endpoint, userIdHeader: config.userIdHeader, signal: o.signal });
    model = pf.model;
    for (const w of pf.warnings) stderr.write(`warning: ${w}\n`);
  } else if (!model) {
    throw new ConfigError([{ field: '--model', value: null, allowed: 'required with --no-preflight (without preflight pd-bench cannot ask GET /models)' }]);
  }
  const full: RunConfig & { baseUrl: string; model: string } = { ...config, baseUrl, model: model as string };
  const text = new TextFactory(full.seed);
  const results: RunResult[] = [];
  const points = full.qps;
  let anyWriteError = false;

  for (let i = 0; i < points.length; i++) {
    const qps = points[i] as number;
    if (o.signal?.aborted) break;
    if (i > 0 && full.pause > 0) {
      stderr.write(`pausing ${full.pause} s before the next point\n`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, full.pause * 1000);
        o.signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
      });
      if (o.signal?.aborted) break;
    }
    const dir = points.length > 1 ? join(outputDir, `qps-${qps}`) : outputDir;
    const label = `${o.label ? o.label + ' ' : ''}${scenarioName ?? 'custom'}@${qps}qps`;
    const writer = new RequestsCsvWriter(dir);
    const progress = createProgress(label, stderr);
    let result: RunResult;
    let writeError: Error | undefined;
    try {
      result = await runBenchmark(
        {
          config: full,
          qps,
          runId,
          scenario: scenarioName,
          text,
          onStart: ({ wallStartMs }) => writer.setOrigin(wallStartMs),
          onRecord: (r) => writer.write(r),
          onWindow: (w) => progress.log(formatWindow(w, label)),
          onProgress: (p) => progress.update(p),
        },
        o.signal,
      );
    } finally {
      progress.stop();
      writeError = await writer.close();
    }
    if (writeError) {
      result.notes.push(`requests.csv stopped being written (${writeError.message}); ${writer.lostRows} request row(s) after that are only in the statistics of this summary`);
      stderr.write(`error: writing ${writer.path} failed: ${writeError.message} (${writer.lostRows} rows lost; the summary still has every request)\n`);
    }
    results.push(result);
    // The console summary comes first: if the disk is full, the numbers are still seen.
    stdout.write(formatSummary(result) + '\n');
    try {
      writeRunSummary(dir, result);
      stderr.write(`results: ${dir}/{requests.csv,summary.json,summary.csv}\n`);
    } catch (err) {
      writeError ??= err as Error;
      stderr.write(`error: writing ${dir}/summary.json failed: ${(err as Error).message}; the summary above is all that was kept\n`);
    }
    anyWriteError ||= writeError !== undefined;
    if (result.interrupted) break;
  }
  if (points.length > 1 && results.length > 0) writeSummaryCsv(outputDir, results);
  const interrupted = o.signal?.aborted ?? false;
  return { exitCode: exitCodeFor({ interrupted, writeError: anyWriteError, strict: full.strict, results }), outputDir, results };
}

/** The exit code of a finished run: interrupt beats write failure beats an unhealthy client under --strict. */
export function exitCodeFor(o: { interrupted: boolean; writeError: boolean; strict: boolean; results: readonly RunResult[] }): number {
  if (o.interrupted) return ExitCode.interrupted;
  if (o.writeError) return ExitCode.failure;
  if (o.strict && o.results.some((r) => !r.client.healthy)) return ExitCode.unhealthy;
  return ExitCode.ok;
}
