// `pd-bench sweep`: one or more targets over a load axis (--qps or --users: a list, a range or a geometric range),
// or an SLA search for the largest load meeting an SLO (--find max-qps | max-users). Every run is written as it
// finishes (its own directory, as `run` writes one); at the end, or on an interrupt, the sweep's summary.json,
// capacity.csv, capacity-summary.csv and report.html. Every flag is checked before any traffic.
import { join, resolve } from 'node:path';
import { preflight } from '../client/preflight.js';
import { parseTargets, pickBaseline } from '../compare/targets.js';
import { resolveConfig } from '../config/resolve.js';
import { loadScenario } from '../config/scenario.js';
import type { RunConfig } from '../config/options.js';
import { ConfigError, ExitCode, IssueCollector } from '../errors.js';
import { parseSlo, type SloSpec } from '../metrics/slo.js';
import { formatProbeLine, formatSweep } from '../report/sweep-console.js';
import { writeSweepFiles } from '../store/sweep-files.js';
import { prepareOutputDir } from '../store/run-files.js';
import { parseAxis, type AxisName, type AxisSpec } from '../sweep/axis.js';
import { runSweep, type ProbeTarget, type SweepTarget } from '../sweep/run-sweep.js';
import { buildSweepReport } from '../sweep/sweep-report.js';
import type { FindMode, SweepProbe, SweepReport } from '../sweep/types.js';
import { evaluateThresholds, type Threshold } from '../gate/thresholds.js';
import { formatThresholdOutcomes, planThresholds } from './threshold-flags.js';
import { INSECURE_WARNING, tlsSettings, type TlsSettings } from '../util/tls.js';
import { TextFactory } from '../workload/text.js';
import { defaultRunId } from './run-command.js';
import { RunSink } from './run-sink.js';
import { scraperFor, type ScrapePlan } from './scrape-flags.js';

export interface SweepFlags {
  target?: string[];
  gpus?: string[];
  baseline?: string;
  users?: string;
  find?: string;
  slo?: string;
  attainment?: string;
  precision?: string;
  confidence?: string;
  maxProbes?: string;
  repeat?: string;
  cooldown?: string;
  maxPoints?: string;
  allPoints?: boolean;
  scrape?: string[];
  scrapeInterval?: string;
  /** --threshold expressions, judged on each target's runs at its capacity load (see judgeAtCapacity). */
  threshold?: string[];
}

export interface SweepCommandOptions {
  scenario?: string | undefined;
  /** Workload flags the user typed, keyed by option name (`qps` may be a range here). */
  flags: Record<string, unknown>;
  sweep: SweepFlags;
  outputDir?: string | undefined;
  runId?: string | undefined;
  env?: Record<string, string | undefined>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
  signal?: AbortSignal;
}

export interface SweepCommandResult {
  exitCode: number;
  outputDir: string;
  report: SweepReport | undefined;
}

export const FIND_MODES: readonly FindMode[] = ['max-qps', 'max-users'];

/** A sweep's validated inputs. */
export interface SweepPlanned {
  config: RunConfig;
  scenarioName: string | undefined;
  axis: AxisSpec;
  find: FindMode | null;
  slo: SloSpec | null;
  goal: number;
  precision: number;
  confidence: number;
  maxProbes: number;
  repeat: number;
  cooldownS: number;
  maxPoints: number;
  targets: (SweepTarget & { apiKey: string | undefined })[];
  baseline: string;
  scrapes: ScrapePlan;
  /** --ca-file / --insecure, read and checked (undefined: neither given). */
  tls: TlsSettings | undefined;
  thresholds: Threshold[];
}

function numberFlag(c: IssueCollector, flag: string, raw: string | undefined, dflt: number, ok: (n: number) => boolean, allowed: string): number {
  if (raw === undefined) return dflt;
  const pct = raw.trim().endsWith('%');
  const n = pct ? Number(raw.trim().slice(0, -1)) / 100 : Number(raw);
  if (raw.trim() === '' || !ok(n)) {
    c.add({ field: flag, value: raw, allowed });
    return dflt;
  }
  return n;
}

