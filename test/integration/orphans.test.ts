// No orphan servers (issue 19, item 3): a simulator or mock that pd-bench started stops when its parent goes,
// however the parent dies. The parent is SIGKILLed here, so no exit handler of its runs and nothing is passed on:
// the spawned servers of spawnServer (a pipe on their stdin), and `pd-bench sim` / `pd-bench mock` started by npx
// (npm does not pass a kill on; faked by setting npm_lifecycle_event as npx does), through `sh -c` as npm starts
// them or directly, with and without the relaunch under --single-threaded-gc. The other way round, `pd-bench sim` / `pd-bench mock` run by a user with a terminal
// or /dev/null as stdin keep serving. Runs the built dist/ (rebuilt when stale).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { alive } from '../helpers/process.js';

const BIN = join(ROOT, 'bin', 'pd-bench.js');
const SPAWN = pathToFileURL(join(ROOT, 'dist', 'sim', 'spawn-server.js')).href;
/** Generous: the machine is shared; the checks are event-driven and return as soon as they hold. */
const GONE_WITHIN_MS = 45_000;
const READY_WITHIN_MS = 30_000;

const tmp = mkdtempSync(join(tmpdir(), 'pd-bench-orphans-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(() => {
  expect(ensureBuilt(join(ROOT, 'dist', 'cli', 'main.js')), 'dist/ could not be built').toBe(true);
}, 120_000);

/** Pids to SIGKILL after each test, whatever happened in it. */
const leftovers = new Set<number>();
afterEach(() => {
  for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
  leftovers.clear();
});

/** Gone: no such process, or a zombie waiting to be reaped (it serves nothing any more). */
function gone(pid: number): boolean {
  if (!alive(pid)) return true;
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Every descendant of a process (ps on Linux). */
function descendants(pid: number): number[] {
  const r = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  const kids = r.stdout.split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

/** Whether a TCP connection to the port on loopback is refused (nothing listens). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Polls `cond` until it holds or `ms` pass; returns whether it held. */
async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

/** Our environment as npm itself has it: npm sets npm_lifecycle_event only for what it starts. */
function npmEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.npm_lifecycle_event;
  return env;
}

/** Starts a node parent process running `script` (ES module text); resolves with the first JSON line it prints. */
async function parentPrinting(script: string): Promise<{ parent: ChildProcess; line: Record<string, number> }> {
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: npmEnv() });
  leftovers.add(parent.pid as number);
  const line = await new Promise<Record<string, number>>((resolve, reject) => {
    let out = '';
    parent.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as Record<string, number>);
    });
    parent.once('exit', (code) => reject(new Error(`the parent exited (${code}) before reporting its server`)));
  });
  return { parent, line };
}

/** SIGKILLs the parent, then waits until every server process is gone and the port refuses connections. */
async function expectNoOrphan(parent: ChildProcess, pids: number[], port: number): Promise<void> {
  for (const pid of pids) leftovers.add(pid);
  expect(pids.every(alive)).toBe(true);
  expect(await refused(port)).toBe(false);
  parent.kill('SIGKILL');
  expect(await until(() => pids.every(gone), GONE_WITHIN_MS), `still running after the parent was killed: ${pids.filter((p) => !gone(p)).join(', ')}`).toBe(true);
  expect(await until(() => refused(port), GONE_WITHIN_MS), `port ${port} still accepts connections`).toBe(true);
}

const portIn = (text: string): number | undefined => {
  const m = /http:\/\/127\.0\.0\.1:(\d+)\/v1/.exec(text);
  return m ? Number(m[1]) : undefined;
};

