// The plan of `pd-bench gate`: every flag checked and the saved sides loaded before anything is sent (one
// ConfigError listing every problem, exit 2). Also how a side is read from a run or comparison directory and how
// the baseline is found for a workload (an explicit directory, or the store's entry for this target and workload).
import { dirname, resolve } from 'node:path';
import { samplesOf } from '../compare/samples.js';
import { resolveConfig } from '../config/resolve.js';
import { loadScenario, type ScenarioFile } from '../config/scenario.js';
import { ConfigError, IssueCollector } from '../errors.js';
import type { GateSideInput } from '../gate/evaluate.js';
import { GATE_CONFIDENCE, GATE_ITERATIONS } from '../gate/evaluate.js';
import { formatDifferences, keyDifferences, workloadKey, type WorkloadKey } from '../gate/fingerprint.js';
import type { Threshold } from '../gate/thresholds.js';
import { parseTolerances, type Tolerances } from '../gate/tolerance.js';
import { parseSlo, type SloSpec } from '../metrics/slo.js';
import { loadEntry, otherEntries, TARGET_LABEL } from '../store/baseline-store.js';
import { prepareOutputDir } from '../store/run-files.js';
import { loadSaved } from '../store/saved-results.js';
import { planThresholds } from './threshold-flags.js';

export interface GateFlags {
  current?: string | undefined;
  baseline?: string | undefined;
  baselineStore?: string | undefined;
  targetLabel?: string | undefined;
  tolerance?: string[] | undefined;
  threshold?: string[] | undefined;
  slo?: string | undefined;
  iterations?: string | undefined;
  confidence?: string | undefined;
  junit?: string | undefined;
  markdown?: string | undefined;
  updateBaseline?: boolean | undefined;
  label?: string | undefined;
  trend?: string | undefined;
}

/** A gate side read from disk, with the run directories it came from (the store copies them). */
export interface LoadedSide extends GateSideInput {
  runDirs: string[];
  key: WorkloadKey;
}

export interface GatePlan {
  mode: 'live' | 'saved';
  target: string;
  tolerances: Tolerances;
  thresholds: Threshold[];
  slo: SloSpec | null;
  iterations: number;
  confidence: number;
  trend: number;
  label: string | null;
  scenario: ScenarioFile | undefined;
  /** --current, loaded (saved mode). */
  current: LoadedSide | undefined;
  /** --baseline, loaded. */
  baseline: LoadedSide | undefined;
}

const DEFAULT_TARGET = 'default';
const DEFAULT_TREND = 10;

/** The CI commit when --label is not given: GitHub, GitLab, Buildkite, CircleCI, Jenkins. */
export function ciLabel(env: Record<string, string | undefined>): string | null {
  for (const k of ['GITHUB_SHA', 'CI_COMMIT_SHA', 'BUILDKITE_COMMIT', 'CIRCLE_SHA1', 'GIT_COMMIT']) {
    const v = env[k];
    if (v) return v;
  }
  return null;
}

/** One side of the gate from a run directory, or one target of a comparison directory. */
export function loadSide(dir: string, target: string | undefined, flag: string): LoadedSide {
  const s = loadSaved(resolve(dir));
  const needRecords = (d: string): never => {
    throw new ConfigError([{ field: flag, value: d, allowed: 'allowed: a run saved with requests.jsonl; the gate resamples every request' }]);
  };
  if (s.kind === 'run') {
    const r = s.run.result;
    return { source: s.dir, runs: [r], samples: samplesOf(s.run.records ?? needRecords(s.dir), 0), runDirs: [s.dir], key: workloadKey(r) };
  }
  const names = s.targets.map((t) => t.name);
  const t = s.targets.find((x) => x.name === target);
  if (!t) {
    const why = target === undefined ? 'it is a comparison: name the target with --target-label' : `it has no target "${target}"`;
    throw new ConfigError([{ field: flag, value: dir, allowed: `${why} (one of ${names.join(', ')})` }]);
  }
  const runs = t.runs.map((x) => x.result);
  const samples = t.runs.flatMap((x, rep) => samplesOf(x.records ?? needRecords(x.dir), rep));
  return { source: `${s.dir} (target ${t.name})`, runs, samples, runDirs: t.runs.map((x) => x.dir), key: workloadKey(runs[0] as (typeof runs)[number]) };
}

/** Refuses two different workloads, naming every differing field. */
export function assertSameWorkload(baseline: WorkloadKey, current: WorkloadKey, baselineSource: string): void {
  const d = keyDifferences(baseline.fields, current.fields);
  if (d.length === 0) return;
  throw new ConfigError([{ field: '--baseline', value: baselineSource, allowed: `allowed: a baseline of the same workload; it differs in ${formatDifferences(d)}` }]);
}

/** The store's baseline for this target and workload, or why there is none (naming what other entries differ in). */
export function storeBaseline(store: string, target: string, key: WorkloadKey): { side: LoadedSide | null; missing: string } {
  const entry = loadEntry(store, target, key.hash);
  if (entry) {
    const runs = entry.runs.map((r) => r.result);
    const samples = entry.runs.flatMap((r, rep) => samplesOf(r.records ?? [], rep));
    return { side: { source: entry.dir, runs, samples, runDirs: entry.runs.map((r) => r.dir), key: entry.meta.workload }, missing: '' };
  }
  const other = otherEntries(store, target)[0];
  const why = other ? `; its latest baseline for ${target} is of another workload, differing in ${formatDifferences(keyDifferences(other.workload.fields, key.fields))}` : '';
  return { side: null, missing: `no baseline for target ${target} and workload ${key.hash} in ${store} yet${why}` };
}

