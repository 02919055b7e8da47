// `pd-bench compare`: the identical workload against two or more targets (live), or saved runs (offline), then
// paired statistics, SLO goodput, the verdict table, comparison.json/.csv and report.html. Every run's requests
// are streamed to disk as they finish, so an interrupted comparison keeps what it measured. Thresholds are judged
// per target (its repetitions pooled) after the files are written; a breach exits 6.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { preflight } from '../client/preflight.js';
import { buildComparisonReport, type ReportTargetInput } from '../compare/build-report.js';
import { runComparison, type ComparedTarget, type RunSlot } from '../compare/run-comparison.js';
import { samplesOf } from '../compare/samples.js';
import { applyGpus, parseTargets, pickBaseline, type TargetSpec } from '../compare/targets.js';
import type { CompareOrder, ComparisonReport, HistoryMode, SloSpec } from '../compare/types.js';
import { workloadDifferences } from '../compare/workload.js';
import { resolveConfig } from '../config/resolve.js';
import { loadScenario } from '../config/scenario.js';
import { ConfigError, ExitCode, IssueCollector, type ConfigIssue } from '../errors.js';
import { parseSlo } from '../metrics/slo.js';
import { formatComparison } from '../report/comparison-console.js';
import { writeComparisonFiles } from '../store/comparison-files.js';
import { prepareOutputDir } from '../store/run-files.js';
import { loadSaved } from '../store/saved-results.js';
import type { RunResult } from '../result/schema.js';
import { AnswerBook } from '../workload/answer-book.js';
import { poolRuns } from '../gate/pool.js';
import { evaluateThresholds, type Threshold, type ThresholdOutcome } from '../gate/thresholds.js';
import { formatThresholdOutcomes, planThresholds } from './threshold-flags.js';
import { TextFactory } from '../workload/text.js';
import { defaultRunId } from './run-command.js';
import { RunSink } from './run-sink.js';
import { scraperFor } from './scrape-flags.js';
import { INSECURE_WARNING, tlsSettings, type TlsSettings } from '../util/tls.js';

export interface CompareFlags {
  target?: string[];
  gpus?: string[];
  baseline?: string;
  order?: string;
  repeat?: string;
  cooldown?: string;
  history?: string;
  answers?: string;
  slo?: string;
  iterations?: string;
  confidence?: string;
  minEffect?: string;
  scrape?: string[];
  scrapeInterval?: string;
  force?: boolean;
  /** --threshold expressions, judged per target (a scenario's `thresholds:` are added first). */
  threshold?: string[];
}

export interface CompareCommandOptions {
  scenario?: string | undefined;
  /** Workload flags (run options) the user typed, keyed by option name. */
  flags: Record<string, unknown>;
  compare: CompareFlags;
  /** Saved result directories (offline comparison). */
  dirs: string[];
  outputDir?: string | undefined;
  runId?: string | undefined;
  env?: Record<string, string | undefined>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
  signal?: AbortSignal;
}

export interface CompareCommandResult {
  exitCode: number;
  outputDir: string;
  report: ComparisonReport | undefined;
  /** Every threshold's outcome per target, in the report's target order (empty without thresholds). */
  thresholds: { target: string; outcomes: ThresholdOutcome[] }[];
}

const ORDERS = ['sequential', 'interleaved', 'simultaneous'] as const;
const HISTORIES = ['live', 'frozen'] as const;

interface Parsed {
  order: Exclude<CompareOrder, 'offline'>;
  repeat: number;
  cooldownS: number;
  history: HistoryMode;
  slo: SloSpec | null;
  iterations: number;
  confidence: number;
  minEffect: number;
}

function parseNum(issues: ConfigIssue[], field: string, raw: string | undefined, dflt: number, ok: (n: number) => boolean, allowed: string): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (raw.trim() === '' || !ok(n)) {
    issues.push({ field, value: raw, allowed });
    return dflt;
  }
  return n;
}

