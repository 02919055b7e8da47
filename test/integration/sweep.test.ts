// `pd-bench sweep` over real sockets against in-process mocks: the files a planner reads (capacity.csv with a row
// per run, capacity-summary.csv with a row per target, summary.json, report.html, a directory per run), targets
// interleaved at each point, the users axis's pace, the stop rules, an interrupt that still writes every finished
// run, and bad input refused before any request.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { reportCommand } from '../../src/cli/report-command.js';
import { planSweep, sweepCommand, type SweepCommandOptions } from '../../src/cli/sweep-command.js';
import { ConfigError, ExitCode } from '../../src/errors.js';
import { CAPACITY_COLUMNS } from '../../src/report/capacity-csv.js';
import type { SweepReport } from '../../src/sweep/types.js';
import { startMock, type MockKnobs, type StartedMock } from '../helpers/mock-openai.js';

const mocks: StartedMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});
const tmp = mkdtempSync(join(tmpdir(), 'pd-bench-sweep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function mock(knobs: Partial<MockKnobs> = {}): Promise<StartedMock> {
  const m = await startMock({ ttftMs: 2, itlMs: 1, ...knobs });
  mocks.push(m);
  return m;
}

/** A stream that keeps what was written, and calls `onLine` for each full line. */
function capture(onLine?: (line: string) => void): NodeJS.WriteStream & { text: () => string } {
  let text = '';
  let partial = '';
  const s = new PassThrough();
  s.on('data', (c: Buffer) => {
    text += c.toString();
    partial += c.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) onLine?.(l);
  });
  return Object.assign(s, { isTTY: false, text: () => text }) as unknown as NodeJS.WriteStream & { text: () => string };
}

const WORKLOAD = { 'num-users': 6, 'num-rounds': 3, 'shared-system-prompt': 50, 'user-history-prompt': 50, 'answer-len': 4, time: 1, 'drain-timeout': 10, 'request-timeout': 10 };

function opts(out: string, over: Partial<SweepCommandOptions>): SweepCommandOptions & { stdout: ReturnType<typeof capture>; stderr: ReturnType<typeof capture> } {
  return { flags: { ...WORKLOAD }, sweep: { cooldown: '0' }, outputDir: join(tmp, out), runId: out, stdout: capture(), stderr: capture(), ...over } as SweepCommandOptions & {
    stdout: ReturnType<typeof capture>;
    stderr: ReturnType<typeof capture>;
  };
}

const csv = (path: string): Record<string, string>[] => parse(readFileSync(path, 'utf8'), { columns: true }) as Record<string, string>[];

