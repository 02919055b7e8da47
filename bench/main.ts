// pd-bench's own benchmark suite (`npm run bench`): how accurate, how fast and how cheap the client is, against
// the deterministic mock server (src/mock/mock-main.ts) running in a separate process that logs its own send
// times. Writes bench/RESULTS.md (and the raw figures to results/bench-<stamp>/raw.json).
//
// Processes: this orchestrator (idle while a measurement runs), one mock process and one client process per
// measurement, each started fresh so CPU and peak RSS belong to that measurement alone. With taskset and at
// least 2 CPUs, the client is pinned to CPU 0 and the mock (and this process) to CPU 1: the client gets one core
// to itself and the mock cannot starve it. Everything listens on and talks to 127.0.0.1 only. Every child is
// stopped at the end, on failure and on SIGINT/SIGTERM.
//
//   npm run bench                 the full suite (about 7 minutes), writes bench/RESULTS.md
//   npm run bench -- --quick      a 1-minute smoke run; writes only results/bench-<stamp>/
//   npm run bench -- --render results/bench-<stamp>/raw.json    re-renders bench/RESULTS.md from a run's figures
//   BENCH_WORKER_FLAGS="--cpu-prof --cpu-prof-dir=DIR" npm run bench -- --quick    profiles the client processes
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { accuracy, readMockLog, readRecords, traffic } from './analyze.js';
import type { WorkerResult, WorkerSpec } from './common.js';
import { renderResults, type CapacityStep, type LevelResult, type Measured, type Shape, type SuiteResult } from './report.js';

// ---- what is measured ------------------------------------------------------------------------------------

const ROUNDS = 4;
/** Other processes' CPU during a measurement (cores, averaged) above which it is repeated once. */
const MAX_OTHER_LOAD = 0.1;
/** The longest wait for a quiet machine before a measurement, s. */
const QUIET_WAIT_S = 20;
/** No repeats after this much of the suite (s), so it stays near its 10-minute budget. */
const RETRY_UNTIL_S = 420;
const suiteStart = Date.now();
/** Each user's turns are this much further apart than a stream lasts, so no turn ever waits for the previous one. */
const SLACK = 1.02;
const HISTORY_TOKENS = 64;

const FULL = {
  // The aggregate chunk rate stays at ~10k chunks/s from 100 streams up (a third of the capacity measured below),
  // so the levels differ in concurrency, not in load: ITL grows with the number of streams.
  accuracy: [
    { streams: 1, ttftMs: 50, itlMs: 10, answerLen: 20, timeS: 12 },
    { streams: 100, ttftMs: 50, itlMs: 10, answerLen: 100, timeS: 15 },
    { streams: 1000, ttftMs: 50, itlMs: 100, answerLen: 50, timeS: 20 },
    { streams: 5000, ttftMs: 50, itlMs: 500, answerLen: 20, timeS: 26 },
  ] satisfies Shape[],
  /** The level at which pd-bench also runs with the other GC setting (VARIANT). */
  gcVariantAt: 1000,
  // Chunk-bound: 100-token answers at ITL 10 ms, 100 chunks/s per stream, more streams each step.
  chunkSweep: { ttftMs: 50, itlMs: 10, answerLen: 100, timeS: 10, streams: [100, 150, 200, 250, 300, 350, 400, 450, 500, 600] },
  // Request-bound: 10-token answers, so the per-request work dominates: more requests/s each step.
  requestSweep: { ttftMs: 20, itlMs: 10, answerLen: 10, timeS: 10, rates: [250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000] },
};

const QUICK: typeof FULL = {
  accuracy: [
    { streams: 1, ttftMs: 50, itlMs: 10, answerLen: 20, timeS: 4 },
    { streams: 100, ttftMs: 50, itlMs: 10, answerLen: 50, timeS: 5 },
  ],
  gcVariantAt: 100,
  chunkSweep: { ttftMs: 50, itlMs: 10, answerLen: 50, timeS: 5, streams: [100, 200] },
  requestSweep: { ttftMs: 20, itlMs: 10, answerLen: 10, timeS: 5, rates: [250, 500] },
};

/** Stream duration (s) as the mock schedules it. */
const streamS = (s: Shape): number => (s.ttftMs + (s.answerLen - 1) * s.itlMs) / 1000;

/**
 * pd-bench's multi-round pacing for `streams` concurrent streams: num-users = streams, a user's turns a little
 * more than a stream apart (gap = D * R/(R-1) * SLACK), so the schedule's rate, qps * R/(R-1), is streams /
 * (D * SLACK) and Little's law gives streams / SLACK streams in flight. (The pool holds num-users + 32
 * connections; a schedule with more streams in flight than that would queue requests inside pd-bench.)
 */
