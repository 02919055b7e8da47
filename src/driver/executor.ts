// The one executor of a plan's runs: targets x load points x repetitions, in sequential, interleaved (A B, B A)
// or simultaneous order, with a cool-down between runs and live or frozen history. `run` (one target, several
// QPS points), `compare` (several targets, one point) and what comes next (sweeps, gates, shards) all run through
// it. It measures and hands every run to the caller's hooks (the run sink streams records and writes files);
// it writes nothing itself.
import type { RunConfig } from '../config/options.js';
import type { RunResult } from '../result/schema.js';
import type { ServerScraper } from '../scrape/types.js';
import { onAbort } from '../util/abort-fanout.js';
import { AnswerBook } from '../workload/answer-book.js';
import type { TextFactory } from '../workload/text.js';
import type { RunOptions } from '../run/options.js';
import { runnerFor, type Runner } from './runner.js';

export type RunOrder = 'sequential' | 'interleaved' | 'simultaneous';

export interface ExecutionTarget {
  name: string;
  baseUrl: string;
  /** Resolved (the CLI's preflight fills it in). */
  model: string;
  apiKey?: string | undefined;
}

export interface ExecutionPlan<T extends ExecutionTarget = ExecutionTarget> {
  targets: T[];
  /** The workload; baseUrl, model and apiKey are replaced per target, qps per point. */
  config: RunConfig;
  /** Load points (QPS), run one after another. */
  points: readonly number[];
  order: RunOrder;
  repeat: number;
  /** Seconds between consecutive runs. */
  cooldownS: number;
  history: 'live' | 'frozen';
  /** Frozen history from a saved answers.jsonl; without it the first run records the answers. */
  answers?: AnswerBook;
  runId: string;
  scenario?: string | undefined;
  text?: TextFactory;
}

/** One run: which target, point and repetition. */
export interface RunSlot<T extends ExecutionTarget = ExecutionTarget> {
  target: T;
  point: number;
  pointIndex: number;
  rep: number;
  /** 'recording': the unmeasured pass that records answers for frozen history before a simultaneous run. */
  kind: 'measured' | 'recording';
}

export type RunHooks = Pick<RunOptions, 'onStart' | 'onRecord' | 'onWindow' | 'onProgress'> & { scraper?: ServerScraper };

export interface ExecutionHooks<T extends ExecutionTarget = ExecutionTarget> {
  /** Per-run callbacks (records to disk, progress); called before each run starts. */
  open?: (slot: RunSlot<T>) => RunHooks;
  /** Called when a run has finished (results to disk); before the next run starts. */
  done?: (slot: RunSlot<T>, result: RunResult) => void | Promise<void>;
  onCooldown?: (seconds: number) => void;
  /** Runs one point (default: in this thread, or over config.workers threads). */
  runner?: Runner;
  /** Asked after every wave: true ends the plan there (a crashed worker). */
  shouldStop?: () => boolean;
}

export interface ExecutedRun<T extends ExecutionTarget = ExecutionTarget> {
  slot: RunSlot<T>;
  result: RunResult;
}

export interface Execution<T extends ExecutionTarget = ExecutionTarget> {
  /** Every measured run that finished (or was interrupted), in the order they ran. */
  runs: ExecutedRun<T>[];
  /** The answers every target's history got (frozen), for answers.jsonl. */
  answers: AnswerBook | undefined;
  recording: RunResult | undefined;
  interrupted: boolean;
}

/** The run order of one point: sequential and simultaneous run each target once per repetition; interleaved alternates A B, B A. */
export function runOrder<T>(targets: readonly T[], order: RunOrder, repeat: number): { target: T; rep: number }[][] {
  const waves: { target: T; rep: number }[][] = [];
  for (let rep = 0; rep < repeat; rep++) {
    if (order === 'simultaneous') {
      waves.push(targets.map((target) => ({ target, rep })));
      continue;
    }
    const seq = order === 'interleaved' && rep % 2 === 1 ? [...targets].reverse() : targets;
    for (const target of seq) waves.push([{ target, rep }]);
  }
  if (order === 'sequential') {
    // Sequential: every repetition of a target back to back, then the next target.
    waves.sort((a, b) => targets.indexOf((a[0] as { target: T }).target) - targets.indexOf((b[0] as { target: T }).target));
  }
  return waves;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const t = setTimeout(() => {
      off();
      resolve();
    }, ms);
    const off = signal ? onAbort(signal, () => (clearTimeout(t), resolve())) : () => {};
  });
}

