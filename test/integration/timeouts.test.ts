// Every timeout pd-bench sets is honoured to within a second, also when garbage collection runs while it waits:
// on Node 20 an AbortSignal.timeout() combined with AbortSignal.any() could be collected, so a server that
// accepts the connection and never answers held the preflight for undici's 300 s instead of its 30 s. The
// preflight and the /tokenize client run in a child process under --expose-gc that collects every 20 ms,
// against a server that accepts and stays silent.
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt } from '../helpers/build.js';

const sockets: Socket[] = [];
let server: Server | undefined;
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A TCP server that accepts every connection and never writes a byte. */
async function silentServer(): Promise<number> {
  server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

/** Runs `body` (an async function source using `mod`) in `node --expose-gc` with gc() every 20 ms; returns its JSON line. */
async function inChild(modulePath: string, body: string): Promise<{ ms: number; name: string; message: string }> {
  const script = `
    const mod = await import(${JSON.stringify(modulePath)});
    const gcTimer = setInterval(() => globalThis.gc(), 20);
    const t = performance.now();
    try { await (${body})(mod); console.log(JSON.stringify({ ms: performance.now() - t, name: 'none', message: 'resolved' })); }
    catch (e) { console.log(JSON.stringify({ ms: performance.now() - t, name: e.name, message: e.message })); }
    clearInterval(gcTimer);
    process.exit(0);`;
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  // A safety net far past the timeout under test (a collected timeout signal would wait 300 s).
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  clearTimeout(kill);
  const line = out.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`child gave no result (exit ${code}; a timeout that never fired is killed after 60 s): ${err.slice(0, 500)}`);
  return JSON.parse(line) as { ms: number; name: string; message: string };
}

describe('timeouts are honoured under garbage collection', () => {
  it('the preflight gives up on a silent server after its timeout, and says which timeout', async () => {
    expect(ensureBuilt(join(ROOT, 'dist/client/preflight.js'))).toBe(true);
    const port = await silentServer();
    const r = await inChild(
      join(ROOT, 'dist/client/preflight.js'),
      `(m) => m.preflight({ baseUrl: 'http://127.0.0.1:${port}/v1', model: 'x', apiKey: undefined, endpoint: 'chat', userIdHeader: 'x-user-id', timeoutMs: 1500 })`,
    );
    expect(r.name).toBe('TargetError');
    expect(r.message).toMatch(/no answer within 1\.5 s \(the server accepted the connection but did not answer\)/);
    expect(r.message).not.toMatch(/--request-timeout/);
    expect(r.ms).toBeGreaterThanOrEqual(1500 - 1);
    expect(r.ms).toBeLessThan(1500 + 1000);
  });

  it('the /tokenize client gives up on a silent server after its timeout', async () => {
    expect(ensureBuilt(join(ROOT, 'dist/client/server-tokenizer.js'))).toBe(true);
    const port = await silentServer();
    const r = await inChild(
      join(ROOT, 'dist/client/server-tokenizer.js'),
      `async (m) => { const t = await m.ServerTokenizer.connect({ baseUrl: 'http://127.0.0.1:${port}/v1', model: 'x', apiKey: undefined, timeoutMs: 1500 }); await t.tokenize('hello'); }`,
    );
    expect(r.name).toBe('TargetError');
    expect(r.message).toMatch(/no answer within 1\.5 s/);
    expect(r.ms).toBeGreaterThanOrEqual(1500 - 1);
    expect(r.ms).toBeLessThan(1500 + 1000);
  });
});