/** The axis: --users when given, else --qps (typed, or the scenario's list); --find names which it must be. */
function planAxis(c: IssueCollector, o: SweepCommandOptions, find: FindMode | null, scenarioQps: number[] | undefined): AxisSpec | undefined {
  const usersText = o.sweep.users;
  const qpsRaw = o.flags.qps;
  const qpsText = qpsRaw === undefined ? undefined : Array.isArray(qpsRaw) ? qpsRaw.join(',') : String(qpsRaw);
  const name: AxisName = usersText !== undefined ? 'users' : 'qps';
  if (find && find !== `max-${name}`) {
    c.add({ field: '--find', value: find, allowed: `allowed: max-${name} with a --${name} axis (give --${find === 'max-users' ? 'users' : 'qps'} FROM:TO to search it)` });
    return undefined;
  }
  const text = name === 'users' ? usersText : (qpsText ?? scenarioQps?.join(','));
  if (text === undefined) {
    c.add({ field: '--qps', value: undefined, allowed: 'allowed: a load axis: --qps 0.5:8:0.5 (or a list, or 0.5:16:x2), or --users 10:100:10' });
    return undefined;
  }
  // A search takes FROM:TO bounds; a sweep's range needs its step.
  const bounds = find !== null && /^[^:]+:[^:]+$/.test(text.trim());
  const axis = c.attempt(() => parseAxis(name, bounds ? `${text.trim()}:x2` : text));
  // A search's bounds are FROM and TO themselves, not the last doubling of FROM below TO.
  if (axis && bounds) {
    const to = Number(text.trim().split(':')[1]);
    if (to > axis.max) return { ...axis, points: [...axis.points, to], max: to };
  }
  return axis;
}

/** Parses and checks everything a sweep needs; throws one ConfigError listing every problem found. */
export function planSweep(o: SweepCommandOptions): SweepPlanned {
  const env = o.env ?? process.env;
  const s = o.sweep;
  const c = new IssueCollector();
  const find = s.find === undefined ? null : FIND_MODES.includes(s.find as FindMode) ? (s.find as FindMode) : (c.add({ field: '--find', value: s.find, allowed: `allowed: ${FIND_MODES.join(' or ')}` }), null);
  const scenario = o.scenario ? c.attempt(() => loadScenario(o.scenario as string)) : undefined;
  // A qps axis is parsed here (a range is not a run option); with --users, --qps is the base pace.
  const { qps: _axisQps, ...withoutQps } = o.flags;
  const flags = s.users === undefined ? withoutQps : o.flags;
  const resolved = c.attempt(() => resolveConfig({ scenario, flags, env }));
  const axis = planAxis(c, o, find, scenario ? resolved?.config.qps : undefined);
  if (axis?.name === 'users' && resolved && resolved.config.qps.length !== 1) c.add({ field: '--qps', value: resolved.config.qps.join(','), allowed: 'allowed: one rate with --users (it sets each user\'s pace: users / qps seconds between a user\'s turns)' });
  const slo = s.slo !== undefined ? (c.attempt(() => parseSlo(s.slo as string)) ?? null) : null;
  if (find && s.slo === undefined) c.add({ field: '--find', value: find, allowed: 'allowed only with --slo (the SLO the largest load must meet), e.g. --slo dynamo-short' });
  const goal = numberFlag(c, '--attainment', s.attainment, 0.99, (n) => n > 0 && n <= 1, 'allowed: a share of requests from above 0 to 1, e.g. 0.99 or 99%');
  const precision = numberFlag(c, '--precision', s.precision, 0.05, (n) => n > 0 && n < 1, 'allowed: a relative width above 0 and below 100%, e.g. 5%');
  const confidence = numberFlag(c, '--confidence', s.confidence, 0.95, (n) => n >= 0.5 && n < 1, 'allowed: a level from 0.5 to below 1, e.g. 0.95');
  const maxProbes = numberFlag(c, '--max-probes', s.maxProbes, 3, (n) => Number.isInteger(n) && n >= 1 && n <= 20, 'allowed: an integer from 1 to 20');
  const repeat = numberFlag(c, '--repeat', s.repeat, 1, (n) => Number.isInteger(n) && n >= 1 && n <= 100, 'allowed: an integer from 1 to 100');
  const maxPoints = numberFlag(c, '--max-points', s.maxPoints, find ? 20 : 200, (n) => Number.isInteger(n) && n >= 1 && n <= 200, 'allowed: an integer from 1 to 200');
  if (find && s.repeat !== undefined) c.add({ field: '--repeat', value: s.repeat, allowed: 'not with --find: the search repeats uncertain loads itself (--max-probes)' });
  const cooldownS = numberFlag(c, '--cooldown', s.cooldown, resolved?.config.pause ?? 10, (n) => n >= 0 && n <= 86_400, 'allowed: seconds from 0 to 86400');
  if (o.flags['base-url'] !== undefined && s.target?.length) c.add({ field: '--base-url', value: o.flags['base-url'], allowed: 'not with --target: name every target with --target name=URL' });
  const targets = s.target?.length ? c.attempt(() => parseTargets(s.target as string[], s.gpus ?? [], env, 1)) : singleTarget(c, o, env);
  const baseline = targets && c.attempt(() => pickBaseline(targets.map((t) => t.name), s.baseline));
  const tls = resolved ? c.attempt(() => tlsSettings(resolved.config, env)) : undefined;
  const thresholds = c.attempt(() => planThresholds(scenario, s.threshold, s.slo !== undefined && slo === null ? undefined : slo)) ?? [];
  const scrapes = targets && c.attempt(() => scraperFor(s.scrape ?? [], s.scrapeInterval, s.target?.length ? targets.map((t) => t.name) : undefined, tls));
  c.throwIfAny();
  const config = (resolved as NonNullable<typeof resolved>).config;
  const a = axis as AxisSpec;
  if (a.name === 'qps') config.qps = [a.min];
  return {
    config,
    scenarioName: (resolved as NonNullable<typeof resolved>).scenarioName,
    axis: a,
    find,
    slo,
    goal,
    precision,
    confidence,
    maxProbes,
    repeat,
    cooldownS,
    maxPoints,
    targets: (targets as NonNullable<typeof targets>).map((t) => ({ name: t.name, baseUrl: t.baseUrl, model: t.model ?? config.model ?? '', apiKey: t.apiKey, gpus: t.gpus })),
    baseline: baseline as string,
    scrapes: scrapes as ScrapePlan,
    tls,
    thresholds,
  };
}