export async function execute<T extends ExecutionTarget>(plan: ExecutionPlan<T>, hooks: ExecutionHooks<T> = {}, signal?: AbortSignal): Promise<Execution<T>> {
  const run = hooks.runner ?? runnerFor(plan.config);
  let book = plan.history === 'frozen' ? plan.answers : undefined;
  let recording: RunResult | undefined;
  const runs: ExecutedRun<T>[] = [];

  const runOne = async (slot: RunSlot<T>, history: AnswerBook | undefined, recordInto: AnswerBook | undefined): Promise<RunResult> => {
    const h = hooks.open?.(slot) ?? {};
    const config: RunConfig & { baseUrl: string; model: string } = { ...plan.config, baseUrl: slot.target.baseUrl, model: slot.target.model, apiKey: slot.target.apiKey, qps: [slot.point] };
    const result = await run(
      {
        config,
        qps: slot.point,
        runId: runIdOf(plan, slot),
        scenario: plan.scenario,
        ...(plan.text ? { text: plan.text } : {}),
        ...(history ? { history } : {}),
        ...(h.scraper ? { scraper: h.scraper } : {}),
        ...(h.onStart ? { onStart: h.onStart } : {}),
        ...(h.onWindow ? { onWindow: h.onWindow } : {}),
        ...(h.onProgress ? { onProgress: h.onProgress } : {}),
        onRecord: (r) => {
          recordInto?.record(r);
          h.onRecord?.(r);
        },
      },
      signal,
    );
    await hooks.done?.(slot, result);
    return result;
  };
  const pause = async (first: boolean): Promise<boolean> => {
    if (!first && plan.cooldownS > 0 && !signal?.aborted) {
      hooks.onCooldown?.(plan.cooldownS);
      await sleep(plan.cooldownS * 1000, signal);
    }
    return signal?.aborted ?? false;
  };

  // Frozen history before a simultaneous run: the answers must exist before any target is measured.
  if (plan.history === 'frozen' && !book && plan.order === 'simultaneous') {
    book = new AnswerBook();
    const slot: RunSlot<T> = { target: plan.targets[0] as T, point: plan.points[0] as number, pointIndex: 0, rep: 0, kind: 'recording' };
    recording = await runOne(slot, undefined, book);
  }
  let interrupted = false;
  let first = recording === undefined;
  outer: for (const [pointIndex, point] of plan.points.entries()) {
    for (const wave of runOrder(plan.targets, plan.order, plan.repeat)) {
      if (await pause(first)) {
        interrupted = true;
        break outer;
      }
      first = false;
      // The very first run of a frozen comparison without saved answers records them (its own history is its own answers).
      const recordNow = plan.history === 'frozen' && !book ? new AnswerBook() : undefined;
      const slots = wave.map((s): RunSlot<T> => ({ target: s.target, point, pointIndex, rep: s.rep, kind: 'measured' }));
      const results = await Promise.all(slots.map((s) => runOne(s, book, recordNow)));
      if (recordNow) book = recordNow;
      slots.forEach((slot, i) => runs.push({ slot, result: results[i] as RunResult }));
      if (results.some((r) => r.interrupted)) interrupted = true;
      if (interrupted || hooks.shouldStop?.()) break outer;
    }
  }
  return { runs, answers: plan.history === 'frozen' ? book : undefined, recording, interrupted };
}

/** The run's id: the plan's, then the target and the repetition where there are several (all points share it). */
function runIdOf(plan: ExecutionPlan<ExecutionTarget>, slot: RunSlot<ExecutionTarget>): string {
  const parts = [plan.runId];
  if (plan.targets.length > 1 || slot.kind === 'recording') parts.push(slot.target.name);
  if (slot.kind === 'recording') parts.push('recording');
  else if (plan.repeat > 1) parts.push(`rep-${slot.rep + 1}`);
  return parts.join('/');
}
