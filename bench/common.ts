// What both client processes of the suite share (bench/pdbench-worker.ts and bench/bare-worker.ts): the job
// they are given, the result they print, the steady-state measurement window, the clock check against the mock,
// and the way they stop. Kept free of pd-bench's own modules so the bare loop's memory floor stays honest.
import { setMaxListeners } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { request } from 'undici';
import { BatchedFile as BatchedFileBase } from '../src/util/batched-file.js';

export interface WorkerSpec {
  baseUrl: string;
  model: string;
  /** pd-bench's --num-users (both workers use the same multi-round schedule). */
  numUsers: number;
  numRounds: number;
  qps: number;
  /** --time: the launch window, s. */
  timeS: number;
  answerLen: number;
  /** --user-history-prompt (tokens). */
  historyTokens: number;
  /** The bare loop's message length (characters): pd-bench's mean request body, which grows with each round's history. */
  bareContentChars?: number;
  /** The steady-state window opens this long after the measured phase starts (the ramp to full concurrency). */
  steadyFromS: number;
  /** Where to write one line per finished request with its stamps (none: no per-request output). */
  recordsPath?: string;
  seed: number;
}

export interface ClockCheck {
  /** The mock's clock minus ours at the fastest of `samples` round trips, ns (0 when both read one clock). */
  offsetNs: number;
  /** Half of that round trip: the offset is known to within +- this, ns. */
  boundNs: number;
  samples: number;
}

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  samples: number;
}

export interface WorkerResult {
  mode: 'pdbench' | 'bare';
  /** process.hrtime.bigint() at the steady-state window's start and end (decimal strings, ns). */
  windowStartNs: string;
  windowEndNs: string;
  windowS: number;
  /** process.cpuUsage() over the window, s. */
  cpuUserS: number;
  cpuSystemS: number;
  /** monitorEventLoopDelay over the window, ms beyond its 1 ms sampling interval. */
  loopDelayMs: LoopDelay;
  /** Kernel peak RSS of the process's whole life (getrusage ru_maxrss), bytes. */
  maxRssBytes: number;
  heapUsedAtEndBytes: number;
  /** CPU of the whole process life (process.cpuUsage(), all threads), s: for the machine's load accounting. */
  lifeCpuS: number;
  clockBefore: ClockCheck;
  clockAfter: ClockCheck;
  /** The time origin of the records file: its times are ns after it. */
  t0Ns?: string;
  requests: { launched: number; ok: number; failed: number; cancelled: number };
  /** Response body bytes read (bare worker only). */
  bodyBytes?: number;
  /** What pd-bench itself reported (pd-bench worker only). */
  pdbench?: {
    ttftP50Ms: number | null;
    ttftP99Ms: number | null;
    itlP50Ms: number | null;
    itlP99Ms: number | null;
    completionTokens: number;
    client: unknown;
    scheduleLagP99Ms: number | null;
  };
  wallS: number;
}

