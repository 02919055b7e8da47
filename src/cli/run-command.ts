// `pd-bench run`: resolve config, preflight the target, run each QPS point, stream requests.csv, write
// summary.json / summary.csv, print summaries. A plain async function so tests can call it directly.
// --workers N runs each point over N worker threads (driver/worker-pool.ts); the files are the same.
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { preflight } from '../client/preflight.js';
import type { RunConfig } from '../config/options.js';
import { resolveConfig } from '../config/resolve.js';
import { loadScenario } from '../config/scenario.js';
import { clientBound } from '../metrics/client-health.js';
import { RunSink } from './run-sink.js';
import { scraperFor } from './scrape-flags.js';
import { ConfigError, ExitCode, IssueCollector } from '../errors.js';
import { prepareOutputDir, writeSummaryCsv } from '../store/run-files.js';
import type { RunResult } from '../result/schema.js';
import { execute, type ExecutionTarget } from '../driver/executor.js';
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
  const points = full.qps;
  const dirOf = (qps: number): string => (points.length > 1 ? join(outputDir, `qps-${qps}`) : outputDir);
  const target: ExecutionTarget = { name: '', baseUrl, model: full.model, apiKey: full.apiKey };
  const sink = new RunSink<ExecutionTarget>({
    config: full,
    dirOf: (slot) => dirOf(slot.point),
    labelOf: (slot) => `${o.label ? o.label + ' ' : ''}${scenarioName ?? 'custom'}@${slot.point}qps`,
    summary: 'full',
    scrapes,
    cooldownText: (s) => `pausing ${s} s before the next point\n`,
    stdout,
    stderr,
  });
  const hooks = sink.hooks();
  await execute(
    { targets: [target], config: full, points, order: 'sequential', repeat: 1, cooldownS: full.pause, history: 'live', runId, scenario: scenarioName, ...(text ? { text } : {}) },
    {
      ...hooks,
      done: async (slot, result) => {
        await hooks.done?.(slot, result);
        // Only when the client itself was the bottleneck: a saturated server makes turns wait, which threads cannot fix.
        if (full.workers === 1 && clientBound(result.client) && !sink.crash) stderr.write(workersHint(result) + '\n');
      },
    },
    o.signal,
  );
  sink.stopProgress();
  const results = sink.results;
  if (points.length > 1 && results.length > 0) writeSummaryCsv(outputDir, results);
  const interrupted = o.signal?.aborted ?? false;
  return { exitCode: exitCodeFor({ interrupted, writeError: sink.writeError || sink.crash !== undefined, strict: full.strict, failOnSaturation: full.failOnSaturation, results }), outputDir, results };
}

/** The one-line suggestion after a single-threaded run whose client could not keep up. */
export function workersHint(result: RunResult, cores = availableParallelism()): string {
  // Each reason reads "<measure> > <threshold>: <explanation>"; the measures fit on the line.
  const measures = result.client.reasons.map((r) => r.split(':')[0]).join(', ');
  const why = `the client could not keep up (${measures}; CPU ${result.client.cpuShare.toFixed(2)} of a core), so its latencies are inflated`;
  // A late event loop in a process that used little CPU was starved by other work on the machine: more threads
  // of its own would not help.
  if (result.client.cpuShare < 0.5) return `hint: ${why}; it used only ${result.client.cpuShare.toFixed(2)} of a core, so other processes on this machine delayed it: give the client a core of its own (fewer co-located processes, or taskset)`;
  if (cores < 2) return `hint: ${why}; this machine has 1 core: run fewer users per client, or several clients with distinct --init-user-id ranges`;
  // One thread per core, up to 8: past that the target usually shares the machine and the gain is small.
  const n = Math.min(cores, 8);
  return `hint: ${why}; try --workers ${n} to spread the users over ${n} threads (same schedule, histograms merged exactly)`;
}

/**
 * The exit code of a finished run: interrupt beats write failure (or a failed worker) beats an unhealthy client
 * under --strict, which beats a saturated target under --fail-on-saturation.
 */
export function exitCodeFor(o: { interrupted: boolean; writeError: boolean; strict: boolean; failOnSaturation?: boolean; results: readonly RunResult[] }): number {
  if (o.interrupted) return ExitCode.interrupted;
  if (o.writeError) return ExitCode.failure;
  if (o.strict && o.results.some((r) => !r.client.healthy)) return ExitCode.unhealthy;
  if (o.failOnSaturation && o.results.some((r) => r.target.saturated === true)) return ExitCode.saturated;
  return ExitCode.ok;
}
