// Dogfood: pd-bench gates its own simulator, as a nightly job would, with the CLI as a child process. The first
// night stores its run as the baseline; the same simulator the next night passes against it; a simulator slowed
// by a stated 50% (--time-scale 3 instead of 2: every simulated duration half as long again) fails with exit 7
// and a JUnit file naming the regressed metric, and does not become the baseline. Also: the same gate offline from
// saved directories, a different workload refused with its field named, and a bad threshold stopped before any
// traffic. Assertions are on verdicts and files, never on speed: "the same simulator passes" and "the slowed one is
// slower" hold only while the simulator keeps its time model, which a starved process on a busy machine does not
// (every event late, every latency stretched: the gate then rightly sees a slower target). The simulator counts its
// own late events (pdbench_sim:clock_late_events_total); where more than 2% ran over 5 ms late in a compared night,
// the test checks only what holds whatever the speed (the outputs, the store, the exit code being a gate verdict).
// Client health is relaxed: the suite shares the machine, and this test is about the gate, not the client.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { spawnServer as SpawnServer } from '../../src/sim/spawn-server.js';
import { ROOT, ensureBuilt } from '../helpers/build.js';

const BIN = join(ROOT, 'bin', 'pd-bench.js');
const MAIN_JS = join(ROOT, 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'pd-bench-gate-'));
const store = join(tmp, 'store');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let spawnServer: typeof SpawnServer;
beforeAll(async () => {
  expect(ensureBuilt(MAIN_JS), 'dist/cli/main.js: build with npx tsc -p tsconfig.build.json').toBe(true);
  ({ spawnServer } = (await import(join(ROOT, 'dist', 'sim', 'spawn-server.js'))) as { spawnServer: typeof SpawnServer });
}, 120_000);

/** A short workload with enough requests (about 120) for every p99 the gate judges. */
const WORKLOAD = ['--scenario', 'run-pd', '--num-users', '20', '--qps', '5', '--time', '12', '--user-history-prompt', '100', '--answer-len', '16', '--log-interval', '60', '--max-loop-delay', '1000', '--max-schedule-lag', '1000'];
/** The simulator's normal pace for this test, and the slowed one: 50% slower. */
const NORMAL = '2';
const SLOWED = '3';

interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Night extends Cli {
  /** The simulator kept time: at most 2% of its events ran more than 5 ms late. */
  keptTime: boolean;
  lateness: string;
}

