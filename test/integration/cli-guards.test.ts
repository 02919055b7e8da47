// Guards that run before any traffic: an unwritable --output-dir is an input error (exit 2, nothing sent), and
// an interrupt during the preflight against a silent server ends at once with exit 130.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMock, type StartedMock } from '../helpers/mock-openai.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'pd-bench.js');

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
});

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

function cli(args: string[], onStart?: (kill: (sig: NodeJS.Signals) => void) => void): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENAI_API_KEY: '' } });
    let stderr = '';
    let stdout = '';
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.on('exit', (code) => resolve({ code, stderr, stdout }));
    onStart?.((sig) => p.kill(sig));
  });
}

describe('before any traffic', () => {
  it('an --output-dir that cannot be written is one line, exit 2, and nothing is sent', async () => {
    const mock: StartedMock = await startMock({ ttftMs: 1, itlMs: 1 });
    cleanup.push(() => mock.close());
    const tmp = mkdtempSync(join(tmpdir(), 'pd-bench-guard-'));
    cleanup.push(() => rmSync(tmp, { recursive: true, force: true }));
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'not a directory');
    const r = await cli(['run', '--base-url', mock.url, '--time', '1', '--output-dir', join(file, 'results')]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^pd-bench: invalid --output-dir: ".*a-file\/results" — allowed: a directory pd-bench can create and write \(ENOTDIR/);
    expect(mock.server.requests).toHaveLength(0);
  });

  it('SIGINT while the preflight waits on a silent server: exit 130 at once', async () => {
    // Accepts connections and never answers; the first connection (the preflight waiting) is the cue to interrupt.
    const sockets = new Set<Socket>();
    let connected: () => void = () => undefined;
    const firstConnection = new Promise<void>((resolve) => (connected = resolve));
    const silent: Server = createServer((s) => {
      sockets.add(s);
      connected();
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanup.push(() => {
      for (const s of sockets) s.destroy();
      silent.close();
    });
    const port = (silent.address() as { port: number }).port;
    const tmp = mkdtempSync(join(tmpdir(), 'pd-bench-guard-'));
    cleanup.push(() => rmSync(tmp, { recursive: true, force: true }));
    let safety: NodeJS.Timeout | undefined;
    const r = await cli(['run', '--base-url', `http://127.0.0.1:${port}/v1`, '--time', '5', '--output-dir', tmp], (kill) => {
      void firstConnection.then(() => {
        kill('SIGINT');
        // A safety net, not a speed bound: the preflight against a silent server would wait for its own timeout.
        safety = setTimeout(() => kill('SIGKILL'), 40_000);
      });
    });
    clearTimeout(safety);
    // "At once" is the reason, not a time (was also "< 10 s"): exit 130 with the interrupt's message, not the
    // preflight's timeout (exit 4) and not the safety net (no exit code).
    expect(r.code, `the CLI did not exit within 40 s of SIGINT: ${r.stderr}`).toBe(130);
    expect(r.stderr).toMatch(/interrupted during the preflight; nothing was measured/);
  });
});
