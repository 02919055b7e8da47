// `pd-bench run`: resolve config, preflight the target, run each QPS point, stream requests.csv, write
// summary.json / summary.csv, print summaries. A plain async function so tests can call it directly.
// --workers N runs each point over N worker threads (driver/worker-pool.ts); the files are the same.
// --threshold (and a scenario's thresholds:) are judged per point after its files are written: a breach exits 6.
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { preflight } from '../client/preflight.js';
import type { RunConfig } from '../config/options.js';
import { resolveConfig } from '../config/resolve.js';
import { loadScenario } from '../config/scenario.js';
import { clientBound } from '../metrics/client-health.js';
import { evaluateSlo, parseSlo, type SloSpec } from '../metrics/slo.js';
import { toSample } from '../compare/samples.js';
import type { RequestSample } from '../compare/types.js';
import { evaluateThresholds, type Threshold, type ThresholdOutcome } from '../gate/thresholds.js';
import { formatThresholdOutcomes, planThresholds } from './threshold-flags.js';
import { RunSink } from './run-sink.js';
import { scraperFor } from './scrape-flags.js';
import { ConfigError, ExitCode, IssueCollector } from '../errors.js';
import { prepareOutputDir, writeSummaryCsv } from '../store/run-files.js';
import type { RunResult } from '../result/schema.js';
import { execute, type ExecutionTarget } from '../driver/executor.js';
import { TextFactory } from '../workload/text.js';
import { INSECURE_WARNING, tlsSettings } from '../util/tls.js';

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
  /** --threshold expressions, raw (a scenario's `thresholds:` are added first). */
  thresholds?: string[] | undefined;
  /** --slo, raw: makes goodput and slo_attainment available to thresholds. */
  slo?: string | undefined;
  /**
   * Called after the preflight resolved the model and before any measured traffic; a ConfigError thrown here
   * stops the command with exit 2 (gate: the run must be of the baseline's workload).
   */
  beforeTraffic?: (planned: { config: RunConfig & { baseUrl: string; model: string }; scenarioName: string | undefined }) => void;
}

export interface RunCommandResult {
  exitCode: number;
  outputDir: string;
  results: RunResult[];
  /** Per result (same order), the outcome of every threshold; empty lists when there were none. */
  thresholds: ThresholdOutcome[][];
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
  // The CA file is read now: a bad one stops the run before any traffic (a worker re-reads it from the config).
  const tls = resolved ? c.attempt(() => tlsSettings(resolved.config, o.env ?? process.env)) : undefined;
  const scrapePlan = c.attempt(() => scraperFor(o.scrape ?? [], o.scrapeInterval, undefined, tls));
  const slo = o.slo !== undefined ? c.attempt(() => parseSlo(o.slo as string)) : null;
  const thresholds = c.attempt(() => planThresholds(scenario, o.thresholds, slo)) ?? [];
  c.throwIfAny();
  const { config, scenarioName } = resolved as NonNullable<typeof resolved>;
  const scrapes = scrapePlan as NonNullable<typeof scrapePlan>;
  const baseUrl = config.baseUrl as string;
  const runId = o.runId ?? defaultRunId(scenarioName);
  const outputDir = resolve(o.outputDir ?? join('results', runId));
  // Before any traffic: nothing measured may be lost to an unwritable directory found at the end.
  for (const qps of config.qps) prepareOutputDir(config.qps.length > 1 ? join(outputDir, `qps-${qps}`) : outputDir);
  if (config.insecure) stderr.write(INSECURE_WARNING + '\n');
  let model = config.model;
  if (config.preflight) {
    const pf = await preflight({ baseUrl, model, apiKey: config.apiKey, endpoint: config.endpoint, userIdHeader: config.userIdHeader, signal: o.signal, tls });
    model = pf.model;
    for (const w of pf.warnings) stderr.write(`warning: ${w}\n`);
  } else if (!model) {
    throw new ConfigError([{ field: '--model', value: null, allowed: 'required with --no-preflight (without preflight pd-bench cannot ask GET /models)' }]);
  }
  const full: RunConfig & { baseUrl: string; model: string } = { ...config, baseUrl, model: model as string };
  o.beforeTraffic?.({ config: full, scenarioName });
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
  // Goodput needs every request judged against the SLO: collected only when an SLO was asked for.
  const samples = new Map<number, RequestSample[]>();
  const open = hooks.open;
  if (slo && open) {
    hooks.open = (slot) => {
      const h = open(slot);
      const list: RequestSample[] = [];
      samples.set(slot.pointIndex, list);
      return {
        ...h,
        onRecord: (r) => {
          h.onRecord?.(r);
          if (r.phase === 'measure') list.push(toSample(r, 0));
        },
      };
    };
  }
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
  const outcomes = judgeThresholds(thresholds, results, slo ?? null, (i) => samples.get(i), stdout);
  const breached = outcomes.some((list) => list.some((x) => !x.passed));
  return { exitCode: exitCodeFor({ interrupted, writeError: sink.writeError || sink.crash !== undefined, strict: full.strict, failOnSaturation: full.failOnSaturation, thresholdBreached: breached, results }), outputDir, results, thresholds: outcomes };
}

/** Every threshold against every point's result (goodput from its samples when an SLO was given), printed. */
function judgeThresholds(ts: Threshold[], results: readonly RunResult[], slo: SloSpec | null, samplesAt: (i: number) => RequestSample[] | undefined, stdout: NodeJS.WritableStream): ThresholdOutcome[][] {
  if (ts.length === 0) return results.map(() => []);
  return results.map((r, i) => {
    const s = slo ? evaluateSlo(samplesAt(i) ?? [], slo, r.throughput.measuredDurationS, null) : null;
    const outcomes = evaluateThresholds(ts, r, { goodput: s ? s.requestGoodput : null, sloAttainment: s ? s.attainment : null });
    stdout.write(formatThresholdOutcomes(results.length > 1 ? r.label : '', outcomes) + '\n');
    return outcomes;
  });
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
 * under --strict, which beats a saturated target under --fail-on-saturation, which beats a breached threshold (an
 * unhealthy client or a saturated target explains a breach, not the other way round).
 */
export function exitCodeFor(o: { interrupted: boolean; writeError: boolean; strict: boolean; failOnSaturation?: boolean; thresholdBreached?: boolean; results: readonly RunResult[] }): number {
  if (o.interrupted) return ExitCode.interrupted;
  if (o.writeError) return ExitCode.failure;
  if (o.strict && o.results.some((r) => !r.client.healthy)) return ExitCode.unhealthy;
  if (o.failOnSaturation && o.results.some((r) => r.target.saturated === true)) return ExitCode.saturated;
  if (o.thresholdBreached) return ExitCode.thresholdBreached;
  return ExitCode.ok;
}
