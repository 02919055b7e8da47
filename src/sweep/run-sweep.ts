// A sweep's runs: every target over the load points of an axis (fixed points with stop rules, or an SLA search per
// target), through the one executor (driver/executor.ts). Targets are interleaved at each point (A B, then B A) so
// that drift of the machine or the cluster cancels; every run has the same seed and workload for every target and
// its own warmup, with a cool-down between runs. Each run's requests are judged against the SLO as they finish and
// dropped, so memory stays flat however long the sweep. Measures and returns; writes nothing itself (the CLI's run
// sink writes each run through the hooks).
import type { RunConfig } from '../config/options.js';
import { execute, sleep, type ExecutionHooks, type ExecutionTarget } from '../driver/executor.js';
import { samplesOf } from '../compare/samples.js';
import { evaluateSlo, type SloSpec } from '../metrics/slo.js';
import type { RequestRecord } from '../result/record.js';
import type { TextFactory } from '../workload/text.js';
import { pointLabel, pointSettings, type AxisSpec } from './axis.js';
import { CapacitySearch, type LoadState } from './search.js';
import type { SweepProbe } from './types.js';

export interface SweepTarget extends ExecutionTarget {
  gpus: number | null;
}

/** Which probe a run is: the executor's target carries it, so the run sink can name the run's directory. */
export interface ProbeSlot {
  value: number;
  rep: number;
  step: number;
  /** The run's directory relative to the sweep's. */
  dir: string;
}
export type ProbeTarget = SweepTarget & { probe: ProbeSlot };

export interface SweepPlan {
  targets: SweepTarget[];
  /** The workload; qps and num-users are set per point from the axis. */
  config: RunConfig;
  axis: AxisSpec;
  /** Search for the largest load meeting the SLO (true), or run the axis's points (false). */
  search: boolean;
  slo: SloSpec | null;
  /** SLO attainment goal, e.g. 0.99. */
  goal: number;
  confidence: number;
  /** Search: relative width of the final bracket. */
  precision: number;
  /** Search: probes of one uncertain load at most. */
  maxProbes: number;
  /** Fixed points: runs per target at each point. */
  repeat: number;
  cooldownS: number;
  /** Fixed points: stop a target after its first saturated point or two points in a row below the goal. */
  stopRules: boolean;
  /** Loads per target at most (points of a fixed sweep, distinct loads of a search). */
  maxPoints: number;
  runId: string;
  scenario?: string | undefined;
  text?: TextFactory;
}

export interface SweepHooks {
  exec: ExecutionHooks<ProbeTarget>;
  /** After each run, with the pooled state of its load. */
  onProbe?: (probe: SweepProbe, load: LoadState) => void;
  onCooldown?: (seconds: number) => void;
  /** A target stopped early (stop rule, --max-points). */
  onStop?: (target: string, why: string) => void;
}

export interface SweepRuns {
  probes: SweepProbe[];
  /** Per target: the bookkeeping of its loads (a search's, or the fixed points' pooled verdicts). */
  loads: Map<string, CapacitySearch>;
  stopped: Map<string, string>;
  interrupted: boolean;
}

/** The run directory of a probe: `<target>/<axis>-<value>[.rep-k]`, without the target level for one target. */
export function probeDir(targets: number, name: string, axis: AxisSpec['name'], value: number, rep: number): string {
  const leaf = `${pointLabel(axis, value)}${rep > 1 ? `.rep-${rep}` : ''}`;
  return targets > 1 ? `${name}/${leaf}` : leaf;
}

/** A-B then B-A: the order of the targets at the wave'th point or repetition. */
const interleave = <T>(xs: readonly T[], wave: number): T[] => (wave % 2 === 1 ? [...xs].reverse() : [...xs]);

class SweepRunner {
  readonly probes: SweepProbe[] = [];
  readonly loads = new Map<string, CapacitySearch>();
  readonly stopped = new Map<string, string>();
  interrupted = false;
  #step = 0;
  readonly #plan: SweepPlan;
  readonly #hooks: SweepHooks;
  readonly #signal: AbortSignal | undefined;

  constructor(plan: SweepPlan, hooks: SweepHooks, signal: AbortSignal | undefined) {
    this.#plan = plan;
    this.#hooks = hooks;
    this.#signal = signal;
    for (const t of plan.targets) {
      this.loads.set(t.name, new CapacitySearch({ min: plan.axis.min, max: plan.axis.max, goal: plan.goal, confidence: plan.confidence, precision: plan.precision, maxProbes: plan.search ? plan.maxProbes : plan.repeat, factor: 2, integer: plan.axis.name === 'users' }));
    }
  }

  get #stopNow(): boolean {
    return this.interrupted || (this.#signal?.aborted ?? false) || (this.#hooks.exec.shouldStop?.() ?? false);
  }