export function parseCompareFlags(c: CompareFlags): Parsed {
  const issues: ConfigIssue[] = [];
  const order = (c.order ?? 'sequential') as Parsed['order'];
  if (!ORDERS.includes(order)) issues.push({ field: '--order', value: c.order, allowed: `allowed: one of ${ORDERS.join(', ')}` });
  const history = (c.history ?? 'live') as HistoryMode;
  if (!HISTORIES.includes(history)) issues.push({ field: '--history', value: c.history, allowed: `allowed: one of ${HISTORIES.join(', ')}` });
  // Interleaved needs at least A B, B A to cancel a linear drift.
  const repeat = parseNum(issues, '--repeat', c.repeat, order === 'interleaved' ? 2 : 1, (n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'allowed: an integer from 1 to 1000');
  const cooldownS = parseNum(issues, '--cooldown', c.cooldown, 10, (n) => Number.isFinite(n) && n >= 0 && n <= 86_400, 'allowed: seconds from 0 to 86400');
  const iterations = parseNum(issues, '--iterations', c.iterations, 2000, (n) => Number.isInteger(n) && n >= 100 && n <= 100_000, 'allowed: an integer from 100 to 100000');
  const confidence = parseNum(issues, '--confidence', c.confidence, 0.95, (n) => n >= 0.5 && n < 1, 'allowed: a number from 0.5 to below 1, e.g. 0.95');
  const minEffectRaw = c.minEffect?.trim().endsWith('%') ? String(Number(c.minEffect.trim().slice(0, -1)) / 100) : c.minEffect;
  const minEffect = parseNum(issues, '--min-effect', minEffectRaw, 0.01, (n) => n >= 0 && n < 1, 'allowed: a relative change such as 1% or 0.01 (0 to below 100%)');
  if (c.answers !== undefined && history !== 'frozen') issues.push({ field: '--answers', value: c.answers, allowed: 'allowed only with --history frozen' });
  let slo: SloSpec | null = null;
  if (c.slo !== undefined) {
    try {
      slo = parseSlo(c.slo);
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues);
      else throw err;
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { order, repeat, cooldownS, history, slo, iterations, confidence, minEffect };
}

export async function compareCommand(o: CompareCommandOptions): Promise<CompareCommandResult> {
  return o.dirs.length > 0 ? offlineCompare(o) : liveCompare(o);
}

/** A live comparison's validated inputs: every flag group parsed, every problem reported at once. */
export interface ComparePlan {
  p: Parsed;
  config: ReturnType<typeof resolveConfig>['config'];
  scenarioName: string | undefined;
  targets: TargetSpec[];
  baseline: string;
  scrapes: ReturnType<typeof scraperFor>;
  answers: AnswerBook | undefined;
  qps: number;
  thresholds: Threshold[];
  /** --ca-file / --insecure, read and checked (undefined: neither given). */
  tls: TlsSettings | undefined;
}

/**
 * Parses and checks everything a live comparison needs (compare flags, scenario, workload flags, targets,
 * baseline, scrapes, answers) before anything starts; throws one ConfigError listing every problem found.
 */
export function planCompare(o: CompareCommandOptions): ComparePlan {
  const env = o.env ?? process.env;
  const c = new IssueCollector();
  const p = c.attempt(() => parseCompareFlags(o.compare));
  const scenario = o.scenario ? c.attempt(() => loadScenario(o.scenario as string)) : undefined;
  // Flags are checked even when the scenario failed to load: a scenario only supplies defaults.
  const resolved = c.attempt(() => resolveConfig({ scenario, flags: o.flags, env }));
  if (o.flags['base-url'] !== undefined) c.add({ field: '--base-url', value: o.flags['base-url'], allowed: 'not used by compare: name each target with --target name=URL' });
  if (resolved && resolved.config.qps.length !== 1) c.add({ field: '--qps', value: resolved.config.qps.join(','), allowed: 'allowed: one rate for compare (run one comparison per QPS point)' });
  const targets = c.attempt(() => parseTargets(o.compare.target ?? [], o.compare.gpus ?? [], env));
  const baseline = targets && c.attempt(() => pickBaseline(targets.map((t) => t.name), o.compare.baseline));
  const tls = resolved ? c.attempt(() => tlsSettings(resolved.config, env)) : undefined;
  const scrapes = targets && c.attempt(() => scraperFor(o.compare.scrape ?? [], o.compare.scrapeInterval, targets.map((t) => t.name), tls));
  const answers = o.compare.answers !== undefined ? c.attempt(() => loadAnswers(o.compare.answers as string)) : undefined;
  const thresholds = c.attempt(() => planThresholds(scenario, o.compare.threshold, p ? p.slo : undefined));
  c.throwIfAny();
  const config = (resolved as NonNullable<typeof resolved>).config;
  return {
    p: p as Parsed,
    config,
    scenarioName: (resolved as NonNullable<typeof resolved>).scenarioName,
    targets: targets as TargetSpec[],
    baseline: baseline as string,
    scrapes: scrapes as NonNullable<typeof scrapes>,
    answers,
    qps: config.qps[0] as number,
    thresholds: thresholds as Threshold[],
    tls,
  };
}

async function liveCompare(o: CompareCommandOptions): Promise<CompareCommandResult> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const { p, config, scenarioName, targets, baseline, scrapes, answers, qps, thresholds, tls } = planCompare(o);
  if (config.insecure) stderr.write(INSECURE_WARNING + '\n');
  const runId = o.runId ?? defaultRunId(`compare-${scenarioName ?? 'custom'}`);
  const outputDir = resolve(o.outputDir ?? join('results', runId));
  const runDir = (name: string, rep: number, kind: RunSlot['kind'] = 'measured'): string =>
    kind === 'recording' ? join(outputDir, `${name}.recording`) : p.repeat > 1 ? join(outputDir, name, `rep-${rep + 1}`) : join(outputDir, name);
  // Before any traffic: every directory a run will write must be writable.
  prepareOutputDir(outputDir);
  for (const t of targets) for (let rep = 0; rep < p.repeat; rep++) prepareOutputDir(runDir(t.name, rep));

  const resolved: ComparedTarget[] = [];
  for (const t of targets) {
    let model = t.model ?? config.model;
    if (config.preflight) {
      const pf = await preflight({ baseUrl: t.baseUrl, model, apiKey: t.apiKey, endpoint: config.endpoint, userIdHeader: config.userIdHeader, signal: o.signal, tls });
      model = pf.model;
      for (const w of pf.warnings) stderr.write(`warning: ${t.name}: ${w}\n`);
    } else if (!model) {
      throw new ConfigError([{ field: `--target ${t.name}`, value: t.baseUrl, allowed: 'a model is required with --no-preflight: add ,model=NAME to the target or --model' }]);
    }
    resolved.push({ ...t, model: model as string });
  }
  stderr.write(
    `pd-bench compare: ${resolved.map((t) => `${t.name} (${t.baseUrl}, ${t.model}${t.gpus ? `, ${t.gpus} GPUs` : ''})`).join(' vs ')}; baseline ${baseline}; ` +
      `${p.order}${p.repeat > 1 ? ` x${p.repeat}` : ''}, ${p.history} history, ${qps} QPS, ${config.time} s per run\n`,
  );

  const sink = new RunSink<ComparedTarget>({
    config,
    dirOf: (slot) => runDir(slot.target.name, slot.rep, slot.kind),
    labelOf: (slot) => `${slot.target.name}${slot.kind === 'recording' ? ' (recording answers)' : p.repeat > 1 ? ` rep ${slot.rep + 1}` : ''}`,
    summary: 'line',
    scrapes,
    // Simultaneous runs share the terminal: one progress view (the first target's) speaks for all.
    showProgress: (slot) => p.order !== 'simultaneous' || slot.target.name === resolved[0]?.name,
    cooldownText: (s) => `cooling down ${s} s before the next run\n`,
    stdout,
    stderr,
  });
  const runs = await runComparison(
    { targets: resolved, config, qps, order: p.order, repeat: p.repeat, cooldownS: p.cooldownS, history: p.history, ...(answers ? { answers } : {}), runId, scenario: scenarioName, text: new TextFactory(config.seed) },
    sink.hooks(),
    o.signal,
  );
  sink.stopProgress();
  let writeError = sink.writeError || sink.crash !== undefined;

  const notes: string[] = [];
  if (runs.recording) notes.push(`frozen history: the answers were recorded in an unmeasured pass against ${resolved[0]?.name} first (${runDir(resolved[0]?.name ?? '', 0, 'recording')})`);
  else if (p.history === 'frozen') notes.push(answers ? `frozen history: answers replayed from ${o.compare.answers}` : `frozen history: the first run (${resolved[0]?.name}) recorded the answers; every later run replayed them`);
  if (p.order === 'simultaneous') notes.push('simultaneous: all targets ran at once from one client process, each at the full rate; the client health of each run covers the combined load');
  if (runs.interrupted) notes.push('interrupted: the comparison covers only the runs (and the part of the last run) completed before the interrupt');
  const inputs: ReportTargetInput[] = runs.targets.map((t) => {
    const spec = resolved.find((x) => x.name === t.name) as TargetSpec & { model: string };
    return { name: t.name, baseUrl: spec.baseUrl, model: spec.model, gpus: spec.gpus, runs: t.runs.map((r) => r.result), samples: t.samples };
  });
  const report = buildComparisonReport({ order: p.order, history: p.history, repeat: p.repeat, qps, baseline, targets: inputs.filter((t) => t.runs.length > 0), slo: p.slo, notes, iterations: p.iterations, confidence: p.confidence, minEffect: p.minEffect });
  if (runs.answers) {
    try {
      writeFileSync(join(outputDir, 'answers.jsonl'), runs.answers.toJsonLines());
    } catch (e) {
      writeError = true;
      stderr.write(`error: writing answers.jsonl failed: ${(e as Error).message}\n`);
    }
  }
  const done = finish(report, outputDir, stdout, stderr, { interrupted: runs.interrupted || (o.signal?.aborted ?? false), writeError, strict: config.strict, failOnSaturation: config.failOnSaturation, thresholds });
  return { ...done, outputDir, report };
}


function loadAnswers(path: string): AnswerBook {
  try {
    return AnswerBook.fromJsonLines(readFileSync(path, 'utf8'), path);
  } catch (err) {
    throw new ConfigError([{ field: '--answers', value: path, allowed: `allowed: an answers.jsonl written by pd-bench compare --history frozen (${(err as Error).message})` }]);
  }
}

/** Each target's threshold outcomes: its repetitions pooled, goodput from its SLO result. */
function judgeTargets(report: ComparisonReport, ts: Threshold[]): CompareCommandResult['thresholds'] {
  if (ts.length === 0) return [];
  return report.targets
    .filter((t) => t.runs.length > 0)
    .map((t) => ({ target: t.name, outcomes: evaluateThresholds(ts, poolRuns(t.runs), { goodput: t.slo ? t.slo.requestGoodput : null, sloAttainment: t.slo ? t.slo.attainment : null }) }));
}

/** Prints the verdicts and the thresholds, writes comparison.json/.csv and report.html, and picks the exit code. */
function finish(
  report: ComparisonReport,
  outputDir: string,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
  o: { interrupted: boolean; writeError: boolean; strict: boolean; failOnSaturation?: boolean; thresholds: Threshold[] },
): { exitCode: number; thresholds: CompareCommandResult['thresholds'] } {
  stdout.write('\n' + formatComparison(report) + '\n');
  const thresholds = judgeTargets(report, o.thresholds);
  for (const t of thresholds) stdout.write(formatThresholdOutcomes(t.target, t.outcomes) + '\n');
  mkdirSync(outputDir, { recursive: true });
  const files = writeComparisonFiles(outputDir, report);
  for (const e of files.errors) stderr.write(`error: writing ${e}\n`);
  stderr.write(`results: ${outputDir}/{${files.written.join(',')}}\n`);
  const exit = (exitCode: number): { exitCode: number; thresholds: CompareCommandResult['thresholds'] } => ({ exitCode, thresholds });
  if (o.interrupted) return exit(ExitCode.interrupted);
  if (o.writeError || files.errors.length > 0) return exit(ExitCode.failure);
  if (o.strict && report.targets.some((t) => t.runs.some((r) => !r.client.healthy))) return exit(ExitCode.unhealthy);
  if (o.failOnSaturation && report.targets.some((t) => t.runs.some((r) => r.target.saturated === true))) return exit(ExitCode.saturated);
  if (thresholds.some((t) => t.outcomes.some((x) => !x.passed))) return exit(ExitCode.thresholdBreached);
  return exit(ExitCode.ok);
}

/** Offline: saved run directories (or a saved comparison) compared without sending anything. */
async function offlineCompare(o: CompareCommandOptions): Promise<CompareCommandResult> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const c = o.compare;
  const issues: ConfigIssue[] = [];
  if (c.target?.length) issues.push({ field: '--target', value: c.target, allowed: 'not with saved result directories: compare either live targets or saved runs' });
  for (const f of ['order', 'repeat', 'cooldown', 'history', 'answers'] as const) {
    if (c[f] !== undefined) issues.push({ field: `--${f}`, value: c[f], allowed: 'only for live comparisons (--target); saved runs keep how they were run' });
  }
  if (Object.keys(o.flags).length > 0) issues.push({ field: `--${Object.keys(o.flags)[0]}`, value: Object.values(o.flags)[0], allowed: 'workload flags are not used with saved result directories (their workload is in their summary.json)' });
  if (issues.length > 0) throw new ConfigError(issues);
  const p = parseCompareFlags(c);
  const thresholds = planThresholds(undefined, c.threshold, p.slo);
  const inputs = loadInputs(o.dirs);
  const names = inputs.map((t) => t.name);
  const gpuIssues = applyGpus(inputs, c.gpus ?? []);
  if (gpuIssues.length > 0) throw new ConfigError(gpuIssues);
  const baseline = pickBaseline(names, c.baseline);
  const runs = inputs.flatMap((t) => t.runs);
  const diffs = workloadDifferences(runs.map((r) => r.config), runs.map((r) => r.schedule.configuredQps));
  const notes: string[] = [];
  if (diffs.length > 0) {
    const what = diffs.map((d) => `${d.field} (${d.values.join(' vs ')})`).join(', ');
    if (!c.force) {
      throw new ConfigError([{ field: 'results directories', value: o.dirs, allowed: `allowed: runs of the same workload; these differ in ${what}; --force compares them anyway (unpaired where sessions differ)` }]);
    }
    notes.push(`--force: the workloads differ in ${what}; differences may come from the workload, not the target`);
    stderr.write(`warning: comparing different workloads (--force): ${what}\n`);
  }
  const outputDir = resolve(o.outputDir ?? join('results', o.runId ?? defaultRunId('compare-saved')));
  prepareOutputDir(outputDir);
  const qps = runs[0]?.schedule.configuredQps ?? 0;
  const report = buildComparisonReport({ order: 'offline', history: 'live', repeat: Math.max(...inputs.map((t) => t.runs.length)), qps, baseline, targets: inputs, slo: p.slo, notes, iterations: p.iterations, confidence: p.confidence, minEffect: p.minEffect });
  const done = finish(report, outputDir, stdout, stderr, { interrupted: false, writeError: false, strict: false, thresholds });
  return { ...done, outputDir, report };
}

