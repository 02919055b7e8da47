// The simulator as processes: bad sim options are one line and exit 2; a spawned stack reports ready and
// stops; the default `pd-bench` run leaves no simulator behind when interrupted (SIGINT, exit 130, results
// written) or killed outright (the children notice their stdin closing).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { spawnServer as SpawnServer } from '../../src/sim/spawn-server.js';
import { alive } from '../helpers/process.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'pd-bench.js');

beforeAll(() => {
  // The CLI runs from dist/; `npm test` builds first, this keeps a lone `vitest run` honest too.
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
});

const childrenOf = (pid: number): number[] => {
  const r = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  return r.stdout.split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
};

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

function sim(args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, 'sim', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('pd-bench sim: bad input', () => {
  it.each([
    [['--preset', 'gpt-5-b300'], /--preset.*gpt-5-b300.*allowed: .*mistral-7b-h100/],
    [['--topology', 'ring'], /--topology.*ring.*allowed: colocated or pd/],
    [['--topology', 'pd', '--replicas', '3'], /--replicas.*applies to --topology colocated/],
    [['--topology', 'colocated', '--decode', '2'], /--decode.*applies to --topology pd/],
    [['--replicas', '0', '--topology', 'colocated'], /--replicas.*0.*integer from 1/],
    [['--link', 'carrier-pigeon'], /--link.*carrier-pigeon.*allowed: .*nvlink/],
    [['--time-scale', '-1'], /--time-scale/],
    [['--fail-rate', '1.5'], /--fail-rate.*1\.5/],
  ])('%j: one line, exit 2', (args, pattern) => {
    const r = sim(args);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(r.stdout).toBe('');
  });
});

describe('simulator processes', () => {
  it('a spawned stack reports ready, serves, and stops without leaving a process', async () => {
    // From dist/: the child entry point is the compiled sim-main.js next to it.
    const { spawnServer } = (await import(join(ROOT, 'dist', 'sim', 'spawn-server.js'))) as { spawnServer: typeof SpawnServer };
    const s = await spawnServer('sim-main', ['--topology', 'pd', '--link', 'tcp', '--preset', 'llama3-8b-a100']);
    cleanup.push(() => s.child.kill('SIGKILL'));
    expect(s.ready).toMatchObject({ event: 'ready', topology: 'pd', gpus: 2, preset: 'llama3-8b-a100', link: 'tcp', model: 'meta-llama/Meta-Llama-3-8B-Instruct' });
    const health = await fetch(s.url.replace(/\/v1$/, '/health'));
    expect(health.status).toBe(200);
    const pid = s.child.pid as number;
    await s.stop();
    expect(alive(pid)).toBe(false);
  });

  it('a stack whose parent dies without cleaning up exits by itself (stdin closes)', async () => {
    // A parent that spawns a stack and is then SIGKILLed: no exit handler runs, only the closed pipe tells.
    const script = `import('${join(ROOT, 'dist', 'sim', 'spawn-server.js')}').then(async (m) => {
      const s = await m.spawnServer('sim-main', ['--topology', 'colocated']);
      process.stdout.write(String(s.child.pid) + '\\n');
    });`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => parent.kill('SIGKILL'));
    const childPid = await new Promise<number>((resolve, reject) => {
      parent.stdout.on('data', (b: Buffer) => resolve(Number(b.toString().trim())));
      parent.once('exit', () => reject(new Error('parent exited before the stack was ready')));
    });
    cleanup.push(() => {
      if (alive(childPid)) process.kill(childPid, 'SIGKILL');
    });
    expect(alive(childPid)).toBe(true);
    parent.kill('SIGKILL');
    expect(await until(() => !alive(childPid), 30_000), 'the stack outlived its parent (30 s)').toBe(true);
  });

  it('SIGINT during the default run: exit 130, results written, no simulator left', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pd-bench-demo-'));
    cleanup.push(() => rmSync(out, { recursive: true, force: true }));
    const cli: ChildProcess = spawn(process.execPath, [BIN, '--time', '30', '--output-dir', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(() => cli.kill('SIGKILL'));
    let stderr = '';
    cli.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    cli.stdout?.resume();
    expect(await until(() => /colocated.*measure/.test(stderr), 20_000), stderr).toBe(true);
    const sims = childrenOf(cli.pid as number);
    expect(sims.length).toBe(2);
    cleanup.push(() => sims.forEach((p) => alive(p) && process.kill(p, 'SIGKILL')));
    // Interrupt once a measured request has finished (its row is streamed to requests.csv), not after a fixed 2 s
    // hoping one has: the counts below then hold on any machine.
    const csvPath = join(out, 'colocated', 'requests.csv');
    const dataRows = (): number => (existsSync(csvPath) ? readFileSync(csvPath, 'utf8').split('\n').filter((l) => l.trim() !== '').length - 1 : 0);
    expect(await until(() => dataRows() >= 1, 30_000), `no request finished within 30 s of the measured phase:\n${stderr}`).toBe(true);
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    cli.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(await until(() => sims.every((p) => !alive(p)), 30_000), 'a simulator outlived the run (30 s)').toBe(true);
    const csv = readFileSync(join(out, 'colocated', 'requests.csv'), 'utf8');
    expect(csv.split('\n')[0]).toMatch(/^prompt_tokens,generation_tokens,ttft,generation_time,user_id,question_id,launch_time,finish_time,/);
    const summary = JSON.parse(readFileSync(join(out, 'colocated', 'summary.json'), 'utf8')) as { interrupted: boolean; counts: { launched: number; ok: number; failed: number; cancelled: number } };
    expect(summary.interrupted).toBe(true);
    const c = summary.counts;
    expect(c.launched).toBe(c.ok + c.failed + c.cancelled);
    expect(c.ok).toBeGreaterThan(0);
  });
});
