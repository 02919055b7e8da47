// Real-engine test helpers: locate (or build) llama-server and the test model through the scripts and their
// cache, start llama-server processes on 127.0.0.1 and always stop them, and read their /metrics, /tokenize
// and /apply-template. Used by test/engine/*.test.ts (npm run test:engine), never by the default test run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Threads per llama-server (-t and -tb). Measured on the 2-core test machine (threads.test.ts, THREADS_NOTE):
 * two servers with 2 threads each decode 10x slower than with 1 (82.9 vs 8.5 ms/token), so 1 it is.
 */
export const DEFAULT_THREADS = Number(process.env.PD_BENCH_ENGINE_THREADS ?? 1);

/**
 * Test model shape (scripts/make-test-model.mjs flags): DESIGN's 512 hidden x 8 layers f16, 117 MB, written in
 * about 1 s; on one thread it decodes at 5-7 ms/token alone and computes prompts at ~800 tokens/s, so a
 * 13-request run of 300-500-token prompts takes about 8 s per topology.
 */
export const DEFAULT_MODEL_ARGS = (process.env.PD_BENCH_ENGINE_MODEL_ARGS ?? '--hidden 512 --layers 8').split(/\s+/).filter(Boolean);

export interface EngineFiles {
  bin: string;
  model: string;
  /** The llama.cpp source checkout the binary was built from (holds the vocabulary files). */
  srcDir: string;
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}

/** Runs the build and model scripts (both return at once from their cache) and returns the paths. */
export function ensureEngineFiles(): EngineFiles {
  const build = spawnSync('bash', [join(ROOT, 'scripts/build-llama-server.sh')], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (build.status !== 0) throw new Error(`scripts/build-llama-server.sh failed (exit ${build.status})`);
  const bin = lastLine(build.stdout);
  if (!existsSync(bin)) throw new Error(`build-llama-server.sh printed ${bin}, which does not exist`);
  // <cache>/llama.cpp-<commit>/bin-<cpu>/llama-server -> <cache>/llama.cpp-<commit>/src
  const srcDir = resolve(dirname(bin), '..', 'src');
  const vocab = join(srcDir, 'models', 'ggml-vocab-llama-spm.gguf');
  const gen = spawnSync(process.execPath, [join(ROOT, 'scripts/make-test-model.mjs'), '--vocab', vocab, ...DEFAULT_MODEL_ARGS], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (gen.status !== 0) throw new Error(`scripts/make-test-model.mjs failed (exit ${gen.status})`);
  const model = lastLine(gen.stdout);
  if (!existsSync(model)) throw new Error(`make-test-model.mjs printed ${model}, which does not exist`);
  return { bin, model, srcDir };
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolvePort(port));
    });
  });
}

export interface LlamaServerOptions {
  files: EngineFiles;
  /** Parallel slots (-np). Each slot gets ctx / slots tokens of context. */
  slots: number;
  /** Total context (-c) over all slots. */
  ctx?: number;
  threads?: number;
  /** Name served in /v1/models and accepted in requests (--alias). */
  alias?: string;
  extraArgs?: string[];
}

/** Every server this process started and has not stopped yet: the exit hooks below kill what is left. */
const running = new Set<LlamaServer>();

export class LlamaServer {
  readonly port: number;
  readonly child: ChildProcess;
  /** http://127.0.0.1:PORT (the root: /health, /metrics, /tokenize). */
  readonly root: string;
  /** The OpenAI-compatible base, ROOT/v1. */
  readonly baseUrl: string;
  readonly args: string[];
  #log: string[] = [];
  #exited: Promise<void>;
  exitCode: number | null | undefined;

  private constructor(port: number, child: ChildProcess, args: string[]) {
    this.port = port;
    this.child = child;
    this.args = args;
    this.root = `http://127.0.0.1:${port}`;
    this.baseUrl = `${this.root}/v1`;
    const keep = (b: Buffer): void => {
      this.#log.push(b.toString('utf8'));
      if (this.#log.length > 400) this.#log.splice(0, this.#log.length - 400);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise((r) => {
      const done = (code: number | null): void => {
        this.exitCode = code;
        running.delete(this);
        r();
      };
      child.once('exit', done);
      // Spawning failed (no binary): there will be no 'exit'.
      child.once('error', (err) => {
        this.#log.push(`spawn failed: ${err.message}\n`);
        if (child.pid === undefined) done(-1);
      });
    });
  }