function pacing(s: Shape): { numUsers: number; qps: number; rate: number; steadyFromS: number } {
  const d = streamS(s);
  const gap = d * (ROUNDS / (ROUNDS - 1)) * SLACK;
  const qps = s.streams / gap;
  return { numUsers: s.streams, qps, rate: (qps * ROUNDS) / (ROUNDS - 1), steadyFromS: Math.max(d + 1, 2.5) };
}

/**
 * pd-bench's mean message text per request (characters), for the bare loop's body: the user's context (~4.5
 * characters a token, plus its lead), the questions (~60 characters each) and the answers so far (the mock's words
 * average ~6 characters a token), over rounds 1..R, which the pre-aged schedule spreads evenly.
 */
function meanContentChars(s: Shape): number {
  return Math.round(HISTORY_TOKENS * 4.5 + 45 + ((ROUNDS + 1) / 2) * 60 + ((ROUNDS - 1) / 2) * (s.answerLen * 6 + 30));
}

// ---- processes ---------------------------------------------------------------------------------------------

const here = fileURLToPath(new URL('.', import.meta.url));
/** The repository: this file runs as .cache/bench/bench/main.js. */
const root = join(here, '..', '..', '..');
const live = new Set<ChildProcess>();
let mockLive: MockProcess | undefined;
let interrupted = false;
/** The scratch directory of the running suite (logs and records), removed on every exit path. */
let scratch: string | undefined;

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
const nCpu = cpus().length;
const pin = hasTaskset && nCpu >= 2;
const CLIENT_CPU = '0';
const MOCK_CPU = '1';
/**
 * The client processes run with the node flags pd-bench's CLI gives itself here: with one CPU to run on (pinned,
 * or a one-CPU machine) `bin/pd-bench.js` restarts itself under --single-threaded-gc (finding 4). The bare loop
 * gets the same flags, so the floor differs from pd-bench only in the work it skips.
 */
const CLIENT_FLAGS: string[] = pin || nCpu === 1 ? ['--single-threaded-gc'] : [];
/** The one extra pd-bench run: the other GC setting, so every run shows what the flag is worth. */
const VARIANT = CLIENT_FLAGS.length > 0
  ? { label: 'Node\'s defaults', flags: [] as string[] }
  : { label: '--single-threaded-gc', flags: ['--single-threaded-gc'] };

function pinPid(pid: number, cpu: string): void {
  if (pin) spawnSync('taskset', ['-a', '-c', '-p', cpu, String(pid)], { stdio: 'ignore' });
}

function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
  mockLive?.child.kill('SIGKILL');
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
process.on('exit', killAll);
const onSignal = (sig: NodeJS.Signals): void => {
  if (interrupted) process.exit(130);
  interrupted = true;
  process.stderr.write(`\nbench: ${sig}, stopping the client and the mock\n`);
  for (const c of live) c.kill('SIGTERM');
  const m = mockLive;
  const t = setTimeout(() => process.exit(130), 3000);
  void (m ? m.stop() : Promise.resolve()).finally(() => {
    clearTimeout(t);
    process.exit(130);
  });
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

interface MockProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The mock in its own process (src/mock/mock-main.ts, as spawnServer starts it: own process group, exits when our
 * stdin pipe closes), with one difference: node --single-threaded-gc. Pinned to one core, V8's concurrent GC
 * threads compete with the main thread, which then waits for them inside its marking steps: the reference
 * stalled for up to ~40 ms that way (and wrote those chunks late, in bursts); without the helper threads its
 * longest stall is ~10-15 ms. This changes nothing in what it sends, only how punctually.
 */
async function startMock(s: Shape, logPath: string): Promise<MockProcess> {
  const script = join(root, '.cache', 'bench', 'src', 'mock', 'mock-main.js');
  const args = ['--single-threaded-gc', script, '--port', '0', '--exit-on-stdin-close',
    '--ttft-ms', String(s.ttftMs), '--itl-ms', String(s.itlMs), '--cached-tokens', 'none', '--send-log', logPath];
  const child = pin
    ? spawn('taskset', ['-c', MOCK_CPU, process.execPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    : spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    if (stderr.length < 4096) stderr += b.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mock did not report ready within 15 s: ${stderr.trim()}`));
    }, 15_000);
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; port?: number };
        if (msg.event === 'ready' && typeof msg.port === 'number') {
          clearTimeout(timer);
          rl.close();
          resolve(msg.port);
        }
      } catch {
        // not the ready line
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mock exited with ${code} before it was ready: ${stderr.trim()}`));
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  const m: MockProcess = { url: `http://127.0.0.1:${port}/v1`, child, stop };
  mockLive = m;
  return m;
}

function runWorker(kind: 'pdbench' | 'bare', spec: WorkerSpec, timeoutS: number, nodeFlags: string[]): Promise<WorkerResult> {
  const script = join(here, kind === 'pdbench' ? 'pdbench-worker.js' : 'bare-worker.js');
  // BENCH_WORKER_FLAGS passes node flags to the client processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" or "--trace-gc".
  const flags = (process.env.BENCH_WORKER_FLAGS ?? '').split(' ').filter((x) => x !== '');
  const argv = [...nodeFlags, ...flags, script, JSON.stringify(spec)];
  const child = pin
    ? spawn('taskset', ['-c', CLIENT_CPU, process.execPath, ...argv], { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    : spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => {
    if (err.length < 8192) err += b.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
  return new Promise((resolve, reject) => {
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      live.delete(child);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line) resolve(JSON.parse(line) as WorkerResult);
      else reject(new Error(`${kind} worker exited with ${sig ?? code}${err ? `: ${err.trim()}` : ''}`));
    });
  });
}

// ---- the machine's other load --------------------------------------------------------------------------------

/** Busy and steal time of all CPUs from /proc/stat, s (USER_HZ = 100); undefined where there is no /proc. */
function cpuTimes(): { busyS: number; stealS: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { busyS: (user + nice + system + irq + softirq) / 100, stealS: steal / 100 };
  } catch {
    return undefined;
  }
}