  /** One run of `target` at `value`; false when the sweep must end (interrupted, crashed worker). */
  async probe(target: SweepTarget, value: number): Promise<boolean> {
    const p = this.#plan;
    const search = this.loads.get(target.name) as CapacitySearch;
    if (this.#step > 0 && p.cooldownS > 0) {
      this.#hooks.onCooldown?.(p.cooldownS);
      await sleep(p.cooldownS * 1000, this.#signal);
    }
    if (this.#stopNow) return false;
    const rep = (search.loads.get(value)?.probes ?? 0) + 1;
    const step = ++this.#step;
    const dir = probeDir(p.targets.length, target.name, p.axis.name, value, rep);
    const { qps, numUsers } = pointSettings(p.axis.name, value, { qps: p.config.qps[0] as number, numUsers: p.config.numUsers });
    const records: RequestRecord[] = [];
    const hooks: ExecutionHooks<ProbeTarget> = {
      ...this.#hooks.exec,
      open: (slot) => {
        const h = this.#hooks.exec.open?.(slot) ?? {};
        return { ...h, onRecord: (r) => (r.phase === 'measure' && records.push({ ...r, text: '' }), h.onRecord?.(r)) };
      },
    };
    const ex = await execute(
      { targets: [{ ...target, probe: { value, rep, step, dir } }], config: { ...p.config, qps: [qps], numUsers }, points: [qps], order: 'sequential', repeat: 1, cooldownS: 0, history: 'live', runId: `${p.runId}/${dir}`, scenario: p.scenario, ...(p.text ? { text: p.text } : {}) },
      hooks,
      this.#signal,
    );
    const run = ex.runs[0];
    if (run) {
      const slo = p.slo ? evaluateSlo(samplesOf(records, 0), p.slo, run.result.throughput.measuredDurationS, target.gpus) : null;
      records.length = 0;
      const probe: SweepProbe = { target: target.name, gpus: target.gpus, axis: p.axis.name, value, rep, step, dir, result: run.result, slo };
      this.probes.push(probe);
      // Not measured: a run cut short by an interrupt says nothing about its load.
      const state = run.result.interrupted ? (search.loads.get(value) as LoadState) : this.#judge(search, probe);
      if (state) this.#hooks.onProbe?.(probe, state);
    }
    if (ex.interrupted || this.#stopNow) this.interrupted = true;
    return !this.interrupted;
  }

  /** Records the run in the target's load book: turns that came due but were never sent count as misses. */
  #judge(search: CapacitySearch, probe: SweepProbe): LoadState {
    const r = probe.result;
    const unsent = r.counts.unsent - (r.counts.unsentByReason?.interrupted ?? 0);
    const met = probe.slo?.met ?? 0;
    const judged = probe.slo ? probe.slo.requests + Math.max(0, unsent) : 0;
    return search.record(probe.value, met, judged, r.target.saturated === true);
  }

  stop(target: string, why: string): void {
    if (this.stopped.has(target)) return;
    this.stopped.set(target, why);
    this.#hooks.onStop?.(target, why);
  }

  result(): SweepRuns {
    return { probes: this.probes, loads: this.loads, stopped: this.stopped, interrupted: this.interrupted };
  }
}

/** Fixed points: lightest first, every active target at each point (interleaved), with the stop rules. */
async function runPoints(r: SweepRunner, plan: SweepPlan): Promise<void> {
  const belowGoalRun = new Map<string, number>();
  let wave = 0;
  for (const [i, value] of plan.axis.points.entries()) {
    const active = plan.targets.filter((t) => !r.stopped.has(t.name));
    if (active.length === 0) return;
    if (i >= plan.maxPoints) {
      for (const t of active) r.stop(t.name, `--max-points ${plan.maxPoints} reached`);
      return;
    }
    for (let rep = 0; rep < plan.repeat; rep++) {
      for (const t of interleave(active, wave++)) if (!(await r.probe(t, value))) return;
    }
    if (!plan.stopRules) continue;
    for (const t of active) {
      const state = r.loads.get(t.name)?.loads.get(value);
      if (!state) continue;
      if (state.saturated) {
        r.stop(t.name, `stopped after the first saturated point (${pointLabel(plan.axis.name, value)})`);
        continue;
      }
      const below = plan.slo !== null && state.attainment.value !== null && state.attainment.value < plan.goal;
      const n = below ? (belowGoalRun.get(t.name) ?? 0) + 1 : 0;
      belowGoalRun.set(t.name, n);
      if (n >= 2) r.stop(t.name, `stopped after SLO attainment fell below ${plan.goal} at two points in a row (${pointLabel(plan.axis.name, value)})`);
    }
  }
}

/** SLA search: each target's next probe in turn (interleaved), until every search has ended. */
async function runSearch(r: SweepRunner, plan: SweepPlan): Promise<void> {
  for (let wave = 0; ; wave++) {
    let ran = false;
    for (const t of interleave(plan.targets, wave)) {
      if (r.stopped.has(t.name)) continue;
      const search = r.loads.get(t.name) as CapacitySearch;
      const load = search.next();
      if (load === null) continue;
      if (!search.loads.has(load) && search.loads.size >= plan.maxPoints) {
        r.stop(t.name, `--max-points ${plan.maxPoints} reached before the search converged`);
        continue;
      }
      ran = true;
      if (!(await r.probe(t, load))) return;
    }
    if (!ran) return;
  }
}

export async function runSweep(plan: SweepPlan, hooks: SweepHooks, signal?: AbortSignal): Promise<SweepRuns> {
  const r = new SweepRunner(plan, hooks, signal);
  await (plan.search ? runSearch(r, plan) : runPoints(r, plan));
  return r.result();
}