/** --base-url: one target, named "target" (its runs go straight under the output directory). */
function singleTarget(c: IssueCollector, o: SweepCommandOptions, env: Record<string, string | undefined>): ReturnType<typeof parseTargets> | undefined {
  const url = o.flags['base-url'];
  if (url === undefined) {
    c.add({ field: '--base-url', value: undefined, allowed: 'allowed: a target: --base-url URL, or --target name=URL[,gpus=N] (repeat); without either, `pd-bench sweep` sweeps the two simulated stacks' });
    return undefined;
  }
  const gpus = (o.sweep.gpus ?? []).map((g) => (g.includes('=') ? g : `target=${g}`));
  return c.attempt(() => parseTargets([`target=${String(url)}`], gpus, env, 1));
}

/** Resolves every target's model through the preflight (or --model with --no-preflight). */
async function resolveModels(p: SweepPlanned, o: SweepCommandOptions, stderr: NodeJS.WritableStream): Promise<void> {
  for (const t of p.targets) {
    if (p.config.preflight) {
      const pf = await preflight({ baseUrl: t.baseUrl, model: t.model || undefined, apiKey: t.apiKey, endpoint: p.config.endpoint, userIdHeader: p.config.userIdHeader, signal: o.signal, tls: p.tls });
      t.model = pf.model;
      for (const w of pf.warnings) stderr.write(`warning: ${t.name}: ${w}\n`);
    } else if (!t.model) {
      throw new ConfigError([{ field: `--target ${t.name}`, value: t.baseUrl, allowed: 'a model is required with --no-preflight: add ,model=NAME to the target or --model' }]);
    }
  }
}