/**
 * The machine is shared: before each measurement, wait (up to `maxS`) for a second in which the other processes
 * use less than 0.15 of a core, so one measurement does not compete with someone else's test run.
 */
async function waitQuiet(maxS: number): Promise<{ waitedS: number; busyCores: number }> {
  const t = Date.now();
  let busy = 0;
  for (;;) {
    const a = cpuTimes();
    const c0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 1000));
    const b = cpuTimes();
    if (!a || !b) return { waitedS: 0, busyCores: NaN };
    const c = process.cpuUsage(c0);
    const own = (c.user + c.system) / 1e6;
    busy = b.busyS - a.busyS - own;
    if (busy < 0.15 || (Date.now() - t) / 1000 >= maxS) return { waitedS: (Date.now() - t) / 1000, busyCores: busy };
  }
}

async function measure(kind: 'pdbench' | 'bare', s: Shape, dir: string, tag: string, nodeFlags: string[] = []): Promise<Measured> {
  const first = await measureOnce(kind, s, dir, tag, nodeFlags);
  // Someone else's work ran during it: wait for quiet and measure again (once, and only while the suite has time).
  if (first.otherLoad.cores <= MAX_OTHER_LOAD || (Date.now() - suiteStart) / 1000 > RETRY_UNTIL_S) return first;
  progress(`  (${kind}: other processes used ${fmt(first.otherLoad.cores)} of a core during the run; measuring again)`);
  const again = await measureOnce(kind, s, dir, tag, nodeFlags);
  again.otherLoad.repeated = true;
  return again.otherLoad.cores < first.otherLoad.cores ? again : { ...first, otherLoad: { ...first.otherLoad, repeated: true } };
}

