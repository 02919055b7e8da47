// --workers against the mock over real sockets: two worker threads send exactly the workload one thread sends
// (the same (user, round) turns with the same prompt bytes, as the mock received them, and the same request
// count, with no request-id collisions); an abort cancels in-flight turns in every worker and still returns the
// merged result; and the CLI path writes a requests.csv row for every request and a summary.json that agrees.
// The worker threads run the compiled build (dist/), rebuilt here when older than src/ as the CLI tests do.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/run-command.js';
import type { RunConfig } from '../../src/config/options.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { ConfigError, TargetError } from '../../src/errors.js';
import { runWithWorkers, WorkerCrashError, type WorkerRunOptions } from '../../src/driver/worker-pool.js';
import type { RequestRecord } from '../../src/result/record.js';
import type { RunResult } from '../../src/result/schema.js';
import type { ScrapeResult, ServerScraper } from '../../src/scrape/types.js';
import { ROOT, ensureBuilt } from '../helpers/build.js';
import { startMock, type MockKnobs, type StartedMock } from '../helpers/mock-openai.js';
import { firstTurnsInWindow } from '../helpers/schedule.js';

const WORKER_JS = join(ROOT, 'dist', 'driver', 'worker-main.js');

beforeAll(() => {
  expect(ensureBuilt(WORKER_JS), 'dist/driver/worker-main.js: build with npm run build').toBe(true);
}, 120_000);

const mocks: StartedMock[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function mock(knobs: Partial<MockKnobs> = {}): Promise<StartedMock> {
  const m = await startMock({ ttftMs: 5, itlMs: 1, ...knobs });
  mocks.push(m);
  return m;
}

type FullConfig = RunConfig & { baseUrl: string; model: string };

function config(m: StartedMock, over: Partial<RunConfig> = {}): FullConfig {
  const { config: base } = resolveConfig({ flags: {} });
  return {
    ...base,
    numUsers: 6,
    numRounds: 3,
    qps: [12],
    sharedSystemPrompt: 100,
    userHistoryPrompt: 100,
    answerLen: 6,
    time: 1.5,
    drainTimeout: 20,
    requestTimeout: 20,
    seed: 3,
    ...over,
    baseUrl: m.url,
    model: 'mock-model',
  };
}

interface Ran {
  result: RunResult;
  records: RequestRecord[];
}

async function run(cfg: FullConfig, workers: number, signal?: AbortSignal, extra: Partial<WorkerRunOptions> = {}): Promise<Ran> {
  const records: RequestRecord[] = [];
  const result = await runWithWorkers({ config: { ...cfg, workers }, qps: cfg.qps[0] as number, runId: 'test', scenario: 'test', workers, onRecord: (r) => records.push(r), ...extra }, signal);
  return { result, records };
}

/** (user, round) -> request body as the mock received it. */
function seen(m: StartedMock): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const q of m.server.requests.filter((r) => r.path === '/v1/chat/completions')) {
    const body = q.body as { messages: { role: string; content: string }[] };
    const lastUser = [...body.messages].reverse().find((x) => x.role === 'user');
    const round = /Here's question #(\d+):/.exec(lastUser?.content.split('\n\n').pop() ?? '')?.[1];
    const key = `${String(q.headers['x-user-id'])}:${round ?? '?'}`;
    const list = out.get(key) ?? [];
    list.push(JSON.stringify(q.body));
    out.set(key, list);
  }
  return out;
}

