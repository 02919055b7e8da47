// Which config fields define the workload (what is sent and when): two runs can be compared only if these
// agree. Everything else (target, timeouts, output, health thresholds) may differ. Pure.
import type { RunConfig } from '../config/options.js';

export const WORKLOAD_FIELDS = [
  'endpoint',
  'numUsers',
  'numRounds',
  'qps',
  'sharedSystemPrompt',
  'userHistoryPrompt',
  'answerLen',
  'time',
  'initUserId',
  'seed',
  'warmupRequests',
  'warmupMaxTokens',
  'preagedHistory',
  'tokenizer',
  'ignoreEos',
  'maxConcurrency',
  'arrival',
  'burstiness',
] as const satisfies readonly (keyof RunConfig)[];

export interface WorkloadDifference {
  field: string;
  values: string[];
}

/** Fields whose values differ between the configs, with each config's value (empty when they all agree). */
export function workloadDifferences(configs: readonly Pick<RunConfig, (typeof WORKLOAD_FIELDS)[number]>[], qpsPoints?: readonly number[]): WorkloadDifference[] {
  const out: WorkloadDifference[] = [];
  for (const f of WORKLOAD_FIELDS) {
    const values = configs.map((c, i) => (f === 'qps' && qpsPoints ? String(qpsPoints[i]) : JSON.stringify(c[f])));
    if (new Set(values).size > 1) out.push({ field: f, values });
  }
  return out;
}