/** One report input per saved run directory, or per target of a saved comparison; names made unique. */
export function loadInputs(dirs: readonly string[]): ReportTargetInput[] {
  const out: ReportTargetInput[] = [];
  const unique = (name: string): string => {
    let n = name;
    for (let i = 2; out.some((t) => t.name === n); i++) n = `${name}-${i}`;
    return n;
  };
  const needRecords = (dir: string): never => {
    throw new ConfigError([{ field: 'results directory', value: dir, allowed: 'allowed: a run saved with requests.jsonl (pd-bench 0.2 and later); statistics need every request' }]);
  };
  for (const dir of dirs) {
    const s = loadSaved(resolve(dir));
    if (s.kind === 'run') {
      const r = s.run.result;
      out.push({ name: unique(basename(resolve(dir))), baseUrl: r.target.baseUrl, model: r.target.model, gpus: null, runs: [r], samples: samplesOf(s.run.records ?? needRecords(dir), 0) });
      continue;
    }
    for (const t of s.targets) {
      const prev = s.report.targets.find((x) => x.name === t.name);
      const runs: RunResult[] = t.runs.map((x) => x.result);
      out.push({
        name: unique(t.name),
        baseUrl: prev?.baseUrl ?? runs[0]?.target.baseUrl ?? '',
        model: prev?.model ?? runs[0]?.target.model ?? '',
        gpus: prev?.gpus ?? null,
        runs,
        samples: t.runs.flatMap((x, rep) => samplesOf(x.records ?? needRecords(x.dir), rep)),
      });
    }
  }
  return out;
}
