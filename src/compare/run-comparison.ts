// A live comparison's runs: the identical workload against every target at one QPS point (same seed, users,
// per-turn intended times and prompts; byte-identical with frozen history), through the one executor
// (driver/executor.ts), collecting each target's runs and the per-request samples the statistics resample. Measures
// and returns; writes nothing (the CLI's run sink streams records to disk through the hooks).
import type { RunConfig } from '../config/options.js';
import type { RequestRecord } from '../result/record.js';
import type { RunResult } from '../result/schema.js';
import { execute, runOrder, type ExecutionHooks, type RunSlot } from '../driver/executor.js';
import type { AnswerBook } from '../workload/answer-book.js';
import type { TextFactory } from '../workload/text.js';
import { samplesOf } from './samples.js';
import type { TargetSpec } from './targets.js';
import type { CompareOrder, HistoryMode, RequestSample } from './types.js';

export { runOrder };
export type ComparedTarget = TargetSpec & { model: string };
export type { RunSlot };

export interface ComparisonPlan {
  /** Targets with their model resolved (the CLI's preflight fills it in). */
  targets: ComparedTarget[];
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

export type ComparisonHooks = ExecutionHooks<ComparedTarget>;

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

export async function runComparison(plan: ComparisonPlan, hooks: ComparisonHooks = {}, signal?: AbortSignal): Promise<ComparisonRuns> {
  // Each run's measured records become its samples (answer text dropped: samples never need it).
  const records = new Map<RunSlot<ComparedTarget>, RequestRecord[]>();
  const collecting: ComparisonHooks = {
    ...hooks,
    open: (slot) => {
      const h = hooks.open?.(slot) ?? {};
      const mine: RequestRecord[] = [];
      records.set(slot, mine);
      return {
        ...h,
        onRecord: (r) => {
          if (slot.kind === 'measured') mine.push(r.phase === 'measure' ? { ...r, text: '' } : r);
          h.onRecord?.(r);
        },
      };
    },
  };
  const ex = await execute({ ...plan, points: [plan.qps] }, collecting, signal);
  const byName = new Map<string, TargetRuns>(plan.targets.map((t) => [t.name, { name: t.name, runs: [], samples: [] }]));
  for (const { slot, result } of ex.runs) {
    const tr = byName.get(slot.target.name) as TargetRuns;
    tr.runs.push({ rep: slot.rep, result });
    for (const x of samplesOf(records.get(slot) ?? [], slot.rep)) tr.samples.push(x);
  }
  for (const t of byName.values()) t.runs.sort((a, b) => a.rep - b.rep);
  return { targets: [...byName.values()], answers: ex.answers, recording: ex.recording, interrupted: ex.interrupted };
}