describe('pd-bench sweep', () => {
  it('writes a row per run and a capacity per target, interleaving the targets at each point', async () => {
    const [a, b] = [await mock(), await mock()];
    const o = opts('two', { flags: { ...WORKLOAD, qps: '4,8' }, sweep: { cooldown: '0', target: [`a=${a.url},gpus=1`, `b=${b.url},gpus=2`], slo: 'e2el=60s', attainment: '0.5' } });
    const r = await sweepCommand(o);
    expect(r.exitCode).toBe(ExitCode.ok);
    const dir = join(tmp, 'two');
    for (const f of ['summary.json', 'capacity.csv', 'capacity-summary.csv', 'report.html', 'a/qps-4/summary.json', 'b/qps-8/requests.csv']) expect(existsSync(join(dir, f)), f).toBe(true);
    const rows = csv(join(dir, 'capacity.csv'));
    expect(Object.keys(rows[0] ?? {})).toEqual([...CAPACITY_COLUMNS]);
    // A B at the first point, B A at the second: drift cancels.
    expect(rows.map((x) => `${x.target}@${x.point}`)).toEqual(['a@4', 'b@4', 'b@8', 'a@8']);
    expect(rows.map((x) => x.step)).toEqual(['1', '2', '3', '4']);
    // 3 rounds: the schedule offers qps * 3/2.
    expect(rows.map((x) => Number(x.offered_rps))).toEqual([6, 6, 12, 12]);
    expect(rows.find((x) => x.target === 'b')?.gpus).toBe('2');
    const summary = csv(join(dir, 'capacity-summary.csv'));
    expect(summary.map((x) => [x.target, x.outcome, x.max_load])).toEqual([
      ['a', 'above-max', '8'],
      ['b', 'above-max', '8'],
    ]);
    const report = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as SweepReport;
    expect(report).toMatchObject({ schema: 'pd-bench/sweep', baseline: 'a', interrupted: false });
    // Per GPU: b has twice the GPUs for the same capacity bracket.
    expect(report.ratios[0]).toMatchObject({ target: 'b', baseline: 'a', ratio: 0.5 });
    expect(o.stdout.text()).toContain('capacity is above it');
    expect(o.stdout.text()).toMatch(/b carries 0\.50x .* the req\/s per GPU of a/);

    // `pd-bench report` on the sweep's directory writes report.html and the CSVs again, from summary.json.
    rmSync(join(dir, 'report.html'));
    rmSync(join(dir, 'capacity.csv'));
    expect(await reportCommand({ dir, compare: {}, stdout: capture(), stderr: capture() })).toBe(ExitCode.ok);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('b carries 0.50x');
    expect(csv(join(dir, 'capacity.csv'))).toEqual(rows);
    await expect(reportCommand({ dir, compare: { slo: 'ttft=1s' } })).rejects.toThrow(/--slo.*not for a sweep directory/);
  });

  it('a users axis keeps each user’s pace: qps grows with the users', async () => {
    const m = await mock();
    const o = opts('users', { flags: { ...WORKLOAD, 'base-url': m.url, 'num-users': 2, qps: 2 }, sweep: { cooldown: '0', users: '2,4' } });
    expect((await sweepCommand(o)).exitCode).toBe(ExitCode.ok);
    const rows = csv(join(tmp, 'users', 'capacity.csv'));
    expect(rows.map((x) => [x.point, x.users, x.qps])).toEqual([
      ['2', '2', '2'],
      ['4', '4', '4'],
    ]);
    expect(existsSync(join(tmp, 'users', 'users-4', 'summary.json'))).toBe(true);
  });

  it('stops a target after two points in a row below the goal, and says no load met the SLO (exit 9)', async () => {
    const m = await mock({ failStatus: 500 });
    // No preflight: its own request would fail first.
    const o = opts('failing', { flags: { ...WORKLOAD, 'base-url': m.url, qps: '2,4,8,16', preflight: false, model: 'mock-model' }, sweep: { cooldown: '0', slo: 'ttft=10s' } });
    const r = await sweepCommand(o);
    expect(r.exitCode).toBe(ExitCode.noCapacity);
    expect(csv(join(tmp, 'failing', 'capacity.csv')).map((x) => x.point)).toEqual(['2', '4']);
    const t = r.report?.targets[0];
    expect(t).toMatchObject({ outcome: 'none-meets', stoppedBecause: expect.stringContaining('two points in a row') as unknown as string });
    expect(o.stdout.text()).toMatch(/no load meets the SLO; the lowest \(qps 2\) reached attainment 0\.000/);
    expect(t?.firstFailing?.why).toContain('error');
  });

  it('an interrupt mid-sweep still writes every finished run, capacity.csv included', async () => {
    const m = await mock();
    const ac = new AbortController();
    // Interrupted as soon as the first run has been judged (an event, not a time).
    const stderr = capture((line) => {
      if (/^target qps 2: /.test(line)) ac.abort('test');
    });
    const o = { ...opts('interrupted', { flags: { ...WORKLOAD, 'base-url': m.url, qps: '2,4,8' } }), stderr, signal: ac.signal };
    const r = await sweepCommand(o);
    expect(r.exitCode).toBe(ExitCode.interrupted);
    const dir = join(tmp, 'interrupted');
    const rows = csv(join(dir, 'capacity.csv'));
    expect(rows[0]).toMatchObject({ point: '2', interrupted: 'false' });
    expect(rows.length).toBeLessThan(3);
    const report = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as SweepReport;
    expect(report.interrupted).toBe(true);
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
  });

  it('runs production-stack’s run.sh QPS list (multi-round-qa, 4.1 down to 0.1) as a sweep from the lightest load up', () => {
    const p = planSweep({ scenario: 'multi-round-qa', flags: { 'base-url': 'http://127.0.0.1:1/v1' }, sweep: {} });
    expect(p.axis).toMatchObject({ name: 'qps', min: 0.1, max: 4.1 });
    expect(p.axis.points).toEqual([0.1, 0.5, 0.9, 1.3, 1.7, 2.1, 2.5, 2.9, 3.3, 3.7, 4.1]);
    // run.sh's 10 s pause between points is the cool-down; its 320 users x 10 rounds stay.
    expect(p.cooldownS).toBe(10);
    expect(p.config).toMatchObject({ numUsers: 320, numRounds: 10, time: 100 });
  });

  it.each([
    [{ qps: '8:1:1' }, {}, /--qps.*from must not exceed to/],
    [{ qps: '1:8' }, { find: 'max-users' }, /--find.*max-qps with a --qps axis/],
    [{ qps: '1:8' }, { find: 'max-qps' }, /--find.*only with --slo/],
    [{ qps: '1,2' }, { users: '2,4' }, /--qps.*one rate with --users/],
    [{ qps: '1,2' }, { attainment: '1.5' }, /--attainment/],
    [{ qps: '1,2' }, { precision: '0' }, /--precision/],
  ])('refuses bad input before any request: %o %o', async (flags, sweep, message) => {
    const m = await mock();
    const o = opts('bad', { flags: { ...WORKLOAD, 'base-url': m.url, ...flags }, sweep: { cooldown: '0', ...sweep } });
    await expect(sweepCommand(o)).rejects.toThrow(ConfigError);
    await expect(sweepCommand(o)).rejects.toThrow(message);
    expect(m.server.requests.length).toBe(0);
  });
});