async function measureOnce(kind: 'pdbench' | 'bare', s: Shape, dir: string, tag: string, nodeFlags: string[]): Promise<Measured> {
  const quiet = await waitQuiet(QUIET_WAIT_S);
  const cpuBefore = cpuTimes();
  const ownBefore = process.cpuUsage();
  const wallBefore = Date.now();
  const logPath = join(dir, `${tag}-${kind}-mock.ndjson`);
  const recordsPath = join(dir, `${tag}-${kind}-records.ndjson`);
  const p = pacing(s);
  const mock = await startMock(s, logPath);
  let worker: WorkerResult;
  try {
    const spec: WorkerSpec = {
      baseUrl: mock.url,
      model: 'mock-model',
      numUsers: p.numUsers,
      numRounds: ROUNDS,
      qps: p.qps,
      timeS: s.timeS,
      answerLen: s.answerLen,
      historyTokens: HISTORY_TOKENS,
      bareContentChars: meanContentChars(s),
      steadyFromS: p.steadyFromS,
      recordsPath,
      seed: 1,
    };
    worker = await runWorker(kind, spec, s.timeS + streamS(s) + 120, nodeFlags);
  } finally {
    await mock.stop();
    mockLive = undefined;
  }
  const base = BigInt(worker.windowStartNs);
  const windowEnd = Number(BigInt(worker.windowEndNs) - base);
  const log = readMockLog(logPath, base);
  const t = traffic(log.requests, windowEnd, s.ttftMs, s.itlMs);
  const acc =
    worker.t0Ns !== undefined
      ? accuracy(log.requests, readRecords(recordsPath, BigInt(worker.t0Ns), base), windowEnd, s.ttftMs, s.itlMs)
      : undefined;
  rmSync(logPath, { force: true });
  rmSync(recordsPath, { force: true });
  const cpuAfter = cpuTimes();
  const own = process.cpuUsage(ownBefore);
  const wallS = (Date.now() - wallBefore) / 1000;
  const otherS =
    cpuBefore && cpuAfter ? cpuAfter.busyS - cpuBefore.busyS - worker.lifeCpuS - (log.summary?.cpu_s ?? 0) - (own.user + own.system) / 1e6 : NaN;
  const otherLoad = {
    cores: Math.max(otherS, 0) / wallS,
    otherCpuS: otherS,
    stealCores: cpuBefore && cpuAfter ? (cpuAfter.stealS - cpuBefore.stealS) / wallS : NaN,
    waitedS: quiet.waitedS,
    busyBeforeCores: quiet.busyCores,
    repeated: false,
  };
  return { worker, traffic: t, accuracy: acc, mock: log.summary, otherLoad };
}

const cpuS = (w: WorkerResult): number => w.cpuUserS + w.cpuSystemS;
const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

