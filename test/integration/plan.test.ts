// A command's plan: every flag group is parsed before anything starts, and every problem is reported at once
// (one ConfigError, one line per issue), before any traffic and before the demo starts a simulator.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { compareCommand, planCompare } from '../../src/cli/compare-command.js';
import { demoCommand } from '../../src/cli/demo-command.js';
import { ConfigError } from '../../src/errors.js';

const sink = (): NodeJS.WriteStream & { text: () => string } => {
  const chunks: Buffer[] = [];
  const s = new PassThrough();
  s.on('data', (c: Buffer) => chunks.push(c));
  return Object.assign(s, { isTTY: false, text: () => Buffer.concat(chunks).toString('utf8') }) as unknown as NodeJS.WriteStream & { text: () => string };
};

async function configIssues(p: Promise<unknown>): Promise<string[]> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).issues.map((i) => i.field);
}

describe('compare plan', () => {
  it('reports bad compare flags, workload flags and targets together', async () => {
    const fields = await configIssues(
      compareCommand({
        flags: { 'num-users': 0, qps: '1,2' },
        compare: { order: 'sideways', target: ['only-one=http://127.0.0.1:9/v1'], iterations: '5' },
        dirs: [],
        stdout: sink(),
        stderr: sink(),
      }),
    );
    expect(fields).toEqual(expect.arrayContaining(['--order', '--iterations', '--num-users', '--target']));
  });

  it('an unknown scenario does not hide a bad flag', () => {
    let err: unknown;
    try {
      planCompare({ scenario: 'no-such-scenario', flags: { 'answer-len': -3 }, compare: { target: ['a=http://127.0.0.1:9/v1', 'b=http://127.0.0.1:8/v1'] }, dirs: [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.field)).toEqual(expect.arrayContaining(['--scenario', '--answer-len']));
  });

  it('a valid plan resolves targets, baseline and the one QPS point', () => {
    const plan = planCompare({ flags: { qps: '2' }, compare: { target: ['a=http://127.0.0.1:9/v1', 'b=http://127.0.0.1:8/v1'], baseline: 'b' }, dirs: [] });
    expect(plan.targets.map((t) => t.name)).toEqual(['a', 'b']);
    expect(plan.baseline).toBe('b');
    expect(plan.qps).toBe(2);
  });
});

describe('demo plan', () => {
  it('rejects bad flags before it starts either simulator', async () => {
    const stderr = sink();
    const fields = await configIssues(demoCommand({ flags: { 'num-users': 0, 'answer-len': 0 }, stdout: sink(), stderr }));
    expect(fields).toEqual(expect.arrayContaining(['--num-users', '--answer-len']));
    // The demo announces its stacks only once they are running.
    expect(stderr.text()).not.toMatch(/simulated stacks/);
  });
});

describe('run plan', () => {
  it('reports a bad scenario, bad workload flags, a missing --base-url and a bad scrape together', async () => {
    const { runCommand } = await import('../../src/cli/run-command.js');
    const fields = await configIssues(runCommand({ scenario: 'no-such-scenario', flags: { 'num-rounds': 0 }, scrape: ['not a scrape'], stdout: sink(), stderr: sink() }));
    expect(fields).toEqual(expect.arrayContaining(['--scenario', '--num-rounds']));
    const missingUrl = await configIssues(runCommand({ flags: {}, scrape: ['not a scrape'], stdout: sink(), stderr: sink() }));
    expect(missingUrl).toEqual(expect.arrayContaining(['--base-url']));
    expect(missingUrl.length).toBeGreaterThanOrEqual(2);
  });
});