describe('sweep search bounds', () => {
  it('--find searches up to TO itself, not the last doubling of FROM below it', () => {
    const p = planSweep({ flags: { 'base-url': 'http://127.0.0.1:1/v1', qps: '16:24' }, sweep: { find: 'max-qps', slo: 'ttft=1s' } });
    expect(p.axis).toMatchObject({ min: 16, max: 24 });
  });
});

describe('sweep thresholds', () => {
  it('judges thresholds at each target’s capacity load: a breach exits 6, a bad expression is refused before traffic', async () => {
    const m = await mock();
    const ok = opts('thr-ok', { flags: { ...WORKLOAD, 'base-url': m.url, qps: '2,4' }, sweep: { cooldown: '0', slo: 'e2el=60s', attainment: '0.5', threshold: ['error_rate<1%'] } });
    expect((await sweepCommand(ok)).exitCode).toBe(ExitCode.ok);
    expect(ok.stdout.text()).toContain('thresholds (target at qps 4): all 1 held');
    const bad = opts('thr-bad', { flags: { ...WORKLOAD, 'base-url': m.url, qps: '2,4' }, sweep: { cooldown: '0', slo: 'e2el=60s', attainment: '0.5', threshold: ['ttft.p50<0.001ms'] } });
    expect((await sweepCommand(bad)).exitCode).toBe(ExitCode.thresholdBreached);
    expect(bad.stdout.text()).toMatch(/BREACH ttft\.p50<0\.001ms/);
    const sent = m.server.requests.length;
    await expect(sweepCommand(opts('thr-parse', { flags: { ...WORKLOAD, 'base-url': m.url, qps: '2,4' }, sweep: { threshold: ['ttft.p77<<2'] } }))).rejects.toThrow(ConfigError);
    expect(m.server.requests.length).toBe(sent);
  });
});
