// The workload fingerprint of a gate: what was sent and when (scenario, model, seed, tokenizer, the load point and
// every other workload field of compare/workload.ts), as readable fields and a short hash that keys the baseline
// store. Two runs are gated against each other only when every field agrees. Pure (hashing only).
import { createHash } from 'node:crypto';
import { WORKLOAD_FIELDS } from '../compare/workload.js';
import type { RunConfig } from '../config/options.js';
import type { RunResult } from '../result/schema.js';

export interface WorkloadKey {
  /** 16 hex digits of the SHA-256 of the fields. */
  hash: string;
  /** Field -> value as text, e.g. { scenario: 'run-pd', model: '...', seed: '0', qps: '4', ... }. */
  fields: Record<string, string>;
}

export interface KeyDifference {
  field: string;
  baseline: string;
  current: string;
}

/** What defines a workload, from a config (the qps list replaced by the one point run). */
export function workloadFields(config: Pick<RunConfig, (typeof WORKLOAD_FIELDS)[number]>, scenario: string | null, model: string, qps: number): Record<string, string> {
  const fields: Record<string, string> = { scenario: scenario ?? '(none)', model };
  for (const f of WORKLOAD_FIELDS) fields[f] = f === 'qps' ? String(qps) : JSON.stringify(config[f]);
  return fields;
}

export function keyOf(fields: Record<string, string>): WorkloadKey {
  const canonical = JSON.stringify(Object.keys(fields).sort().map((k) => [k, fields[k]]));
  return { hash: createHash('sha256').update(canonical).digest('hex').slice(0, 16), fields };
}

/** The fingerprint of a run (its repetitions share it). */
export function workloadKey(r: RunResult): WorkloadKey {
  return keyOf(workloadFields(r.config, r.scenario, r.target.model, r.schedule.configuredQps));
}

/** Fields whose values differ, in field order (empty: the same workload). */
export function keyDifferences(baseline: Record<string, string>, current: Record<string, string>): KeyDifference[] {
  const names = [...new Set([...Object.keys(baseline), ...Object.keys(current)])];
  return names.filter((f) => baseline[f] !== current[f]).map((f) => ({ field: f, baseline: baseline[f] ?? '(absent)', current: current[f] ?? '(absent)' }));
}

/** "seed (baseline 0, current 1), model (baseline a, current b)". */
export function formatDifferences(d: readonly KeyDifference[]): string {
  return d.map((x) => `${x.field} (baseline ${x.baseline}, current ${x.current})`).join(', ');
}