/** Aborted on SIGINT/SIGTERM, or when stdin closes (the suite's process is gone): the worker must not outlive it. */
export function installStop(): AbortSignal {
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // every sleeping user listens on it
  const onStop = (): void => {
    if (stop.signal.aborted) return;
    stop.abort('benchmark interrupted');
    // In-flight requests get a moment to be cancelled cleanly, then the process leaves regardless.
    setTimeout(() => process.exit(130), 2000).unref();
  };
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.stdin.on('end', onStop);
  process.stdin.on('error', onStop);
  process.stdin.resume();
  return stop.signal;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * NTP-style check of the shared clock: GET /mock/clock returns the mock's process.hrtime.bigint(); at the
 * fastest round trip, offset = server stamp - midpoint of ours, known to within half that round trip. On Linux
 * both processes read CLOCK_MONOTONIC, so the offset should be 0 within the bound: the check proves it.
 */
export async function clockCheck(baseUrl: string, samples = 50): Promise<ClockCheck> {
  const url = new URL('/mock/clock', baseUrl).toString();
  let best: { rtt: bigint; offset: bigint } | undefined;
  for (let i = 0; i < samples; i++) {
    const a = process.hrtime.bigint();
    const res = await request(url);
    const body = (await res.body.json()) as { monotonic_ns: string };
    const b = process.hrtime.bigint();
    const rtt = b - a;
    const offset = BigInt(body.monotonic_ns) - (a + b) / 2n;
    if (!best || rtt < best.rtt) best = { rtt, offset };
  }
  if (!best) throw new Error('no clock samples');
  return { offsetNs: Number(best.offset), boundNs: Number(best.rtt) / 2, samples };
}

/** CPU and event-loop delay over exactly the steady-state window. */
export class SteadyWindow {
  #loop = monitorEventLoopDelay({ resolution: 1 });
  #cpu0: NodeJS.CpuUsage | undefined;
  #cpu: NodeJS.CpuUsage | undefined;
  #startNs = 0n;
  #endNs = 0n;
  #timers: NodeJS.Timeout[] = [];

  /** Opens at `fromS` and closes at `toS` after `originNs` (process.hrtime.bigint()). */
  schedule(originNs: bigint, fromS: number, toS: number): void {
    const now = process.hrtime.bigint();
    const inMs = (s: number): number => Math.max(Number(originNs + BigInt(Math.round(s * 1e9)) - now) / 1e6, 0);
    this.#timers.push(setTimeout(() => this.open(), inMs(fromS)));
    this.#timers.push(setTimeout(() => this.close(), inMs(toS)));
  }

  open(): void {
    if (this.#cpu0) return;
    this.#loop.enable();
    this.#cpu0 = process.cpuUsage();
    this.#startNs = process.hrtime.bigint();
  }

  close(): void {
    if (!this.#cpu0 || this.#cpu) return;
    this.#cpu = process.cpuUsage(this.#cpu0);
    this.#endNs = process.hrtime.bigint();
    this.#loop.disable();
  }

  result(): Pick<WorkerResult, 'windowStartNs' | 'windowEndNs' | 'windowS' | 'cpuUserS' | 'cpuSystemS' | 'loopDelayMs'> {
    for (const t of this.#timers) clearTimeout(t);
    this.close();
    const h = this.#loop;
    // The histogram records whole sampling intervals; the 1 ms resolution itself is not delay.
    const ms = (ns: number): number => (h.count > 0 && Number.isFinite(ns) ? Math.max(ns / 1e6 - 1, 0) : 0);
    return {
      windowStartNs: this.#startNs.toString(),
      windowEndNs: this.#endNs.toString(),
      windowS: Number(this.#endNs - this.#startNs) / 1e9,
      cpuUserS: (this.#cpu?.user ?? 0) / 1e6,
      cpuSystemS: (this.#cpu?.system ?? 0) / 1e6,
      loopDelayMs: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean), samples: h.count },
    };
  }
}

/** Lines written 1 MiB at a time (see src/util/batched-file.ts). */
export class BatchedFile extends BatchedFileBase {
  constructor(path: string) {
    super(path, 1024 * 1024);
  }
}

function lifeCpuS(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

/** Runs a worker: reads its spec from argv, prints its WorkerResult as one JSON line, exits. */
export function workerMain(
  mode: WorkerResult['mode'],
  body: (spec: WorkerSpec, win: SteadyWindow, signal: AbortSignal) => Promise<Partial<WorkerResult>>,
): void {
  const signal = installStop();
  const run = async (): Promise<void> => {
    const spec = JSON.parse(process.argv[2] ?? '') as WorkerSpec;
    const wall0 = process.hrtime.bigint();
    const clockBefore = await clockCheck(spec.baseUrl);
    const win = new SteadyWindow();
    const part = await body(spec, win, signal);
    const w = win.result();
    const clockAfter = await clockCheck(spec.baseUrl);
    const result: WorkerResult = {
      mode,
      ...w,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      heapUsedAtEndBytes: process.memoryUsage().heapUsed,
      lifeCpuS: lifeCpuS(),
      clockBefore,
      clockAfter,
      requests: { launched: 0, ok: 0, failed: 0, cancelled: 0 },
      ...part,
      wallS: Number(process.hrtime.bigint() - wall0) / 1e9,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(signal.aborted ? 130 : 0));
  };
  run().catch((err: unknown) => {
    process.stderr.write(`bench ${mode} worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