describe('--workers: the same workload as one worker', () => {
  it('2 workers send the same (user, round) turns with the same prompt bytes and count as 1, without id collisions', async () => {
    const one = await mock();
    const two = await mock();
    // 18 users at 12 QPS ask every 1.5 s, as long as the launch window: every turn due in it is its user's first,
    // which waits for nothing, so both runs launch exactly the schedule's turns however slowly requests come back
    // (with 6 users, a turn held up past the window by a slow answer was dropped from one run and not the other).
    const cfg = config(one, { numUsers: 18 });
    const a = await run(cfg, 1);
    // The scraper runs on the coordinating thread over the agreed measured phase.
    const scraped: ScrapeResult = { intervalS: 1, roles: [] };
    const calls: string[] = [];
    let origin = 0n;
    let t0 = 0n;
    const scraper: ServerScraper = {
      start: (o) => {
        calls.push('start');
        origin = o;
      },
      stop: () => {
        calls.push('stop');
        return Promise.resolve(scraped);
      },
    };
    const b = await run(config(two, { numUsers: 18 }), 2, undefined, { scraper, onStart: (s) => (t0 = s.t0) });
    expect(calls).toEqual(['start', 'stop']);
    expect(b.result.server).toEqual(scraped);
    const startMs = Number(origin - t0) / 1e6;
    expect(startMs).toBeGreaterThan(0);
    for (const r of b.records) expect(r.sentMs).toBeGreaterThanOrEqual(startMs);
    // User k = 0 joins at the start: its first turn is due then, on the coordinator's clock. (Was "sent < 300 ms
    // after the start", which is the machine's speed; the intended times are the schedule's, exactly.)
    expect(Math.min(...b.records.map((r) => r.intendedMs))).toBeCloseTo(startMs, 6);
    for (const r of b.records) expect(r.sentMs).toBeGreaterThanOrEqual(r.intendedMs);

    const seenA = seen(one);
    const seenB = seen(two);
    // Exactly the schedule's turns (25), not however many a fast machine fits in (was ">= 20").
    expect(a.result.counts.launched).toBe(firstTurnsInWindow({ ...cfg, qps: 12 }));
    expect(a.result.counts.launched).toBeGreaterThanOrEqual(20);
    // The same multiset of turns: every key once, the same keys, byte-identical bodies.
    expect([...seenB.keys()].sort()).toEqual([...seenA.keys()].sort());
    for (const [k, bodies] of seenA) {
      expect(bodies, k).toHaveLength(1);
      expect(seenB.get(k), k).toEqual(bodies);
    }
    expect(b.result.counts.launched).toBe(a.result.counts.launched);
    expect(b.result.counts.ok).toBe(a.result.counts.ok);
    expect(b.result.counts.unsent).toBe(0);
    expect(b.records).toHaveLength(b.result.counts.launched);
    expect(new Set(b.records.map((r) => r.id)).size).toBe(b.records.length);
    // Both workers took part, and their records are in the merged statistics.
    expect(new Set(b.records.map((r) => r.id % 2)).size).toBe(2);
    expect(b.result.metrics.ttft_ms.count).toBe(b.result.counts.ok);
    expect(b.result.tokens.completion).toBe(a.result.tokens.completion);
    expect(b.result.tokens.prompt).toBe(a.result.tokens.prompt);
    expect(b.result.rounds.map((r) => [r.round, r.requests])).toEqual(a.result.rounds.map((r) => [r.round, r.requests]));
    expect(b.result.throughput.launchWindowS).toBeCloseTo(1.5, 5);
    expect(b.result.config.workers).toBe(2);
    expect(b.result.notes.join('\n')).toMatch(/2 workers ran disjoint shares/);
    // The record times share the coordinator's origin: every turn came due within the launch window. (Was "sent
    // within 2 s of the first send", which also bounds how late a loaded machine sends.)
    for (const r of b.records) expect(r.intendedMs - startMs).toBeLessThan(1500);
  });

  it('an abort reaches every worker: in-flight turns are cancelled and the merged result comes back', async () => {
    // Answers take 10 s; the abort comes once the mock holds requests from both workers' users (users are shared
    // out by join index k, user id = k + numUsers + 1: worker = k mod 2), so both have turns surely in flight.
    const TTFT = 10_000;
    const m = await mock({ ttftMs: TTFT, itlMs: 1 });
    const ac = new AbortController();
    const cfg = config(m, { time: 30 });
    const workerOf = (userId: number): number => (((userId - cfg.numUsers - 1) % 2) + 2) % 2;
    const poll = setInterval(() => {
      const users = m.server.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => Number(r.headers['x-user-id']));
      if (new Set(users.map(workerOf)).size === 2 && !ac.signal.aborted) ac.abort('test interrupt');
    }, 10);
    try {
      const r = await run(cfg, 2, ac.signal);
      // Was "returned < 3 s after the abort". As an ordering: it returned before any answer could have come.
      const c = r.result.counts;
      expect(r.result.interrupted).toBe(true);
      expect(c.cancelled).toBeGreaterThan(0);
      expect(c.launched).toBe(c.ok + c.failed + c.cancelled);
      expect(c.ok).toBe(0);
      expect(r.records.filter((x) => x.phase === 'measure')).toHaveLength(c.launched);
      const cancelled = r.records.filter((x) => x.outcome === 'cancelled');
      expect(cancelled).toHaveLength(c.cancelled);
      for (const x of cancelled) {
        expect(x.errorMessage).toContain('test interrupt');
        expect(x.endMs).toBeLessThan(x.sentMs + TTFT);
      }
      // Cancelled turns of both workers.
      expect(new Set(cancelled.map((x) => x.id % 2)).size).toBe(2);
      expect(c.errorsByClass.cancelled).toBe(c.cancelled);
    } finally {
      clearInterval(poll);
    }
  });

  it('a worker that crashes mid-run: the others are stopped and their merged result comes with the error', async () => {
    // The real worker entry, except that worker 1 throws an uncaught error right after forwarding its first records.
    const dir = mkdtempSync(join(tmpdir(), 'pd-bench-crash-'));
    dirs.push(dir);
    const entry = join(dir, 'crashing-worker.mjs');
    writeFileSync(
      entry,
      `import { parentPort, workerData } from 'node:worker_threads';
if (workerData.partition.index === 1) {
  const post = parentPort.postMessage.bind(parentPort);
  parentPort.postMessage = (m) => { post(m); if (m.type === 'records') setImmediate(() => { throw new Error('boom in worker 1'); }); };
}
await import(${JSON.stringify(pathToFileURL(WORKER_JS).href)});
`,
    );
    const m = await mock({ ttftMs: 100, itlMs: 1 });
    const records: RequestRecord[] = [];
    const cfg = config(m, { time: 30 });
    const started = Date.now();
    const err = await runWithWorkers({ config: { ...cfg, workers: 2 }, qps: 12, runId: 'crash', workers: 2, workerEntry: pathToFileURL(entry), onRecord: (r) => records.push(r) }).catch((e: unknown) => e);
    // Not the 30 s of --time: the survivor was stopped (an ordering against --time, not a speed bound).
    expect(Date.now() - started).toBeLessThan(cfg.time * 1000);
    expect(err).toBeInstanceOf(WorkerCrashError);
    const crash = err as WorkerCrashError;
    expect(crash.message).toMatch(/1 of 2 workers failed \(worker 1: .*boom in worker 1/);
    expect(crash.failures).toEqual([expect.objectContaining({ index: 1, kind: 'crash' })]);
    const forwarded = crash.failures[0]?.recordsForwarded as number;
    expect(forwarded).toBeGreaterThan(0);
    // Worker 0's share is all there: every one of its records is in the merged result.
    const result = crash.result as RunResult;
    expect(result.interrupted).toBe(true);
    const mine = records.filter((r) => r.phase === 'measure' && r.id % 2 === 0);
    expect(result.counts.launched).toBe(mine.length);
    expect(result.counts.launched).toBe(result.counts.ok + result.counts.failed + result.counts.cancelled);
    expect(result.counts.ok).toBeGreaterThan(0);
    expect(records.filter((r) => r.id % 2 === 1)).toHaveLength(forwarded);
    expect(result.notes.join('\n')).toMatch(new RegExp(`worker 1 crashed \\(.*boom in worker 1\\).*its ${forwarded} finished request\\(s\\) are in requests\\.csv only`));
  });

  it('every worker failing alike before any result rethrows that error, as one thread would', async () => {
    // The mock has no /tokenize: --tokenizer server fails in each worker before it sends a turn.
    const m = await mock();
    const err = await run(config(m, { tokenizer: 'server' }), 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).code).toBe('PDB_TARGET_REJECTED');
    expect((err as TargetError).message).toMatch(/--tokenizer server: POST .*\/tokenize answered HTTP 404/);
    expect(m.server.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(0);
  });

  it('refuses what cannot cross threads', async () => {
    const m = await mock();
    const cfg = config(m, { maxConcurrency: 4 });
    await expect(runWithWorkers({ config: cfg, qps: 12, runId: 't', workers: 2 })).rejects.toThrow(ConfigError);
    await expect(runWithWorkers({ config: cfg, qps: 12, runId: 't', workers: 2 })).rejects.toThrow(/--max-concurrency/);
    expect(m.server.requests).toHaveLength(0);
  });
});

