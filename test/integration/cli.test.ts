// The CLI as a user runs it: `node bin/pd-bench.js` in a child process against a mock started in this process.
// Output files and their columns, exit codes (0, 2, 4, 130), one-line input errors that send nothing, the API
// key never leaking, SIGINT keeping everything measured, and --help listing every option with its default.
// The child is spawned asynchronously: the mock lives on this process's event loop and must keep serving.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RUN_OPTIONS } from '../../src/config/options.js';
import { ROOT, ensureBuilt } from '../helpers/build.js';
import { startMock, type MockKnobs, type MockPerRequest, type MockRequestInfo, type StartedMock } from '../helpers/mock-openai.js';
import { alive } from '../helpers/process.js';

const BIN = join(ROOT, 'bin', 'pd-bench.js');
const MAIN_JS = join(ROOT, 'dist', 'cli', 'main.js');

beforeAll(() => {
  expect(ensureBuilt(MAIN_JS), 'dist/cli/main.js: build with npx tsc -p tsconfig.build.json').toBe(true);
}, 120_000);

const mocks: StartedMock[] = [];
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await Promise.all(mocks.splice(0).map((m) => m.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function mock(knobs: Partial<MockKnobs> = {}, perRequest?: MockPerRequest): Promise<StartedMock> {
  const m = await startMock({ ttftMs: 10, itlMs: 2, ...knobs }, perRequest);
  mocks.push(m);
  return m;
}

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pd-bench-cli-'));
  dirs.push(d);
  return d;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  done: Promise<Exit>;
}

/** Starts the CLI; the environment holds no OPENAI_API_KEY unless given. */
function start(args: string[], env: Record<string, string> = {}, launcher: string[] = []): Running {
  const base = { ...process.env };
  delete base.OPENAI_API_KEY;
  delete base.PD_BENCH_SINGLE_THREADED_GC;
  const argv = [...launcher, process.execPath, BIN, ...args];
  const child = spawn(argv[0] as string, argv.slice(1), { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

async function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000, launcher: string[] = []): Promise<Exit> {
  const r = start(args, env, launcher);
  const timer = setTimeout(() => r.child.kill('SIGKILL'), timeoutMs);
  try {
    return await r.done;
  } finally {
    clearTimeout(timer);
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

const chatRequests = (m: StartedMock): MockRequestInfo[] => m.server.requests.filter((r) => r.path === '/v1/chat/completions');
/** The preflight's short request is max_tokens 2; the run's are --answer-len. */
const isPreflight = (r: MockRequestInfo): boolean => (r.body as { max_tokens?: number } | undefined)?.max_tokens === 2;

/** RFC 4180 CSV (quoted fields, doubled quotes, newlines inside quotes), as csv-stringify writes it. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      records.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    records.push(row);
  }
  return records;
}

type Row = Record<string, string>;
function readCsv(path: string): { header: string[]; rows: Row[] } {
  const text = readFileSync(path, 'utf8');
  const records = parseCsv(text) as string[][];
  const header = records[0] ?? [];
  const rows = records.slice(1).map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
  return { header, rows };
}

const MRQA_COLUMNS = ['prompt_tokens', 'generation_tokens', 'ttft', 'generation_time', 'user_id', 'question_id', 'launch_time', 'finish_time'];

/** Small, fast workload flags for runs that are not about the scenario. */
const SMALL = ['--num-users', '2', '--num-rounds', '2', '--qps', '4', '--answer-len', '4', '--shared-system-prompt', '10', '--user-history-prompt', '20'];

function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('pd-bench run: outputs', () => {
  it('run --scenario run-pd writes requests.csv, summary.json and summary.csv; the --api-key never leaks', async () => {
    const KEY = 'sk-cli-flag-SECRET-7f3a9c';
    const m = await mock();
    const out = tmp();
    const wallStart = Date.now() / 1000;
    const r = await cli(['run', '--scenario', 'run-pd', '--base-url', m.url, '--time', '5', '--output-dir', out, '--api-key', KEY]);
    const wallEnd = Date.now() / 1000;
    expect(r.stderr + r.stdout, r.stderr).not.toContain('unexpected error');
    expect(r.code, r.stderr).toBe(0);

    // requests.csv: multi-round-qa's 8 columns first, then pd-bench's; one row per measured request.
    const { header, rows } = readCsv(join(out, 'requests.csv'));
    expect(header.slice(0, 8)).toEqual(MRQA_COLUMNS);
    expect(header).toEqual(expect.arrayContaining(['request_id', 'phase', 'outcome', 'error_class', 'ttft_ms', 'late', 'token_source']));
    const measuredAtServer = chatRequests(m).filter((q) => !isPreflight(q));
    expect(rows.length).toBeGreaterThanOrEqual(5); // run-pd: ~2.2 req/s for 5 s
    expect(rows).toHaveLength(measuredAtServer.length);
    for (const row of rows) {
      expect(row.phase).toBe('measure');
      expect(row.outcome).toBe('ok');
      expect(Number(row.generation_tokens)).toBe(50); // run-pd answer-len, from the server's usage
      expect(Number(row.ttft)).toBeGreaterThanOrEqual(0.01); // seconds; the mock's TTFT is 10 ms
      expect(Number(row.ttft) * 1000).toBeCloseTo(Number(row.ttft_ms), 1);
      expect(Number(row.generation_time)).toBeGreaterThan(0);
      expect(['1', '2']).toContain(row.question_id);
      expect(row.user_id).toMatch(/^\d+$/);
      const launch = Number(row.launch_time);
      const finish = Number(row.finish_time);
      expect(launch).toBeGreaterThanOrEqual(wallStart - 1);
      expect(finish).toBeLessThanOrEqual(wallEnd + 1);
      expect(finish).toBeGreaterThan(launch);
    }
    // Prompt tokens are the server's count (usage), request for request.
    const serverPrompt = measuredAtServer.map((q) => q.promptTokens).sort((a, b) => a - b);
    expect(rows.map((row) => Number(row.prompt_tokens)).sort((a, b) => a - b)).toEqual(serverPrompt);
    // Every request carried the session header and the key as a bearer token.
    for (const q of chatRequests(m)) {
      expect(q.headers['x-user-id']).toMatch(/^\d+$/);
      expect(q.headers.authorization).toBe(`Bearer ${KEY}`);
    }

    // summary.json: versioned result, vLLM-compatible keys, config without secrets.
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, any>;
    expect(summary.schema).toBe('pd-bench/run-result');
    expect(summary.interrupted).toBe(false);
    expect(summary.counts.launched).toBe(rows.length);
    expect(summary.counts.ok).toBe(rows.length);
    for (const k of ['mean_ttft_ms', 'p99_itl_ms', 'request_throughput', 'output_throughput']) expect(typeof summary.vllm[k], k).toBe('number');
    expect(summary.vllm.mean_ttft_ms).toBeGreaterThanOrEqual(10);
    // Was "p99 ITL >= 2 ms": single gaps are not ordered (a mock running late catches up in a burst); the whole
    // answer is: it cannot end before TTFT + 49 ITL.
    expect(summary.vllm.mean_e2el_ms).toBeGreaterThanOrEqual(10 + 49 * 2);
    expect(summary.vllm.request_throughput).toBeGreaterThan(0);
    expect(summary.vllm.output_throughput).toBeGreaterThan(summary.vllm.request_throughput);
    expect(summary.vllm.completed).toBe(rows.length);
    expect(summary.config.apiKey).toBe('<redacted>');
    expect(summary.config.numUsers).toBe(120);
    expect(summary.config.time).toBe(5);
    expect(summary.scenario).toBe('run-pd');
    // run_pd.sh's 2 rounds at "1.1 QPS" launch 2.2 req/s: configured, expected and measured side by side.
    expect(summary.throughput.configuredQps).toBe(1.1);
    expect(summary.throughput.expectedRate).toBeCloseTo(2.2, 6);
    expect(summary.throughput.launchRate).toBeCloseTo(rows.length / 5, 6);
    expect(summary.throughput.launchRate).toBeGreaterThan(1.4);
    expect(summary.throughput.launchRate).toBeLessThan(3);

    // summary.csv: a header and exactly one data row agreeing with summary.json.
    const sc = readCsv(join(out, 'summary.csv'));
    expect(sc.rows).toHaveLength(1);
    const one = sc.rows[0] as Row;
    expect(Number(one.ok)).toBe(summary.counts.ok);
    expect(Number(one.launched)).toBe(summary.counts.launched);
    expect(Number(one.request_throughput)).toBeCloseTo(summary.vllm.request_throughput, 6);

    // The key is nowhere: not in any file written, not on the console.
    const written = filesIn(out);
    expect(written.map((f) => f.slice(out.length + 1)).sort()).toEqual(['requests.csv', 'requests.jsonl', 'summary.csv', 'summary.json']);
    for (const f of written) expect(readFileSync(f, 'utf8'), f).not.toContain(KEY);
    expect(r.stdout).not.toContain(KEY);
    expect(r.stderr).not.toContain(KEY);
    expect(r.stdout.length).toBeGreaterThan(0); // the summary table is printed
  });

  it('an OPENAI_API_KEY from the environment is used but never written or printed', async () => {
    const KEY = 'sk-env-SECRET-b41d0e';
    const m = await mock();
    const out = tmp();
    const r = await cli(['run', '--base-url', m.url, '--time', '1', ...SMALL, '--output-dir', out], { OPENAI_API_KEY: KEY });
    expect(r.code, r.stderr).toBe(0);
    const reqs = chatRequests(m);
    expect(reqs.length).toBeGreaterThanOrEqual(2);
    for (const q of m.server.requests) expect(q.headers.authorization).toBe(`Bearer ${KEY}`);
    const written = filesIn(out);
    expect(written).toHaveLength(4);
    for (const f of written) expect(readFileSync(f, 'utf8'), f).not.toContain(KEY);
    expect(r.stdout + r.stderr).not.toContain(KEY);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { config: { apiKey: unknown } };
    expect(summary.config.apiKey).toBe('<redacted>');
  });

  it('a target that rejects the key (HTTP 401) fails the preflight with exit 4, without echoing the key', async () => {
    const KEY = 'sk-never-echo-92aa';
    // failStatus hits generation requests only: GET /models succeeds, the preflight's short request gets 401.
    const m = await mock({ failStatus: 401 });
    const out = tmp();
    const r = await cli(['run', '--base-url', m.url, '--time', '1', ...SMALL, '--output-dir', out, '--api-key', KEY]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/HTTP 401/);
    expect(r.stderr).toContain(`${m.url}/chat/completions`);
    expect(chatRequests(m)).toHaveLength(1); // the preflight only: no measured traffic
    expect(r.stdout + r.stderr).not.toContain(KEY);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
  });
});

describe('pd-bench with --base-url and no command', () => {
  it('behaves like run: measures the target and writes the files', async () => {
    const m = await mock();
    const out = tmp();
    const r = await cli(['--base-url', m.url, '--time', '1', ...SMALL, '--output-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { counts: { ok: number; launched: number }; target: { baseUrl: string } };
    expect(s.target.baseUrl).toBe(m.url);
    expect(s.counts.launched).toBeGreaterThan(0);
    expect(s.counts.ok).toBe(s.counts.launched);
    expect(chatRequests(m).filter((q) => !isPreflight(q))).toHaveLength(s.counts.launched);
  });
});

describe('pd-bench mock', () => {
  it('serves the exact TTFT/ITL it was given until SIGINT, and pd-bench run measures at least that', async () => {
    const server = start(['mock', '--port', '0', '--ttft-ms', '40', '--itl-ms', '4']);
    let err = '';
    server.child.stderr?.on('data', (s: string) => (err += s));
    const ready = await until(() => /http:\/\/127\.0\.0\.1:\d+\/v1/.test(err), 15_000);
    expect(ready, err).toBe(true);
    const url = (/http:\/\/127\.0\.0\.1:\d+\/v1/.exec(err) as RegExpExecArray)[0];
    const out = tmp();
    const r = await cli(['run', '--base-url', url, '--time', '1', ...SMALL, '--output-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { counts: { ok: number }; vllm: Record<string, number>; target: { model: string } };
    expect(s.counts.ok).toBeGreaterThan(0);
    expect(s.target.model).toBe('mock-model'); // from GET /models
    expect(s.vllm.mean_ttft_ms).toBeGreaterThanOrEqual(40);
    // Was "mean TPOT >= 0.9 ITL": TPOT is (E2E - TTFT) / 3 here, and a first token that arrives late shrinks it
    // (failed on an idle machine too). The ordering that always holds: an answer of 4 tokens ends no earlier
    // than TTFT + 3 ITL after it was sent.
    expect(s.vllm.mean_e2el_ms).toBeGreaterThanOrEqual(40 + 3 * 4);
    server.child.kill('SIGINT');
    const exit = await server.done;
    expect(exit.code).toBe(0);
  });
});

describe('pd-bench run: a QPS sweep', () => {
  it('--qps 4,8 writes one folder per point and a top-level summary.csv with one row per point', async () => {
    const m = await mock();
    const out = tmp();
    const small = SMALL.filter((_, i) => SMALL[i] !== '--qps' && SMALL[i - 1] !== '--qps');
    const r = await cli(['run', '--base-url', m.url, '--time', '1', '--qps', '4,8', '--pause', '0', ...small, '--output-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    let total = 0;
    for (const q of ['4', '8']) {
      const dir = join(out, `qps-${q}`);
      for (const f of ['requests.csv', 'summary.json', 'summary.csv']) expect(existsSync(join(dir, f)), `qps-${q}/${f}`).toBe(true);
      const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { schedule: { configuredQps: number }; counts: { launched: number } };
      expect(s.schedule.configuredQps).toBe(Number(q));
      expect(readCsv(join(dir, 'requests.csv')).rows).toHaveLength(s.counts.launched);
      total += s.counts.launched;
    }
    const top = readCsv(join(out, 'summary.csv'));
    expect(top.rows.map((row) => Number(row.configured_qps))).toEqual([4, 8]);
    expect(chatRequests(m).filter((q) => !isPreflight(q))).toHaveLength(total);
  });
});

describe('pd-bench run: bad input', () => {
  it.each([
    [['--num-users', '0'], '--num-users'],
    [['--qps', 'fast'], '--qps'],
    [['--time', '-5'], '--time'],
    [['--endpoint', 'grpc'], '--endpoint'],
    [['--preaged-history', 'sometimes'], '--preaged-history'],
    [['--scenario', 'no-such-scenario'], '--scenario'],
    [['--bogus-flag', '3'], '--bogus-flag'], // commander's own error: names the flag, not the value
  ])('%j: one stderr line naming %s, exit 2, nothing sent', async (flags, field) => {
    const m = await mock();
    const out = join(tmp(), 'never');
    const r = await cli(['run', '--base-url', m.url, '--output-dir', out, ...flags]);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(field);
    if (field !== '--bogus-flag') expect(lines[0]).toContain(JSON.stringify(flags[1]));
    expect(m.server.requests).toHaveLength(0);
    expect(existsSync(join(out, 'requests.csv'))).toBe(false);
  });

  it('run without --base-url is invalid input naming --base-url', async () => {
    const r = await cli(['run', '--time', '1']);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--base-url');
  });
});

describe('pd-bench run: unreachable target', () => {
  it('a closed port exits 4 with the URL in the message', async () => {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const url = `http://127.0.0.1:${port}/v1`;
    const out = tmp();
    const r = await cli(['run', '--base-url', url, '--time', '1', ...SMALL, '--output-dir', out]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(url);
    expect(r.stderr).toMatch(/ECONNREFUSED|cannot reach/);
    expect(r.stderr).not.toContain('unexpected error');
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
  });
});

describe('pd-bench run: wrong target', () => {
  it('a base URL that is not the /v1 root (GET /models is 404) exits 4 with the URL and the status', async () => {
    const m = await mock();
    const url = m.url.replace(/\/v1$/, '/api');
    const r = await cli(['run', '--base-url', url, '--time', '1', ...SMALL, '--output-dir', tmp()]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`${url}/models`);
    expect(r.stderr).toContain('404');
    expect(chatRequests(m)).toHaveLength(0);
  });
});

describe('pd-bench run: interrupted', () => {
  it.each([
    ['SIGINT', 'unset'],
    ['SIGTERM', 'unset'],
    ['SIGINT', '1'],
  ] as const)('rows reach requests.csv while running; %s exits 130, writes all three files, in-flight requests cancelled (PD_BENCH_SINGLE_THREADED_GC=%s)', async (sig, gc) => {
    // The preflight and the first 3 measured requests are quick; later ones hang so they are in flight at the interrupt.
    let measured = 0;
    const m = await mock({ ttftMs: 5, itlMs: 1 }, (info) => {
      if (info.path !== '/v1/chat/completions' || isPreflight(info)) return undefined;
      return ++measured <= 3 ? undefined : { ttftMs: 60_000 };
    });
    const out = tmp();
    const csvPath = join(out, 'requests.csv');
    const run = start(['run', '--base-url', m.url, '--time', '60', '--num-users', '4', '--num-rounds', '3', '--qps', '8', '--answer-len', '4',
      '--shared-system-prompt', '10', '--user-history-prompt', '20', '--output-dir', out], gc === '1' ? { PD_BENCH_SINGLE_THREADED_GC: gc } : {});
    const dataRows = (): number => (existsSync(csvPath) ? readCsv(csvPath).rows.length : 0);
    // requests.csv is streamed: finished requests are on disk while the run goes on.
    expect(await until(() => dataRows() >= 3, 20_000), 'no rows streamed to requests.csv').toBe(true);
    expect(run.child.exitCode).toBeNull();
    const hung = (): number => chatRequests(m).filter((q) => !isPreflight(q)).length - 3;
    expect(await until(() => hung() >= 2, 20_000), 'the run never had two requests in flight').toBe(true);
    const inFlightAtInterrupt = hung();
    run.child.kill(sig);
    // A safety net, not a speed bound (was also "exited < 10 s after the signal"): the hung requests would take
    // 60 s, so exiting at all before that shows the run did not wait for them; the rows below show it cancelled them.
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 40_000);
    const r = await run.done;
    clearTimeout(timer);
    expect(r.signal, `the run did not exit within 40 s of ${sig} and was killed`).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain(sig);

    for (const f of ['requests.csv', 'summary.json', 'summary.csv']) expect(existsSync(join(out, f)), f).toBe(true);
    const { header, rows } = readCsv(csvPath);
    expect(header.slice(0, 8)).toEqual(MRQA_COLUMNS);
    const ok = rows.filter((row) => row.outcome === 'ok');
    const cancelled = rows.filter((row) => row.outcome === 'cancelled');
    expect(ok).toHaveLength(3);
    expect(cancelled.length).toBeGreaterThanOrEqual(inFlightAtInterrupt);
    expect(ok.length + cancelled.length).toBe(rows.length);
    for (const row of cancelled) {
      expect(row.error_class).toBe('cancelled');
      expect(row.error_message).toContain(sig);
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, any>;
    expect(summary.interrupted).toBe(true);
    expect(summary.counts.ok).toBe(3);
    expect(summary.counts.cancelled).toBe(cancelled.length);
    expect(summary.counts.launched).toBe(rows.length);
    expect(summary.counts.launched).toBe(summary.counts.ok + summary.counts.failed + summary.counts.cancelled);
    const sc = readCsv(join(out, 'summary.csv'));
    expect(sc.rows).toHaveLength(1);
    expect(sc.rows[0]?.interrupted).toBe('true');
    // With the flag asked for, the signal went to the launcher, which passed it on once to the run it started.
    expect(summary.environment.nodeFlags.includes('--single-threaded-gc')).toBe(gc === '1');
  });
});

describe('pd-bench run: the single-CPU launcher', () => {
  /** A run under the launcher (PD_BENCH_SINGLE_THREADED_GC=1) with 3 quick requests done and later ones hanging. */
  async function hangingRun(): Promise<{ run: Running; out: string; runPid: number }> {
    let measured = 0;
    const m = await mock({ ttftMs: 5, itlMs: 1 }, (info) => {
      if (info.path !== '/v1/chat/completions' || isPreflight(info)) return undefined;
      return ++measured <= 3 ? undefined : { ttftMs: 60_000 };
    });
    const out = tmp();
    const run = start(['run', '--base-url', m.url, '--time', '60', '--num-users', '4', '--num-rounds', '3', '--qps', '8', '--answer-len', '4',
      '--shared-system-prompt', '10', '--user-history-prompt', '20', '--output-dir', out], { PD_BENCH_SINGLE_THREADED_GC: '1' });
    expect(await until(() => chatRequests(m).filter((q) => !isPreflight(q)).length >= 5, 20_000), 'the run never had requests in flight').toBe(true);
    // The run itself is the launcher's child: the node process started with --single-threaded-gc and this output dir.
    const found = spawnSync('pgrep', ['-f', '--', `--single-threaded-gc .*${out}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter((x) => x);
    expect(found, 'the relaunched run').toHaveLength(1);
    return { run, out, runPid: Number(found[0]) };
  }

  const summaryOf = (out: string): Record<string, any> => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, any>;

  it('a SIGTERM sent to every process of the job (pkill, systemd, Slurm) counts once: results written, exit 130', async () => {
    const { run, out, runPid } = await hangingRun();
    // The launcher passes its copy on, so the run gets the signal twice within a few ms.
    process.kill(runPid, 'SIGTERM');
    run.child.kill('SIGTERM');
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 40_000); // a safety net: the run must exit on its own
    const r = await run.done;
    clearTimeout(timer);
    expect(r.signal, 'the launcher did not exit within 40 s of SIGTERM and was killed').toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(summaryOf(out).interrupted).toBe(true);
    expect(summaryOf(out).counts.ok).toBe(3);
  });

  it('a launcher killed with SIGKILL does not leave the run going on alone: it stops and writes its results', async () => {
    const { run, out, runPid } = await hangingRun();
    run.child.kill('SIGKILL');
    await run.done;
    expect(await until(() => !alive(runPid), 40_000), 'the run outlived its launcher (40 s)').toBe(true);
    expect(summaryOf(out).interrupted).toBe(true);
    expect(summaryOf(out).counts.ok).toBe(3);
    expect(summaryOf(out).counts.cancelled).toBeGreaterThanOrEqual(2);
  });
});

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasTaskset)('pd-bench on one CPU', () => {
  const shortRun = (out: string, url: string): string[] =>
    ['run', '--base-url', url, '--time', '2', '--num-users', '2', '--num-rounds', '2', '--qps', '4', '--answer-len', '4',
      '--shared-system-prompt', '10', '--user-history-prompt', '20', '--output-dir', out];

  it('restarts itself under node --single-threaded-gc (V8\'s GC threads would stall the loop), and the results record it', async () => {
    const m = await mock({ ttftMs: 5, itlMs: 1 });
    const out = tmp();
    const r = await cli(shortRun(out, m.url), {}, 30_000, ['taskset', '-c', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('TTFT');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, any>;
    expect(summary.environment.availableCpus).toBe(1);
    expect(summary.environment.nodeFlags).toContain('--single-threaded-gc');
    expect(summary.counts.ok).toBeGreaterThan(0);
  });

  it('PD_BENCH_SINGLE_THREADED_GC=0 keeps Node\'s defaults; a bad exit code passes through the launcher', async () => {
    const m = await mock({ ttftMs: 5, itlMs: 1 });
    const out = tmp();
    const r = await cli(shortRun(out, m.url), { PD_BENCH_SINGLE_THREADED_GC: '0' }, 30_000, ['taskset', '-c', '0']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, any>;
    expect(summary.environment.availableCpus).toBe(1);
    expect(summary.environment.nodeFlags).not.toContain('--single-threaded-gc');
    const bad = await cli(['run', '--base-url', m.url, '--qps', '-1', '--output-dir', join(out, 'never')], {}, 30_000, ['taskset', '-c', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n').filter((l) => l.trim() !== ''), bad.stderr).toHaveLength(1);
  });
});

describe('pd-bench --help', () => {
  /** Option entries of a commander help text: flag -> its description with wrapped lines joined. */
  function helpEntries(text: string): Map<string, string> {
    const entries = new Map<string, string>();
    let current: string | undefined;
    for (const line of text.split('\n')) {
      const m = /^ {2}(?:-\w, )?(--[\w-]+)(.*)$/.exec(line);
      if (m) {
        current = m[1] as string;
        entries.set(current, (m[2] as string).trim());
      } else if (current && /^ {10,}\S/.test(line)) {
        entries.set(current, `${entries.get(current) ?? ''} ${line.trim()}`);
      } else {
        current = undefined;
      }
    }
    return entries;
  }

  function expectEveryRunOption(help: string): void {
    const entries = helpEntries(help);
    for (const o of RUN_OPTIONS) {
      if (o.type === 'bool') {
        const flag = o.default === true ? `--no-${o.name}` : `--${o.name}`;
        const e = entries.get(flag);
        expect(e, flag).toBeDefined();
        expect(e, flag).toMatch(o.default === true ? /\(default: [\w-]+ on\)/ : /\(default: off\)/);
        continue;
      }
      const e = entries.get(`--${o.name}`);
      expect(e, `--${o.name}`).toBeDefined();
      if (o.default !== undefined) {
        const v = Array.isArray(o.default) ? o.default.join(',') : String(o.default);
        expect(e, `--${o.name}`).toContain(`(default: ${v}${o.unit ? ` ${o.unit}` : ''})`);
      } else {
        expect(e, `--${o.name}`).toMatch(/default|\$OPENAI_API_KEY|e\.g\./);
      }
    }
    expect(entries.get('--output-dir')).toContain('default: results/<run-id>');
    expect(entries.has('--scenario')).toBe(true);
  }

  it('pd-bench --help lists the commands and every run option with its default', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['run', 'scenarios', 'sim', 'mock']) expect(r.stdout).toMatch(new RegExp(`^ {2}${cmd} `, 'm'));
    expectEveryRunOption(r.stdout);
    expect(helpEntries(r.stdout).get('--num-users')).toContain('(default: 10)');
  });

  it('pd-bench run --help lists every run option with its default and unit', async () => {
    const r = await cli(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: pd-bench run/);
    expectEveryRunOption(r.stdout);
    const e = helpEntries(r.stdout);
    expect(e.get('--qps')).toContain('(default: 1 req/s)');
    expect(e.get('--time')).toContain('(default: 60 s)');
    expect(e.get('--answer-len')).toContain('(default: 100 tokens)');
  });
});
