// `pd-bench run`: resolve config, preflight the target, run each QPS point, stream requests.csv, write
// summary.json / summary.csv, print summaries. A plain async function so tests can call it directly.
// --workers N runs each point over N worker threads (driver/worker-pool.ts); the files are the same.
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { preflight } from '../client/preflight.js';
import type { RunConfig } from '../config/options.js';
import { resolveConfig } from '../config/resolve.js';
import { loadScenario } from '../config/scenario.js';
import { WorkerCrashError, runWithWorkers } from '../driver/worker-pool.js';
import { scraperFor } from './scrape-flags.js';
import { ConfigError, ExitCode, IssueCollector } from '../errors.js';
import { formatSummary, formatWindow } from '../report/console.js';
import { prepareOutputDir, RequestsCsvWriter, writeRunSummary, writeSummaryCsv } from '../store/run-files.js';
import { createProgress } from '../report/progress.js';
import type { RequestRecord } from '../result/record.js';
import type { RunResult, WindowSummary } from '../result/schema.js';
import { runBenchmark, type RunProgress } from '../run.js';
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
  /** --scrape role=URL values and --scrape-interval (seconds), raw. */
  scrape?: string[] | undefined;
  scrapeInterval?: string | undefined;
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
  // The plan: every input group checked before anything starts, every problem reported at once.
  const c = new IssueCollector();
  const scenario = o.scenario ? c.attempt(() => loadScenario(o.scenario as string)) : undefined;
  const resolved = c.attempt(() => resolveConfig({ scenario, flags: o.flags, env: o.env ?? process.env }));
  if (resolved && !resolved.config.baseUrl) {
    c.add({ field: '--base-url', value: null, allowed: 'required for `run`: the OpenAI-compatible /v1 root, e.g. http://localhost:30080/v1 (or run `npx pd-bench` alone for the simulated demo)' });
  }
  const scrapePlan = c.attempt(() => scraperFor(o.scrape ?? [], o.scrapeInterval));
  c.throwIfAny();
  const { config, scenarioName } = resolved as NonNullable<typeof resolved>;
  const scrapes = scrapePlan as NonNullable<typeof scrapePlan>;
  const baseUrl = config.baseUrl as string;
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
  // Worker threads build their own (a TextFactory cannot cross threads); only one thread needs this one.
  const text = full.workers > 1 ? undefined : new TextFactory(full.seed);
  const results: RunResult[] = [];
  const points = full.qps;
  let anyWriteError = false;
  let workerFailure = false;

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
    let crash: WorkerCrashError | undefined;
    const scraper = scrapes.forTarget('');
    const runOptions = {
      config: full,
      qps,
      runId,
      scenario: scenarioName,
      ...(text ? { text } : {}),
      onStart: ({ wallStartMs }: { wallStartMs: number }) => writer.setOrigin(wallStartMs),
      onRecord: (r: RequestRecord) => writer.write(r),
      onWindow: (w: WindowSummary) => progress.log(formatWindow(w, label)),
      onProgress: (p: RunProgress) => progress.update(p),
      ...(scraper ? { scraper } : {}),
    };
    try {
      result = full.workers > 1 ? await runWithWorkers({ ...runOptions, workers: full.workers }, o.signal) : await runBenchmark(runOptions, o.signal);
    } catch (err) {
      // A failed worker: the others' merged result is still written (with the failure in its notes), then exit 1.
      if (!(err instanceof WorkerCrashError) || !err.result) throw err;
      crash = err;
      result = err.result;
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
    if (crash) {
      workerFailure = true;
      stderr.write(`error: ${crash.message}; the summary above covers the workers that finished\n`);
      break;
    }
    if (full.workers === 1 && !result.client.healthy) stderr.write(workersHint(result) + '\n');
    if (result.interrupted) break;
  }
  if (points.length > 1 && results.length > 0) writeSummaryCsv(outputDir, results);
  const interrupted = o.signal?.aborted ?? false;
  return { exitCode: exitCodeFor({ interrupted, writeError: anyWriteError || workerFailure, strict: full.strict, results }), outputDir, results };
}

/** The one-line suggestion after a single-threaded run whose client could not keep up. */
export function workersHint(result: RunResult, cores = availableParallelism()): string {
  // Each reason reads "<measure> > <threshold>: <explanation>"; the measures fit on the line.
  const measures = result.client.reasons.map((r) => r.split(':')[0]).join(', ');
  const why = `the client could not keep up (${measures}; CPU ${result.client.cpuShare.toFixed(2)} of a core), so its latencies are inflated`;
  if (cores < 2) return `hint: ${why}; this machine has 1 core: run fewer users per client, or several clients with distinct --init-user-id ranges`;
  // One thread per core, up to 8: past that the target usually shares the machine and the gain is small.
  const n = Math.min(cores, 8);
  return `hint: ${why}; try --workers ${n} to spread the users over ${n} threads (same schedule, histograms merged exactly)`;
}

/**
 * The exit code of a finished run: interrupt beats write failure (or a failed worker) beats an unhealthy client
 * under --strict.
 */
export function exitCodeFor(o: { interrupted: boolean; writeError: boolean; strict: boolean; results: readonly RunResult[] }): number {
  if (o.interrupted) return ExitCode.interrupted;
  if (o.writeError) return ExitCode.failure;
  if (o.strict && o.results.some((r) => !r.client.healthy)) return ExitCode.unhealthy;
  return ExitCode.ok;
}