function num(c: IssueCollector, field: string, raw: string | undefined, dflt: number, ok: (n: number) => boolean, allowed: string): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (raw.trim() === '' || !ok(n)) c.add({ field, value: raw, allowed });
  return n;
}

function checkModes(c: IssueCollector, o: { flags: Record<string, unknown>; gate: GateFlags }): 'live' | 'saved' {
  const g = o.gate;
  const live = o.flags['base-url'] !== undefined;
  if (live && g.current !== undefined) c.add({ field: '--current', value: g.current, allowed: 'not with --base-url: either run the scenario against a target now, or gate a saved result' });
  if (!live && g.current === undefined) c.add({ field: '--base-url', value: null, allowed: 'gate needs a current result: --base-url URL runs the scenario now, --current DIR takes a saved run or comparison' });
  if (!live) {
    const workload = Object.keys(o.flags).filter((k) => k !== 'base-url');
    if (workload.length > 0) c.add({ field: `--${workload[0]}`, value: o.flags[workload[0] as string], allowed: 'workload flags only apply with --base-url; a saved result keeps its workload' });
  }
  if (g.baseline === undefined && g.baselineStore === undefined) c.add({ field: '--baseline', value: null, allowed: 'gate needs a baseline: --baseline DIR (a saved run or comparison) or --baseline-store DIR' });
  if (g.updateBaseline && g.baselineStore === undefined) c.add({ field: '--update-baseline', value: true, allowed: 'only with --baseline-store DIR (where the new baseline goes)' });
  return live ? 'live' : 'saved';
}

function checkOutputs(c: IssueCollector, g: GateFlags): void {
  for (const [flag, path] of [['--junit', g.junit], ['--markdown', g.markdown]] as const) {
    if (path !== undefined) c.attempt(() => prepareOutputDir(dirname(resolve(path)), flag));
  }
  if (g.baselineStore !== undefined) c.attempt(() => prepareOutputDir(resolve(g.baselineStore as string), '--baseline-store'));
}

/** Everything the gate needs, checked before any traffic; throws one ConfigError listing every problem. */
export function planGate(o: { scenario?: string | undefined; flags: Record<string, unknown>; gate: GateFlags; env: Record<string, string | undefined> }): GatePlan {
  const g = o.gate;
  const c = new IssueCollector();
  const mode = checkModes(c, o);
  const scenario = o.scenario ? c.attempt(() => loadScenario(o.scenario as string)) : undefined;
  if (mode === 'live') {
    const resolved = c.attempt(() => resolveConfig({ scenario, flags: o.flags, env: o.env }));
    if (resolved && resolved.config.qps.length !== 1) c.add({ field: '--qps', value: resolved.config.qps.join(','), allowed: 'allowed: one rate for gate (gate each load point on its own)' });
  }
  const target = g.targetLabel ?? DEFAULT_TARGET;
  if (!TARGET_LABEL.test(target)) c.add({ field: '--target-label', value: target, allowed: "allowed: letters, digits, '.', '_' and '-' (it names a directory of the baseline store), not starting with '.'" });
  const tolerances = c.attempt(() => parseTolerances(g.tolerance ?? []));
  const slo = g.slo !== undefined ? c.attempt(() => parseSlo(g.slo as string)) : null;
  const thresholds = c.attempt(() => planThresholds(scenario, g.threshold, slo));
  const iterations = num(c, '--iterations', g.iterations, GATE_ITERATIONS, (n) => Number.isInteger(n) && n >= 100 && n <= 100_000, 'allowed: an integer from 100 to 100000');
  const confidence = num(c, '--confidence', g.confidence, GATE_CONFIDENCE, (n) => n >= 0.5 && n < 1, 'allowed: a number from 0.5 to below 1, e.g. 0.95');
  const trend = num(c, '--trend', g.trend, DEFAULT_TREND, (n) => Number.isInteger(n) && n >= 0 && n <= 1000, 'allowed: an integer from 0 to 1000 (gate runs shown in the trend)');
  checkOutputs(c, g);
  const current = mode === 'saved' && g.current !== undefined ? c.attempt(() => loadSide(g.current as string, g.targetLabel, '--current')) : undefined;
  const baseline = g.baseline !== undefined ? c.attempt(() => loadSide(g.baseline as string, g.targetLabel, '--baseline')) : undefined;
  if (current && baseline) c.attempt(() => assertSameWorkload(baseline.key, current.key, g.baseline as string));
  c.throwIfAny();
  return {
    mode,
    target,
    tolerances: tolerances as Tolerances,
    thresholds: thresholds as Threshold[],
    slo: slo ?? null,
    iterations,
    confidence,
    trend,
    label: g.label ?? ciLabel(o.env),
    scenario,
    current,
    baseline,
  };
}