describe('--workers through the CLI path', () => {
  it('runCommand with workers 2 writes a requests.csv row per request and a summary.json whose counts match', async () => {
    const m = await mock();
    const dir = mkdtempSync(join(tmpdir(), 'pd-bench-workers-'));
    dirs.push(dir);
    const wallBeforeS = Date.now() / 1000;
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    err.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const r = await runCommand({
      flags: {
        'base-url': m.url,
        'num-users': 6,
        'num-rounds': 3,
        qps: '12',
        'shared-system-prompt': 100,
        'user-history-prompt': 100,
        'answer-len': 6,
        time: 1.5,
        'warmup-requests': 3,
        'warmup-max-tokens': 3,
        workers: 2,
      },
      outputDir: dir,
      runId: 'workers-test',
      env: {},
      stdout: out,
      stderr: err as unknown as NodeJS.WriteStream,
    });
    expect(r.exitCode, stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunResult;
    const lines = readFileSync(join(dir, 'requests.csv'), 'utf8').trim().split('\n');
    const header = (lines[0] as string).split(',');
    const rows = lines.slice(1).map((l) => l.split(','));
    const col = (name: string): number => header.indexOf(name);
    const measured = rows.filter((x) => x[col('phase')] === 'measure');
    expect(summary.counts.launched).toBeGreaterThanOrEqual(firstTurnsInWindow({ numUsers: 6, numRounds: 3, qps: 12, time: 1.5 }));
    expect(measured).toHaveLength(summary.counts.launched);
    expect(measured.filter((x) => x[col('outcome')] === 'ok')).toHaveLength(summary.counts.ok);
    expect(rows.filter((x) => x[col('phase')] === 'warmup')).toHaveLength(3);
    expect(summary.counts.warmup).toEqual({ launched: 3, ok: 3, failed: 0, cancelled: 0 });
    expect(new Set(rows.map((x) => x[col('request_id')])).size).toBe(rows.length);
    // The mock saw every row (plus the preflight's max_tokens 2 request).
    const chat = m.server.requests.filter((q) => q.path === '/v1/chat/completions' && (q.body as { max_tokens?: number }).max_tokens !== 2);
    expect(chat).toHaveLength(rows.length);
    expect(summary.config.workers).toBe(2);
    expect(summary.metrics.ttft_ms.count).toBe(summary.counts.ok);
    // Launch times are real epoch seconds (the coordinator's origin), not seconds since some worker's start.
    // (Was "within 60 s of now": an ordering is exact, the launch lies between this test's start and now.)
    const launch = Number(measured[0]?.[col('launch_time')]);
    expect(launch).toBeGreaterThanOrEqual(wallBeforeS - 0.001);
    expect(launch).toBeLessThanOrEqual(Date.now() / 1000);
    expect(stdout).toContain('note: 2 workers ran disjoint shares');
  });
});
