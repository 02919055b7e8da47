// Thresholds on `run` and `compare` against the mock over real sockets: a breach prints which and by how much and
// exits 6 after the files are written, what holds passes, goodput is judged with --slo, a scenario's thresholds:
// count, compare judges every target, and a bad expression stops the command before the target sees a request.
// Limits are chosen so that no machine's speed can flip them (the mock's TTFT is 20 ms; a limit of 1 ms cannot hold).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { compareCommand } from '../../src/cli/compare-command.js';
import { runCommand } from '../../src/cli/run-command.js';
import { ConfigError, ExitCode } from '../../src/errors.js';
import { startMock, type StartedMock } from '../helpers/mock-openai.js';

const tmp = mkdtempSync(join(tmpdir(), 'pd-bench-thresholds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const mocks: StartedMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

async function mock(): Promise<StartedMock> {
  const m = await startMock({ ttftMs: 20, itlMs: 2 });
  mocks.push(m);
  return m;
}

const WORKLOAD = { 'num-users': 4, 'num-rounds': 2, qps: '8', 'shared-system-prompt': 20, 'user-history-prompt': 20, 'answer-len': 4, time: 1, 'drain-timeout': 10 };
function streams(): { stdout: PassThrough; stderr: NodeJS.WriteStream; text: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (b: Buffer) => (text += b.toString()));
  return { stdout, stderr: Object.assign(new PassThrough().resume(), { isTTY: false }) as unknown as NodeJS.WriteStream, text: () => text };
}

describe('thresholds on run', () => {
  it('a breach exits 6 after the files are written, saying which and by how much; the rest hold', async () => {
    const m = await mock();
    const s = streams();
    const out = join(tmp, 'run-breach');
    const r = await runCommand({ flags: { 'base-url': m.url, ...WORKLOAD }, thresholds: ['ttft.p50<1ms', 'error_rate<1%', 'requests>0'], outputDir: out, stdout: s.stdout, stderr: s.stderr });
    expect(r.exitCode).toBe(ExitCode.thresholdBreached);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
    const [ttft, errors, requests] = r.thresholds[0] ?? [];
    expect(ttft).toMatchObject({ passed: false, metric: 'ttft.p50' });
    expect(ttft?.message).toMatch(/^ttft\.p50 = [\d.]+ ms, limit < 1 ms \(\d+% over\)$/);
    expect(errors).toMatchObject({ passed: true, value: 0 });
    expect(requests?.passed).toBe(true);
    expect(s.text()).toMatch(/thresholds: 1 of 3 BREACHED\n {2}BREACH ttft\.p50<1ms: ttft\.p50 = /);
  });

  it('goodput and slo_attainment with --slo, and a scenario file\'s thresholds: first', async () => {
    const m = await mock();
    const scenario = join(tmp, 'nightly.yaml');
    writeFileSync(scenario, 'name: nightly\nthresholds:\n  - error_rate<1%\n  - e2el.max<30s\n');
    const s = streams();
    const r = await runCommand({ scenario, flags: { 'base-url': m.url, ...WORKLOAD }, slo: 'ttft=10s', thresholds: ['goodput>0', 'slo_attainment>=99%'], outputDir: join(tmp, 'run-slo'), stdout: s.stdout, stderr: s.stderr });
    expect(r.exitCode, s.text()).toBe(ExitCode.ok);
    expect(r.thresholds[0]?.map((o) => o.expression)).toEqual(['error_rate<1%', 'e2el.max<30s', 'goodput>0', 'slo_attainment>=99%']);
    expect(r.thresholds[0]?.[2]?.value as number).toBeGreaterThan(0);
    expect(r.thresholds[0]?.[3]?.value).toBe(1);
    expect(s.text()).toMatch(/thresholds: all 4 held/);
  });

  it('a bad expression in a scenario or a flag stops the run before the target sees a request', async () => {
    const m = await mock();
    const scenario = join(tmp, 'bad.yaml');
    writeFileSync(scenario, 'name: bad\nthresholds: [ttft.p99<2 fortnights]\n');
    const err = await runCommand({ scenario, flags: { 'base-url': m.url, ...WORKLOAD }, thresholds: ['goodput>1'], outputDir: join(tmp, 'run-bad') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => `${i.field}: ${String(i.value)}`)).toEqual(['thresholds: ttft.p99<2 fortnights', '--threshold: goodput>1']);
    expect(m.server.requests).toHaveLength(0);
  });
});

describe('thresholds on compare', () => {
  it('are judged per target, live and offline; a breach of any target exits 6', async () => {
    const [a, b] = [await mock(), await mock()];
    const out = join(tmp, 'cmp');
    const s = streams();
    const live = await compareCommand({ flags: WORKLOAD, compare: { target: [`a=${a.url}`, `b=${b.url}`], cooldown: '0', iterations: '200', threshold: ['ttft.p50<1ms', 'failed==0'] }, dirs: [], outputDir: out, stdout: s.stdout, stderr: s.stderr });
    expect(live.exitCode).toBe(ExitCode.thresholdBreached);
    expect(live.thresholds.map((t) => [t.target, t.outcomes.map((o) => o.passed)])).toEqual([
      ['a', [false, true]],
      ['b', [false, true]],
    ]);
    expect(s.text()).toMatch(/thresholds \(a\): 1 of 2 BREACHED/);
    const offline = await compareCommand({ flags: {}, compare: { iterations: '200', threshold: ['failed==0'] }, dirs: [join(out, 'a'), join(out, 'b')], outputDir: join(tmp, 'cmp-offline'), stdout: new PassThrough().resume(), stderr: streams().stderr });
    expect(offline.exitCode).toBe(ExitCode.ok);
    expect(offline.thresholds.map((t) => t.outcomes[0]?.passed)).toEqual([true, true]);
  });
});