export async function sweepCommand(o: SweepCommandOptions): Promise<SweepCommandResult> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const p = planSweep(o);
  const runId = o.runId ?? defaultRunId(`sweep-${p.scenarioName ?? 'custom'}`);
  const outputDir = resolve(o.outputDir ?? join('results', runId));
  prepareOutputDir(outputDir);
  if (p.config.insecure) stderr.write(INSECURE_WARNING + '\n');
  await resolveModels(p, o, stderr);
  const startedAt = new Date().toISOString();
  stderr.write(
    `pd-bench sweep: ${p.targets.map((t) => `${t.name} (${t.baseUrl}${t.gpus ? `, ${t.gpus} GPUs` : ''})`).join(' vs ')}; ` +
      `${p.find ? `--find ${p.find} in ${p.axis.min}..${p.axis.max}, precision ${p.precision * 100}%` : `${p.axis.name} ${p.axis.points.join(', ')}`}; ` +
      `${p.slo ? `SLO attainment >= ${p.goal}` : 'no SLO'}; ${p.config.time} s per run, ${p.cooldownS} s cool-down\n`,
  );
  const sink = new RunSink<ProbeTarget>({
    config: p.config,
    dirOf: (slot) => join(outputDir, slot.target.probe.dir),
    labelOf: (slot) => `${slot.target.name} ${p.axis.name} ${slot.target.probe.value}`,
    summary: 'none',
    scrapes: p.scrapes,
    stdout,
    stderr,
  });
  const runs = await runSweep(
    { ...p, search: p.find !== null, stopRules: o.sweep.allPoints !== true, runId, scenario: p.scenarioName, text: new TextFactory(p.config.seed) },
    {
      exec: sink.hooks(),
      onProbe: (probe, state) => stderr.write(formatProbeLine(probe, state, p.slo ? p.goal : null) + '\n'),
      onCooldown: (sec) => stderr.write(`cooling down ${sec} s\n`),
      onStop: (target, why) => stderr.write(`${target}: ${why}\n`),
    },
    o.signal,
  );
  sink.stopProgress();
  const report = buildSweepReport({ runs, targets: p.targets, axis: p.axis, find: p.find, slo: p.slo, goal: p.goal, confidence: p.confidence, precision: p.precision, baseline: p.baseline, runId, scenario: p.scenarioName ?? null, startedAt, notes: [] });
  stdout.write('\n' + formatSweep(report) + '\n');
  const files = writeSweepFiles(outputDir, report);
  for (const e of files.errors) stderr.write(`error: writing ${e}\n`);
  stderr.write(`results: ${outputDir}/{${files.written.join(',')}} and a directory per run\n`);
  const breached = judgeAtCapacity(p.thresholds, report, runs.probes, stdout);
  return { exitCode: breached && !runs.interrupted && !(sink.writeError || files.errors.length > 0) ? ExitCode.thresholdBreached : exitCodeOf(report, { interrupted: runs.interrupted || (o.signal?.aborted ?? false), writeError: sink.writeError || sink.crash !== undefined || files.errors.length > 0, config: p.config }), outputDir, report };
}

function exitCodeOf(report: SweepReport, o: { interrupted: boolean; writeError: boolean; config: RunConfig }): number {
  if (o.interrupted) return ExitCode.interrupted;
  if (o.writeError) return ExitCode.failure;
  if (report.targets.some((t) => t.outcome === 'none-meets')) return ExitCode.noCapacity;
  if (o.config.strict && report.rows.some((r) => !r.client_healthy)) return ExitCode.unhealthy;
  return ExitCode.ok;
}

/**
 * Thresholds of a sweep are judged where a planner relies on the target: on the runs at its capacity (the largest
 * load meeting the SLO), or without an SLO at its knee, else its highest load that was not saturated. Loads past
 * capacity are expected to breach, so they are not judged. Returns whether any threshold was breached.
 */
function judgeAtCapacity(thresholds: readonly Threshold[], report: SweepReport, probes: readonly SweepProbe[], stdout: NodeJS.WritableStream): boolean {
  if (thresholds.length === 0) return false;
  let breached = false;
  for (const t of report.targets) {
    const mine = probes.filter((p) => p.target === t.target && !p.result.interrupted);
    const calm = mine.filter((p) => p.result.target.saturated !== true).map((p) => p.value);
    const load = report.slo ? t.maxLoad : (t.knee?.load ?? (calm.length > 0 ? Math.max(...calm) : null));
    const at = mine.filter((p) => p.value === load);
    if (load === null || at.length === 0) {
      stdout.write(`thresholds (${t.target}): not judged: no load ${report.slo ? 'met the SLO' : 'ran unsaturated'}\n`);
      breached = true;
      continue;
    }
    for (const p of at) {
      const outcomes = evaluateThresholds([...thresholds], p.result, { goodput: p.slo?.requestGoodput ?? null, sloAttainment: p.slo?.attainment ?? null });
      stdout.write(formatThresholdOutcomes(`${t.target} at ${report.axis.name} ${load}${at.length > 1 ? `, run ${p.rep}` : ''}`, outcomes) + '\n');
      if (outcomes.some((o) => !o.passed)) breached = true;
    }
  }
  return breached;
}
