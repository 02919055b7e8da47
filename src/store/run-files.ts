// Writes run outputs: requests.csv and requests.jsonl streamed as requests finish (so an interrupted or crashed
// run keeps what it measured), then summary.json and summary.csv from the RunResult, each written atomically
// (a crash or a full disk leaves the previous file or none, never half of one). requests.jsonl holds every
// raw record (chunk arrival times included, answer text excluded): compare and report re-derive from it.
import { closeSync, createWriteStream, existsSync, mkdirSync, openSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { stringify, type Stringifier } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { ConfigError } from '../errors.js';
import type { RequestRecord } from '../result/record.js';
import type { RunResult } from '../result/schema.js';
import { BatchedFile } from '../util/batched-file.js';
import { REQUEST_COLUMNS, requestRow } from '../report/requests-csv.js';
import { recordLine } from '../report/requests-jsonl.js';
import { summaryColumns, summaryRow } from '../report/summary-csv.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * Makes sure results can be written to `dir` before any traffic is sent: a run that measured for an hour must
 * not find out at the end that its directory is a file or read-only.
 */
export function prepareOutputDir(dir: string, flag = '--output-dir'): void {
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.pd-bench-write-test-${process.pid}`);
    closeSync(openSync(probe, 'w'));
    rmSync(probe);
    for (const f of ['requests.csv', 'requests.jsonl', 'summary.json', 'summary.csv']) {
      const p = join(dir, f);
      if (existsSync(p) && statSync(p).isDirectory()) throw Object.assign(new Error(`${p} is a directory`), { code: 'EISDIR' });
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError([{ field: flag, value: dir, allowed: `allowed: a directory pd-bench can create and write (${e.code ?? 'error'}: ${e.message})` }]);
  }
}

/** Streams requests.csv (for spreadsheets) and requests.jsonl (raw records, for compare and report). */
export class RequestsCsvWriter {
  readonly path: string;
  readonly jsonlPath: string;
  #jsonl: BatchedFile | undefined;
  #csv: Stringifier;
  #file: WriteStream;
  #done: Promise<Error | undefined>;
  #wallStartMs: number | undefined;
  rows = 0;
  /** Rows that could not be written after the file failed (disk full, removed directory, ...). */
  lostRows = 0;
  /** The write error, if the file failed; measuring goes on and the summary says so. */
  error: Error | undefined;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'requests.csv');
    this.jsonlPath = join(dir, 'requests.jsonl');
    // Small blocks: a crash loses at most this much, and one synchronous write of it costs well under a millisecond.
    this.#jsonl = new BatchedFile(this.jsonlPath, 64 * 1024);
    // Opened synchronously so a path that cannot be written fails here, not in an unhandled stream event.
    this.#file = createWriteStream(this.path, { fd: openSync(this.path, 'w') });
    this.#csv = stringify({ header: true, columns: [...REQUEST_COLUMNS] });
    this.#csv.pipe(this.#file);
    this.#done = new Promise((resolve) => {
      const fail = (err: Error): void => {
        this.error ??= err;
        resolve(this.error);
      };
      this.#file.on('finish', () => resolve(this.error));
      this.#file.on('error', fail);
      this.#csv.on('error', fail);
    });
  }

  /** Wall-clock origin of the run whose records follow (records carry ms since that origin). */
  setOrigin(wallStartMs: number): void {
    this.#wallStartMs = wallStartMs;
  }

  write(r: RequestRecord, wallStartMs?: number): void {
    if (this.error) {
      this.lostRows++;
      return;
    }
    const origin = wallStartMs ?? this.#wallStartMs ?? 0;
    try {
      this.#jsonl?.write(recordLine(r));
    } catch (err) {
      this.#failJsonl(err);
    }
    this.#csv.write(requestRow(r, origin));
    this.rows++;
  }

  #failJsonl(err: unknown): void {
    this.error ??= err instanceof Error ? err : new Error(String(err));
    try {
      this.#jsonl?.close();
    } catch {
      // Already failed; the first error is the one reported.
    }
    this.#jsonl = undefined;
  }

  /** Ends the file; resolves with the write error if there was one (never rejects). */
  close(): Promise<Error | undefined> {
    try {
      this.#jsonl?.close();
      this.#jsonl = undefined;
    } catch (err) {
      this.#failJsonl(err);
    }
    if (!this.error) this.#csv.end();
    return this.#done;
  }
}

export function writeRunSummary(dir: string, result: RunResult): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'summary.json'), JSON.stringify(result, null, 2) + '\n');
  writeSummaryCsv(dir, [result]);
}

export function writeSummaryCsv(dir: string, results: readonly RunResult[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'summary.csv'), stringifySync(results.map(summaryRow), { header: true, columns: summaryColumns(), cast: { boolean: (b) => String(b) } }));
}