/** The simulator's own account of how late it ran, from its router's /metrics. */
async function simLateness(url: string): Promise<{ keptTime: boolean; text: string }> {
  const text = await (await fetch(url.replace(/\/v1$/, '/metrics'))).text();
  const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const events = value('pdbench_sim:clock_events_total');
  const late = value('pdbench_sim:clock_late_events_total');
  return { keptTime: events > 0 && late / events <= 0.02, text: `${late} of ${events} simulator events over 5 ms late, the latest ${(value('pdbench_sim:clock_late_max_seconds') * 1000).toFixed(0)} ms` };
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Cli> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GITHUB_STEP_SUMMARY: '', GITHUB_SHA: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `pd-bench gate` against a fresh simulator at the given time scale (the simulator is stopped afterwards). */
async function gateAgainstSim(timeScale: string, name: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Night> {
  const sim = await spawnServer('sim-main', ['--topology', 'pd', '--time-scale', timeScale]);
  try {
    const r = await cli(['gate', '--base-url', sim.url, ...WORKLOAD, '--output-dir', join(tmp, name), '--baseline-store', store, '--target-label', 'sim-pd', '--update-baseline', '--junit', join(tmp, `${name}.xml`), ...extra], env);
    const l = await simLateness(sim.url);
    if (!l.keptTime) console.warn(`${name}: the machine starved the simulator (${l.text}); its speed-dependent checks are skipped`);
    return { ...r, keptTime: l.keptTime, lateness: l.text };
  } finally {
    await sim.stop();
  }
}

/** Every night gated so far, and which one is the stored baseline. */
const nights = new Map<string, Night>();
let baselineNight = 'night-1';
const GATE_EXITS = [0, 6, 7, 8];

const verdictLine = (r: Cli): string => r.stdout.trim().split('\n').at(-1) ?? '';
/** The gate's own report (from its header on) and stderr, for failure messages. */
const gateText = (r: Cli): string => `${r.stdout.slice(r.stdout.indexOf('== pd-bench gate'))}\n${r.stderr.slice(-2000)}`;

describe('the injected TTFT regression (pd-bench sim --api-delay-ms)', () => {
  it('holds every request that long before its first engine, in both topologies; a bad value is refused', async () => {
    const { parseSimOptions } = (await import(join(ROOT, 'dist', 'sim', 'sim-options.js'))) as typeof import('../../src/sim/sim-options.js');
    expect(() => parseSimOptions({ 'api-delay-ms': '-1' })).toThrow(/--api-delay-ms/);
    for (const topology of ['pd', 'colocated']) {
      const sim = await spawnServer('sim-main', ['--topology', topology, '--api-delay-ms', '300']);
      try {
        const t0 = performance.now();
        const res = await fetch(`${sim.url}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: String(sim.ready.model), prompt: 'hello', max_tokens: 1 }) });
        expect(res.status).toBe(200);
        await res.text();
        // A timer never fires early (the simulator re-arms until its target): a lower bound, whatever the machine.
        expect(performance.now() - t0, topology).toBeGreaterThanOrEqual(300);
      } finally {
        await sim.stop();
      }
    }
  }, 60_000);
});

describe('pd-bench gate on its own simulator', () => {
  it('the first night has no baseline: the run passes its thresholds and becomes the baseline', async () => {
    const r = await gateAgainstSim(NORMAL, 'night-1', ['--threshold', '!target.saturated', '--label', 'night-1']);
    nights.set('night-1', r);
    expect(r.code, gateText(r)).toBe(0);
    expect(verdictLine(r)).toMatch(/^gate: PASS: sim-pd: no baseline yet, nothing to compare; 1 threshold held \(exit 0\)$/);
    const gate = JSON.parse(readFileSync(join(tmp, 'night-1', 'gate.json'), 'utf8')) as { baselineUpdated: boolean; workload: { hash: string } };
    expect(gate.baselineUpdated).toBe(true);
    expect(existsSync(join(store, 'sim-pd', gate.workload.hash, 'run-1', 'requests.jsonl'))).toBe(true);
  }, 90_000);

  it('the same simulator the next night passes against its baseline (exit 0), with JUnit, markdown and the step summary', async () => {
    const summary = join(tmp, 'step-summary.md');
    writeFileSync(summary, '# earlier step\n');
    const r = await gateAgainstSim(NORMAL, 'night-2', ['--markdown', join(tmp, 'night-2.md')], { GITHUB_STEP_SUMMARY: summary, GITHUB_SHA: 'feedc0de' });
    nights.set('night-2', r);
    const fair = r.keptTime && (nights.get('night-1')?.keptTime ?? false);
    if (fair) {
      expect(r.code, gateText(r)).toBe(0);
      expect(verdictLine(r)).toMatch(/^gate: PASS: sim-pd: \d+ of 15 metrics within tolerance against the baseline of \d{4}-\d\d-\d\d/);
    } else expect(GATE_EXITS, gateText(r)).toContain(r.code);
    const junit = readFileSync(join(tmp, 'night-2.xml'), 'utf8');
    expect(junit).toMatch(fair ? /<testsuites name="pd-bench gate" tests="15" failures="0" errors="0" skipped="0">/ : /<testsuites name="pd-bench gate" tests="\d+" failures="\d+" errors="\d+" skipped="\d+">/);
    const md = readFileSync(join(tmp, 'night-2.md'), 'utf8');
    expect(md).toMatch(fair ? /^### pd-bench gate: PASS — `sim-pd`, run-pd @ 5 QPS/ : /^### pd-bench gate: [A-Z ]+ — `sim-pd`, run-pd @ 5 QPS/);
    expect(readFileSync(summary, 'utf8')).toBe(`# earlier step\n${md}\n`);
    const history = readFileSync(join(store, 'history.csv'), 'utf8').trim().split('\n');
    expect(history).toHaveLength(3);
    expect(history[2]).toMatch(/^[^,]+,feedc0de,sim-pd,[0-9a-f]{16},run-pd,5,[a-z ]+,\d,/);
    if (r.code === 0) baselineNight = 'night-2';
  }, 90_000);

  it('a simulator slowed by 50% fails with exit 7, a JUnit failure naming the regressed metric, and stays out of the store', async () => {
    const before = readFileSync(join(store, 'history.csv'), 'utf8');
    const r = await gateAgainstSim(SLOWED, 'night-3');
    nights.set('night-3', r);
    const gate = JSON.parse(readFileSync(join(tmp, 'night-3', 'gate.json'), 'utf8')) as { baselineUpdated: boolean; notes: string[]; verdict: string };
    if (r.keptTime && (nights.get(baselineNight)?.keptTime ?? false)) {
      expect(r.code, gateText(r)).toBe(7);
      expect(verdictLine(r)).toMatch(/^gate: REGRESSION: sim-pd: (ttft|itl|tpot|e2el)\.p\d+ \+\d+(\.\d)?% \[/);
      const junit = readFileSync(join(tmp, 'night-3.xml'), 'utf8');
      expect(junit).toMatch(/<testcase classname="pd-bench.gate.metrics" name="ttft.p50" time="0">\n\s+<failure type="regression" message="ttft.p50 regressed: \+\d+(\.\d)?%/);
      expect(junit).toMatch(/<testcase classname="pd-bench.gate.metrics" name="tpot.p50" time="0">\n\s+<failure type="regression"/);
    } else expect(GATE_EXITS, gateText(r)).toContain(r.code);
    expect(gate.baselineUpdated).toBe(r.code === 0);
    if (r.code !== 0) expect(gate.notes).toContain(`baseline not updated: the gate did not pass (${gate.verdict})`);
    const rows = readFileSync(join(store, 'history.csv'), 'utf8').trim().split('\n');
    expect(rows.length).toBe(before.trim().split('\n').length + 1);
    expect(rows.at(-1)).toContain(`,${gate.verdict},${r.code},`);
  }, 90_000);

  it('offline: the slowed night against the stored baseline gives the same verdict; another workload is refused by field', async () => {
    const r = await cli(['gate', '--current', join(tmp, 'night-3'), '--baseline-store', store, '--target-label', 'sim-pd', '--trend', '5']);
    // The same runs and the same seeded resampling: the same verdict as that night's (unless that night became the baseline).
    const night3 = nights.get('night-3');
    if (night3?.code !== 0) expect(r.code, gateText(r)).toBe(night3?.code);
    expect(r.stdout).toMatch(/trend \(last [45] gate runs, oldest first\): ttft\.p50 /);
    const other = join(tmp, 'other-seed');
    cpSync(join(tmp, 'night-2'), other, { recursive: true });
    const summary = JSON.parse(readFileSync(join(other, 'summary.json'), 'utf8')) as { config: { seed: number } };
    summary.config.seed = 7;
    writeFileSync(join(other, 'summary.json'), JSON.stringify(summary));
    const refused = await cli(['gate', '--current', other, '--baseline', join(tmp, 'night-2')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^pd-bench: invalid --baseline: ".*night-2" — allowed: a baseline of the same workload; it differs in seed \(baseline 0, current 7\)$/)]);
  }, 60_000);

  it('a bad threshold is one line and exit 2, before anything is sent', async () => {
    // Port 9 (discard) has no server: had anything been sent, the exit would be 4 (unreachable).
    const r = await cli(['gate', '--base-url', 'http://127.0.0.1:9/v1', '--baseline-store', store, '--threshold', 'ttft<2s']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^pd-bench: invalid --threshold: "ttft<2s" — ttft needs a statistic, e\.g\. ttft\.p99; allowed: metric\[\.stat\] OP value\[unit\]/)]);
    const run = await cli(['run', '--base-url', 'http://127.0.0.1:9/v1', '--threshold', 'error_rate<5', '--threshold', 'goodput>1']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(2);
    expect(run.stderr).toMatch(/goodput is judged against an SLO: add --slo/);
  }, 60_000);
});
