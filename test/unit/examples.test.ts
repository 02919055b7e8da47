// The CI examples stay runnable: both parse as YAML of the right shape, every flag their `pd-bench gate` command
// passes is one the gate command declares, the Kubernetes ConfigMap carries the same workload as
// examples/nightly.yaml, and that scenario loads, resolves and parses its thresholds.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { buildProgram } from '../../src/cli/main.js';
import { planThresholds } from '../../src/cli/threshold-flags.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { loadScenario } from '../../src/config/scenario.js';

const read = (p: string): string => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const gateFlags = new Set(buildProgram().commands.find((c) => c.name() === 'gate')?.options.map((o) => o.long) ?? []);

/** The `--flags` of the `pd-bench ... gate` command in a shell script. */
function flagsOf(script: string): string[] {
  const cmd = /pd-bench(?:@\S+)?"? gate([\s\S]*?)(?:\n\s*\n|\n\s*code=|$)/.exec(script)?.[1] ?? '';
  return [...cmd.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((m) => m[1] as string);
}

describe('examples', () => {
  it('nightly.yaml loads, resolves and parses its thresholds', () => {
    const s = loadScenario('examples/nightly.yaml');
    expect(resolveConfig({ scenario: s }).config).toMatchObject({ numUsers: 120, qps: [2], time: 180, ignoreEos: true });
    expect(planThresholds(s, [], null).map((t) => t.expression)).toEqual(['ttft.p99<2s', 'itl.p99<100ms', 'error_rate<1%', '!target.saturated']);
  });

  it('the GitHub workflow is scheduled and its gate uses only flags the gate command has', () => {
    const wf = parse(read('examples/github-actions/nightly.yml')) as { on: { schedule: { cron: string }[] }; jobs: { gate: { steps: { run?: string; uses?: string }[] } } };
    expect(wf.on.schedule[0]?.cron).toMatch(/^\d+ \d+ \* \* \*$/);
    const steps = wf.jobs.gate.steps;
    const gate = steps.find((s) => s.run?.includes(' gate'))?.run ?? '';
    const flags = flagsOf(gate);
    expect(flags).toEqual(expect.arrayContaining(['--base-url', '--baseline-store', '--update-baseline', '--junit', '--markdown']));
    expect(flags.filter((f) => !gateFlags.has(f))).toEqual([]);
    expect(steps.map((s) => s.uses ?? '')).toEqual(expect.arrayContaining(['actions/cache/restore@v4', 'actions/cache/save@v4', 'actions/upload-artifact@v4']));
  });

  it('the CronJob runs one gate at a time with the ConfigMap workload, and only gate flags', () => {
    const docs = parseAllDocuments(read('examples/kubernetes/nightly-cronjob.yaml')).map((d) => d.toJS() as { kind: string; data?: Record<string, string>; spec?: Record<string, unknown> });
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'PersistentVolumeClaim', 'CronJob']);
    const cron = docs[2]?.spec as { concurrencyPolicy: string; jobTemplate: { spec: { backoffLimit: number; template: { spec: { containers: { args: string[] }[] } } } } };
    expect(cron.concurrencyPolicy).toBe('Forbid');
    expect(cron.jobTemplate.spec.backoffLimit).toBe(0);
    const flags = flagsOf(cron.jobTemplate.spec.template.spec.containers[0]?.args[0] ?? '');
    expect(flags.length).toBeGreaterThan(5);
    expect(flags.filter((f) => !gateFlags.has(f))).toEqual([]);
    const { description: _a, ...inMap } = parse(docs[0]?.data?.['nightly.yaml'] ?? '') as Record<string, unknown>;
    const { description: _b, ...inFile } = parse(read('examples/nightly.yaml')) as Record<string, unknown>;
    expect(inMap).toEqual(inFile);
  });
});