// ---- the suite ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const render = args.indexOf('--render');
  if (render >= 0) {
    // Re-renders bench/RESULTS.md from a run's raw.json (after a change to report.ts); measures nothing.
    const raw = args[render + 1];
    if (!raw) throw new Error('--render needs the path of a raw.json');
    writeFileSync(join(root, 'bench', 'RESULTS.md'), renderResults(JSON.parse(readFileSync(raw, 'utf8')) as SuiteResult));
    progress(`bench: bench/RESULTS.md rendered from ${raw}`);
    return;
  }
  const quick = args.includes('--quick');
  const plan = quick ? QUICK : FULL;
  const started = new Date();
  const t0 = Date.now();
  const load0 = loadavg();
  if (pin) pinPid(process.pid, MOCK_CPU);
  const dir = mkdtempSync(join(tmpdir(), 'pd-bench-bench-'));
  scratch = dir;
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const rawDir = join(root, 'results', `bench-${stamp}`);
  progress(`bench: ${quick ? 'quick smoke run' : 'full suite'}; client on ${pin ? `CPU ${CLIENT_CPU}, mock on CPU ${MOCK_CPU}` : 'unpinned CPUs'}; scratch ${dir}`);

  const levels: LevelResult[] = [];
  const chunkSweep: CapacityStep[] = [];
  const requestSweep: CapacityStep[] = [];
  try {
    for (const s of plan.accuracy) {
      const p = pacing(s);
      progress(`accuracy: ${s.streams} streams (TTFT ${s.ttftMs} ms, ITL ${s.itlMs} ms, ${s.answerLen} tokens, ${fmt(p.rate, 1)} req/s, ${s.timeS} s)`);
      const pd = await measure('pdbench', s, dir, `acc${s.streams}`, CLIENT_FLAGS);
      const bare = await measure('bare', s, dir, `acc${s.streams}`, CLIENT_FLAGS);
      // What the other GC setting does for pd-bench (see FINDINGS in report.ts, number 4).
      const pdVariant = s.streams === plan.gcVariantAt ? { ...VARIANT, m: await measure('pdbench', s, dir, `acc${s.streams}-gc`, VARIANT.flags) } : undefined;
      levels.push({ shape: s, numUsers: p.numUsers, qps: p.qps, rate: p.rate, pd, bare, pdVariant });
      const a = pd.accuracy;
      progress(
        `  TTFT error p50 ${fmt(a?.ttftError.p50 ?? NaN, 3)} p99 ${fmt(a?.ttftError.p99 ?? NaN, 3)} ms; loop p99 ${fmt(pd.worker.loopDelayMs.p99)} ms; ` +
          `CPU ${fmt((cpuS(pd.worker) / pd.traffic.chunks) * 1e6, 1)} us/chunk${bare ? ` (bare ${fmt((cpuS(bare.worker) / bare.traffic.chunks) * 1e6, 1)})` : ''}; RSS ${fmt(pd.worker.maxRssBytes / 2 ** 20, 0)} MiB`,
      );
    }

    const sweep = async (steps: Shape[], into: CapacityStep[], label: string): Promise<void> => {
      for (const s of steps) {
        const p = pacing(s);
        const m = await measure('pdbench', s, dir, `cap-${label}-${s.streams}`, CLIENT_FLAGS);
        const offeredChunks = p.rate * s.answerLen;
        const chunksPerS = m.traffic.chunks / m.worker.windowS;
        const reasons: string[] = [];
        if (m.worker.loopDelayMs.p99 > 5) reasons.push(`event-loop delay p99 ${fmt(m.worker.loopDelayMs.p99)} ms > 5 ms`);
        if (m.worker.requests.failed + m.worker.requests.cancelled > 0) reasons.push(`${m.worker.requests.failed + m.worker.requests.cancelled} requests failed`);
        if (chunksPerS < 0.95 * offeredChunks) reasons.push(`delivered ${fmt(chunksPerS, 0)} of ${fmt(offeredChunks, 0)} offered chunks/s`);
        into.push({ shape: s, rate: p.rate, offeredChunksPerS: offeredChunks, m, pass: reasons.length === 0, reasons });
        progress(
          `  ${label} ${s.streams} streams: ${fmt(m.traffic.requests / m.worker.windowS, 0)} req/s, ${fmt(chunksPerS, 0)} chunks/s, ` +
            `CPU ${fmt(cpuS(m.worker) / m.worker.windowS)}, loop p99 ${fmt(m.worker.loopDelayMs.p99)} ms, mock loop p99 ${fmt(m.mock?.loop_delay_ms?.p99 ?? NaN)} ms: ${reasons.length === 0 ? 'ok' : reasons.join('; ')}`,
        );
        if (reasons.length > 0) return;
      }
    };
    const cs = plan.chunkSweep;
    progress(`capacity, chunk-bound: TTFT ${cs.ttftMs} ms, ITL ${cs.itlMs} ms, ${cs.answerLen}-token answers`);
    await sweep(
      cs.streams.map((n) => ({ streams: n, ttftMs: cs.ttftMs, itlMs: cs.itlMs, answerLen: cs.answerLen, timeS: cs.timeS })),
      chunkSweep,
      'chunks',
    );
    const rs = plan.requestSweep;
    progress(`capacity, request-bound: TTFT ${rs.ttftMs} ms, ITL ${rs.itlMs} ms, ${rs.answerLen}-token answers`);
    const rsShape = { ttftMs: rs.ttftMs, itlMs: rs.itlMs, answerLen: rs.answerLen, timeS: rs.timeS };
    await sweep(
      rs.rates.map((r) => ({ ...rsShape, streams: Math.max(1, Math.round(r * streamS({ ...rsShape, streams: 1 }) * SLACK)) })),
      requestSweep,
      'requests',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const git = (a: string[]): string => spawnSync('git', a, { encoding: 'utf8' }).stdout?.trim() ?? '';
  const suite: SuiteResult = {
    command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
    quick,
    startedAt: started.toISOString(),
    durationS: (Date.now() - t0) / 1000,
    machine: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cpus: nCpu,
      memoryGiB: totalmem() / 2 ** 30,
      kernel: release(),
      node: process.version,
      loadBefore: load0,
      loadAfter: loadavg(),
    },
    pinning: pin
      ? `taskset: client process on CPU ${CLIENT_CPU}, mock process and the (idle) orchestrator on CPU ${MOCK_CPU}`
      : hasTaskset
        ? 'none: only one CPU'
        : 'none: taskset not found',
    commit: `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain']) ? ' with uncommitted changes' : ''}`,
    clientNodeFlags: CLIENT_FLAGS,
    rounds: ROUNDS,
    slack: SLACK,
    historyTokens: HISTORY_TOKENS,
    levels,
    chunkSweep,
    requestSweep,
  };
  mkdirSync(rawDir, { recursive: true });
  writeFileSync(join(rawDir, 'raw.json'), `${JSON.stringify(suite, null, 2)}\n`);
  const md = renderResults(suite);
  if (!quick) writeFileSync(join(root, 'bench', 'RESULTS.md'), md);
  writeFileSync(join(rawDir, 'RESULTS.md'), md);
  progress(`bench: done in ${fmt(suite.durationS, 0)} s; ${quick ? '' : 'bench/RESULTS.md and '}${join(rawDir, 'raw.json')} written`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (!interrupted) process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    killAll();
    process.exit(interrupted ? 130 : 1);
  },
);