describe('servers started by pd-bench stop when their parent is killed', () => {
  it.each([
    ['sim-main', ['--topology', 'pd']],
    ['mock-main', ['--ttft-ms', '5']],
  ])('spawnServer(%s): the child exits and its port closes', async (entry, args) => {
    const script = `
      const { spawnServer } = await import(${JSON.stringify(SPAWN)});
      const s = await spawnServer(${JSON.stringify(entry)}, ${JSON.stringify(args)});
      process.stdout.write(JSON.stringify({ pid: s.child.pid, port: s.port }) + '\\n');
      setInterval(() => {}, 1 << 30);`;
    const { parent, line } = await parentPrinting(script);
    await expectNoOrphan(parent, [line.pid as number], line.port as number);
  }, 120_000);

  it.each([
    ['sim', '0', 'sh -c'],
    ['mock', '0', 'sh -c'],
    ['sim', '1', 'sh -c'],
    ['sim', '0', 'no shell'],
    ['mock', '1', 'no shell'],
  ])('`pd-bench %s` started by npx (single-threaded GC relaunch %s, %s): it stops and its port closes', async (command, gc, shell) => {
    const log = join(tmp, `${command}-${gc}-${shell.replace(/\W/g, '')}.log`);
    // As npx starts it: through `sh -c` (which stays between them; with SIGKILL npm cannot stop it), its own stdin
    // (here /dev/null), npm_lifecycle_event set; a parent that passes nothing on.
    const argv = [process.execPath, BIN, command, '--port', '0'];
    const [file, args] = shell === 'sh -c' ? ['sh', ['-c', `${argv.map((a) => `'${a}'`).join(' ')}; exit $?`]] : [argv[0], argv.slice(1)];
    const script = `
      import { spawn } from 'node:child_process';
      import { openSync } from 'node:fs';
      const c = spawn(${JSON.stringify(file)}, ${JSON.stringify(args)}, {
        stdio: ['ignore', 'ignore', openSync(${JSON.stringify(log)}, 'w')],
        env: { ...process.env, npm_lifecycle_event: 'npx', PD_BENCH_SINGLE_THREADED_GC: ${JSON.stringify(gc)} },
      });
      process.stdout.write(JSON.stringify({ pid: c.pid }) + '\\n');
      setInterval(() => {}, 1 << 30);`;
    const { parent, line } = await parentPrinting(script);
    const pid = line.pid as number;
    leftovers.add(pid);
    const text = (): string => (existsSync(log) ? readFileSync(log, 'utf8') : '');
    expect(await until(() => portIn(text()) !== undefined, READY_WITHIN_MS), `no address printed: ${text()}`).toBe(true);
    // The shell, pd-bench, and with the relaunch the run it starts: all must go.
    await expectNoOrphan(parent, [pid, ...descendants(pid)], portIn(text()) as number);
  }, 120_000);
});

describe('`pd-bench sim` / `pd-bench mock` run by a user keep serving', () => {
  /** Serves /health on every probe over a while (longer than the parent check's period and a stdin EOF). */
  async function keepsServing(port: number): Promise<void> {
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      expect(r.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it.each(['sim', 'mock'])('`pd-bench %s` with /dev/null as stdin (started by npx, whose process stays)', async (command) => {
    const child = spawn(process.execPath, [BIN, command, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, npm_lifecycle_event: 'npx' } });
    leftovers.add(child.pid as number);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    expect(await until(() => portIn(stderr) !== undefined || child.exitCode !== null, READY_WITHIN_MS), stderr).toBe(true);
    await keepsServing(portIn(stderr) as number);
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);

  it.runIf(spawnSync('script', ['--version']).status === 0)('`pd-bench mock` with a terminal as stdin (script(1) gives it a pseudo-terminal)', async () => {
    const cmd = `'${process.execPath}' '${BIN}' mock --port 0`;
    const term = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
    leftovers.add(term.pid as number);
    let out = '';
    term.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    expect(await until(() => portIn(out) !== undefined, READY_WITHIN_MS), out).toBe(true);
    const [mock] = descendants(term.pid as number);
    expect(mock).toBeDefined();
    leftovers.add(mock as number);
    await keepsServing(portIn(out) as number);
    expect(gone(mock as number)).toBe(false);
    process.kill(mock as number, 'SIGTERM');
    expect(await until(() => gone(mock as number), GONE_WITHIN_MS)).toBe(true);
  }, 120_000);
});
