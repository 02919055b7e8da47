// The one run sink for every command that executes runs (run, compare; next sweep, gate, shards): per run it
// streams requests.csv/jsonl as requests finish, shows progress and window lines, then writes summary.json and
// summary.csv, says which files are incomplete when a write fails, and turns a crashed worker into a written
// partial result plus a stop. Nothing measured is lost: the console summary comes before the files.
import type { WorkerCrashError } from '../driver/worker-pool.js';
import { formatSummary, formatWindow } from '../report/console.js';
import { createProgress, type ProgressView } from '../report/progress.js';
import type { RunResult } from '../result/schema.js';
import type { ExecutionHooks, ExecutionTarget, RunHooks, RunSlot } from '../driver/executor.js';
import { runnerFor } from '../driver/runner.js';
import type { RunConfig } from '../config/options.js';
import type { ScrapePlan } from './scrape-flags.js';
import { RequestsCsvWriter, writeRunSummary } from '../store/run-files.js';

export interface RunSinkOptions<T extends ExecutionTarget> {
  config: RunConfig;
  /** Where a run's files go. */
  dirOf: (slot: RunSlot<T>) => string;
  /** The run's name on progress and window lines. */
  labelOf: (slot: RunSlot<T>) => string;
  /** 'full': the whole console summary on stdout (run); 'line': one line per run on stderr (compare); 'none': the caller prints its own (sweep). */
  summary: 'full' | 'line' | 'none';
  scrapes?: ScrapePlan;
  /** Runs sharing the terminal at once (simultaneous order): only this one shows progress. */
  showProgress?: (slot: RunSlot<T>) => boolean;
  /** What `onCooldown` prints (nothing when absent). */
  cooldownText?: (seconds: number) => string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
}

interface OpenRun {
  writer: RequestsCsvWriter;
  progress: ProgressView | undefined;
}

export class RunSink<T extends ExecutionTarget> {
  /** A write failed (requests files or summaries): the command exits 1 after writing what it can. */
  writeError = false;
  /** A worker thread crashed: its siblings' merged result was written; the plan stops and the command exits 1. */
  crash: WorkerCrashError | undefined;
  readonly results: RunResult[] = [];
  #o: RunSinkOptions<T>;
  #open = new Map<RunSlot<T>, OpenRun>();

  constructor(o: RunSinkOptions<T>) {
    this.#o = o;
  }

  /** The executor hooks that feed this sink. */
  hooks(): ExecutionHooks<T> {
    const o = this.#o;
    return {
      open: (slot) => this.#start(slot),
      done: (slot, result) => this.#finish(slot, result),
      runner: runnerFor(o.config, (err) => {
        this.crash = err;
      }),
      shouldStop: () => this.crash !== undefined,
      ...(o.cooldownText ? { onCooldown: (s: number) => s > 0 && o.stderr.write(o.cooldownText?.(s) ?? '') } : {}),
    };
  }

  /** Stops every progress view still drawing (an interrupted plan). */
  stopProgress(): void {
    for (const r of this.#open.values()) r.progress?.stop();
  }

  #start(slot: RunSlot<T>): RunHooks {
    const o = this.#o;
    const writer = new RequestsCsvWriter(o.dirOf(slot));
    const label = o.labelOf(slot);
    const progress = (o.showProgress?.(slot) ?? true) ? createProgress(label, o.stderr) : undefined;
    this.#open.set(slot, { writer, progress });
    const scraper = o.scrapes?.forTarget(slot.target.name);
    return {
      onStart: ({ wallStartMs }) => writer.setOrigin(wallStartMs),
      onRecord: (r) => writer.write(r),
      ...(progress ? { onWindow: (w) => progress.log(formatWindow(w, label, o.config.logInterval)), onProgress: (p) => progress.update(p) } : {}),
      ...(scraper ? { scraper } : {}),
    };
  }

  async #finish(slot: RunSlot<T>, result: RunResult): Promise<void> {
    const o = this.#o;
    const { writer, progress } = this.#open.get(slot) as OpenRun;
    this.#open.delete(slot);
    progress?.stop();
    const dir = o.dirOf(slot);
    const err = await writer.close();
    if (err) {
      this.writeError = true;
      result.notes.push(`requests files stopped being written (${err.message}); ${writer.lostRows} request row(s) after that are only in the statistics of this summary`);
      o.stderr.write(`error: writing ${writer.path} failed: ${err.message} (${writer.lostRows} rows lost; the summary still has every request)\n`);
    }
    if (slot.kind === 'measured') this.results.push(result);
    // The console summary comes first: if the disk is full, the numbers are still seen.
    if (o.summary === 'full') o.stdout.write(formatSummary(result) + '\n');
    try {
      writeRunSummary(dir, result);
      if (o.summary === 'full') o.stderr.write(`results: ${dir}/{requests.csv,summary.json,summary.csv}\n`);
    } catch (e) {
      this.writeError = true;
      o.stderr.write(`error: writing ${dir}/summary.json failed: ${(e as Error).message}; ${o.summary === 'full' ? 'the summary above is all that was kept' : 'its requests files are kept'}\n`);
    }
    if (o.summary === 'line') {
      const f = (v: number | null): string => (v === null ? '-' : v.toFixed(v >= 100 ? 0 : 2));
      o.stderr.write(`${o.labelOf(slot)}: ${result.counts.ok}/${result.counts.launched} ok, TTFT p50 ${f(result.metrics.ttft_ms.p50)} ms, ITL p99 ${f(result.metrics.itl_ms.p99)} ms -> ${dir}\n`);
    }
    if (this.crash && this.crash.result === result) {
      o.stderr.write(`error: ${this.crash.message}; ${o.summary === 'full' ? 'the summary above covers' : "that run's result covers"} the workers that finished\n`);
    }
  }
}
