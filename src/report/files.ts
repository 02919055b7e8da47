// Writes run outputs: requests.csv streamed row by row as requests finish (so an interrupted or crashed run
// keeps what it measured), then summary.json and summary.csv from the RunResult.
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { stringify, type Stringifier } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';
import type { RequestRecord } from '../result/record.js';
import type { RunResult } from '../result/schema.js';
import { REQUEST_COLUMNS, requestRow } from './requests-csv.js';
import { summaryColumns, summaryRow } from './summary-csv.js';

export class RequestsCsvWriter {
  readonly path: string;
  #csv: Stringifier;
  #file: WriteStream;
  #done: Promise<void>;
  #wallStartMs: number | undefined;
  rows = 0;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'requests.csv');
    this.#file = createWriteStream(this.path);
    this.#csv = stringify({ header: true, columns: [...REQUEST_COLUMNS] });
    this.#csv.pipe(this.#file);
    this.#done = new Promise((resolve, reject) => {
      this.#file.on('finish', resolve);
      this.#file.on('error', reject);
      this.#csv.on('error', reject);
    });
  }

  /** Wall-clock origin of the run whose records follow (records carry ms since that origin). */
  setOrigin(wallStartMs: number): void {
    this.#wallStartMs = wallStartMs;
  }

  write(r: RequestRecord, wallStartMs?: number): void {
    const origin = wallStartMs ?? this.#wallStartMs ?? 0;
    this.#csv.write(requestRow(r, origin));
    this.rows++;
  }

  close(): Promise<void> {
    this.#csv.end();
    return this.#done;
  }
}

export function writeRunSummary(dir: string, result: RunResult): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(result, null, 2) + '\n');
  writeSummaryCsv(dir, [result]);
}

export function writeSummaryCsv(dir: string, results: readonly RunResult[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.csv'), stringifySync(results.map(summaryRow), { header: true, columns: summaryColumns(), cast: { boolean: (b) => String(b) } }));
}
