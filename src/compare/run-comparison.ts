// Runs the identical workload against every target: same seed, users, per-turn intended times and prompts
// (byte-identical with frozen history). Orders: sequential (with a cool-down), interleaved (A B B A ... for
// --repeat K, to cancel drift) and simultaneous (all targets at once, each at the full rate). Measures and
// returns; writes nothing (the CLI streams records to disk through the hooks).
import type { RunConfig } from '../config/options.js';
import type { RequestRecord } from '../result/record.js';
import type { RunResult } from '../result/schema.js';
import { runBenchmark, type RunOptions } from '../run.js';
import type { ServerScraper } from '../scrape/types.js';
import { onAbort } from '../util/abort-fanout.js';
import { AnswerBook } from '../workload/answer-book.js';
import type { TextFactory } from '../workload/text.js';
import { samplesOf } from './samples.js';
import type { TargetSpec } from './targets.js';
import type { CompareOrder, HistoryMode, RequestSample } from './types.js';

export interface ComparisonPlan {
  /** Targets with their model resolved (the CLI's preflight fills it in). */
  targets: (TargetSpec & { model: string })[];
  /** The workload; baseUrl, model and apiKey are replaced per target. */
  config: RunConfig;
  qps: number;
  order: Exclude<CompareOrder, 'offline'>;
  repeat: number;
  /** Seconds between consecutive runs (sequential and interleaved). */
  cooldownS: number;
  history: HistoryMode;
  /** Frozen history from a saved answers.jsonl; without it the first run records the answers. */
  answers?: AnswerBook;
  runId: string;
  scenario?: string | undefined;
  text?: TextFactory;
}

/** One run of one target: which repetition, and per-run hooks for streaming records. */
export interface RunSlot {
  target: TargetSpec & { model: string };
  rep: number;
  /** 'recording': the unmeasured pass that records answers for frozen history before a simultaneous run. */
  kind: 'measured' | 'recording';
}

export interface ComparisonHooks {
  /** Per-run callbacks (records to disk, progress); called before each run starts. */
  runHooks?: (slot: RunSlot) => Pick<RunOptions, 'onStart' | 'onRecord' | 'onWindow' | 'onProgress'> & { scraper?: ServerScraper };
  onRunDone?: (slot: RunSlot, result: RunResult) => void | Promise<void>;
  onCooldown?: (seconds: number) => void;
  /** The function that runs one point (default runBenchmark; the CLI passes the worker-aware one). */
  runner?: (options: RunOptions, signal?: AbortSignal) => Promise<RunResult>;
}

export interface TargetRuns {
  name: string;
  runs: { rep: number; result: RunResult }[];
  samples: RequestSample[];
}

export interface ComparisonRuns {
  targets: TargetRuns[];
  /** The answers every target's history got (frozen), for answers.jsonl. */
  answers: AnswerBook | undefined;
  recording: RunResult | undefined;
  interrupted: boolean;
}

/** The run order: sequential and simultaneous run each target once per repetition; interleaved alternates A B, B A. */
export function runOrder<T>(targets: readonly T[], order: ComparisonPlan['order'], repeat: number): { target: T; rep: number }[][] {
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

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const t = setTimeout(() => {
      off();
      resolve();
    }, ms);
    const off = signal ? onAbort(signal, () => (clearTimeout(t), resolve())) : () => {};
  });
}

export async function runComparison(plan: ComparisonPlan, hooks: ComparisonHooks = {}, signal?: AbortSignal): Promise<ComparisonRuns> {
  const run = hooks.runner ?? runBenchmark;
  const byName = new Map<string, TargetRuns>(plan.targets.map((t) => [t.name, { name: t.name, runs: [], samples: [] }]));
  let book = plan.history === 'frozen' ? plan.answers : undefined;
  let recording: RunResult | undefined;

  const runOne = async (slot: RunSlot, history: AnswerBook | undefined, recordInto: AnswerBook | undefined): Promise<{ result: RunResult; records: RequestRecord[] }> => {
    const h = hooks.runHooks?.(slot) ?? {};
    const records: RequestRecord[] = [];
    const config: RunConfig & { baseUrl: string; model: string } = {
      ...plan.config,
      baseUrl: slot.target.baseUrl,
      model: slot.target.model,
      apiKey: slot.target.apiKey,
      qps: [plan.qps],
    };
    const result = await run(
      {
        config,
        qps: plan.qps,
        runId: `${plan.runId}/${slot.target.name}${slot.kind === 'recording' ? '/recording' : plan.repeat > 1 ? `/rep-${slot.rep + 1}` : ''}`,
        scenario: plan.scenario,
        ...(plan.text ? { text: plan.text } : {}),
        ...(history ? { history } : {}),
        ...(h.scraper ? { scraper: h.scraper } : {}),
        ...(h.onStart ? { onStart: h.onStart } : {}),
        ...(h.onWindow ? { onWindow: h.onWindow } : {}),
        ...(h.onProgress ? { onProgress: h.onProgress } : {}),
        onRecord: (r) => {
          // Answer text is kept only while it can still be needed (frozen recording); samples drop it.
          recordInto?.record(r);
          records.push(r.phase === 'measure' ? { ...r, text: '' } : r);
          h.onRecord?.(r);
        },
      },
      signal,
    );
    await hooks.onRunDone?.(slot, result);
    return { result, records };
  };

  // Frozen history before a simultaneous run: the answers must exist before any target is measured.
  if (plan.history === 'frozen' && !book && plan.order === 'simultaneous') {
    const first = plan.targets[0] as ComparisonPlan['targets'][number];
    book = new AnswerBook();
    recording = (await runOne({ target: first, rep: 0, kind: 'recording' }, undefined, book)).result;
    if (!signal?.aborted) {
      hooks.onCooldown?.(plan.cooldownS);
      await sleep(plan.cooldownS * 1000, signal);
    }
  }

  const waves = runOrder(plan.targets, plan.order, plan.repeat);
  let interrupted = false;
  for (let w = 0; w < waves.length; w++) {
    if (signal?.aborted) {
      interrupted = true;
      break;
    }
    if (w > 0 && plan.cooldownS > 0) {
      hooks.onCooldown?.(plan.cooldownS);
      await sleep(plan.cooldownS * 1000, signal);
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
    }
    const wave = waves[w] as { target: ComparisonPlan['targets'][number]; rep: number }[];
    // The very first run of a frozen comparison without saved answers records them (its own history is its own answers).
    const recordNow = plan.history === 'frozen' && !book ? new AnswerBook() : undefined;
    const done = await Promise.all(wave.map((s) => runOne({ target: s.target, rep: s.rep, kind: 'measured' }, book, recordNow)));
    if (recordNow) book = recordNow;
    for (let i = 0; i < wave.length; i++) {
      const s = wave[i] as (typeof wave)[number];
      const d = done[i] as (typeof done)[number];
      const tr = byName.get(s.target.name) as TargetRuns;
      tr.runs.push({ rep: s.rep, result: d.result });
      for (const x of samplesOf(d.records, s.rep)) tr.samples.push(x);
      if (d.result.interrupted) interrupted = true;
    }
    if (interrupted) break;
  }
  for (const t of byName.values()) t.runs.sort((a, b) => a.rep - b.rep);
  return { targets: [...byName.values()], answers: plan.history === 'frozen' ? book : undefined, recording, interrupted };
}