  /** The last lines llama-server printed (for failure messages). */
  logTail(lines = 30): string {
    return this.#log.join('').split('\n').slice(-lines).join('\n');
  }

  static async start(o: LlamaServerOptions): Promise<LlamaServer> {
    installExitHooks();
    const threads = o.threads ?? DEFAULT_THREADS;
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const args = [
        '-m', o.files.model,
        '--host', '127.0.0.1',
        '--port', String(port),
        '-np', String(o.slots),
        '-c', String(o.ctx ?? 4096 * o.slots),
        '-t', String(threads),
        '-tb', String(threads),
        '--metrics',
        // Random weights would end answers at once; every answer gets exactly max_tokens.
        '--ignore-eos',
        '--alias', o.alias ?? 'pd-bench-test-llama',
        '--no-webui',
        ...(o.extraArgs ?? []),
      ];
      // setpriv --pdeathsig: the server dies with this process even if it is SIGKILLed (no exit hook runs then).
      const [cmd, cmdArgs] = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '--', o.files.bin, ...args]] : [o.files.bin, args];
      // detached: its own process group, so stop() can kill the group.
      const child = spawn(cmd, cmdArgs, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const s = new LlamaServer(port, child, args);
      running.add(s);
      try {
        await s.#waitHealthy(120_000);
        return s;
      } catch (err) {
        const tail = s.logTail();
        await s.stop();
        // Another process may have taken the port between freePort() and bind(): try again on a new one.
        if (attempt < 2 && /bind|address already in use/i.test(tail)) continue;
        throw new Error(`llama-server did not become healthy: ${(err as Error).message}\n${tail}`);
      }
    }
  }

  async #waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) throw new Error(`exited with code ${this.exitCode}`);
      try {
        const res = await fetch(`${this.root}/health`, { signal: AbortSignal.timeout(2000) });
        await res.text();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no 200 from ${this.root}/health within ${timeoutMs / 1000} s`);
  }

  /** SIGTERM to the process group, SIGKILL after 5 s; resolves when the process has exited. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    killGroup(this.child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(this.child, 'SIGKILL'), 5000);
    await this.#exited;
    clearTimeout(timer);
  }

  async metrics(): Promise<Map<string, number>> {
    const res = await fetch(`${this.root}/metrics`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status}: ${text}`);
    return parsePrometheus(text);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(`${this.root}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`POST ${path}: HTTP ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  /** The prompt tokens the server computes for these chat messages: its template, then /tokenize with BOS and special tokens. */
  async chatTokens(messages: readonly { role: string; content: string }[]): Promise<number[]> {
    const { prompt } = await this.post<{ prompt: string }>('/apply-template', { messages });
    const { tokens } = await this.post<{ tokens: number[] }>('/tokenize', { content: prompt, add_special: true, parse_special: true });
    return tokens;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL the groups of whatever is still running.
  process.on('exit', () => {
    for (const s of running) killGroup(s.child, 'SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const s of running) killGroup(s.child, 'SIGKILL');
      process.kill(process.pid, sig);
    });
  }
}

/** Stops every server this process started (afterAll). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

/** Prometheus text to a map of `name{labels}` (or bare name) -> value. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) out.set((m[1] as string) + (m[2] ?? ''), Number(m[3]));
  }
  return out;
}

/** b - a for one counter (a missing counter fails loudly rather than reading as zero). */
export function counterDelta(a: Map<string, number>, b: Map<string, number>, name: string): number {
  const x = a.get(name);
  const y = b.get(name);
  if (x === undefined || y === undefined) throw new Error(`metric ${name} missing from /metrics (have: ${[...b.keys()].join(', ')})`);
  return y - x;
}
