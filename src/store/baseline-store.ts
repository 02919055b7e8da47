// The baseline store of `pd-bench gate --baseline-store DIR`: one baseline per target label and workload
// fingerprint, and history.csv with one row per gate run. Layout:
//   DIR/history.csv
//   DIR/<target>/<fingerprint>/baseline.json       what the entry is (target, workload fields, when, label)
//   DIR/<target>/<fingerprint>/run-<k>/            summary.json, summary.csv, requests.jsonl of each repetition
// An entry is replaced whole: built beside the old one, then renamed over it, so a crash leaves the old or the new.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { csvLine, HISTORY_COLUMNS, parseHistory, type HistoryRow } from '../gate/history.js';
import type { WorkloadKey } from '../gate/fingerprint.js';
import { writeFileAtomic } from './atomic-write.js';
import { loadRunDir, type SavedRun } from './saved-results.js';

export const HISTORY_FILE = 'history.csv';

export interface BaselineMeta {
  schema: 'pd-bench/baseline';
  schemaVersion: 1;
  target: string;
  workload: WorkloadKey;
  createdAt: string;
  label: string | null;
  /** Where tonight's result came from when it became the baseline. */
  source: string;
  runs: string[];
}

export interface StoreEntry {
  dir: string;
  meta: BaselineMeta;
  runs: SavedRun[];
}

/** A target label is a directory name: letters, digits, '.', '_' and '-', not starting with '.'. */
export const TARGET_LABEL = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;

export function entryDir(store: string, target: string, hash: string): string {
  return join(store, target, hash);
}

function readMeta(dir: string): BaselineMeta | null {
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'baseline.json'), 'utf8')) as BaselineMeta;
    return meta?.schema === 'pd-bench/baseline' ? meta : null;
  } catch {
    return null;
  }
}

/** The baseline for this target and workload, or null when the store has none yet. */
export function loadEntry(store: string, target: string, hash: string): StoreEntry | null {
  const dir = entryDir(store, target, hash);
  if (!existsSync(dir)) return null;
  const meta = readMeta(dir);
  if (!meta) throw new ConfigError([{ field: '--baseline-store', value: store, allowed: `allowed: a pd-bench baseline store; ${join(dir, 'baseline.json')} is missing or not a pd-bench baseline` }]);
  return { dir, meta, runs: meta.runs.map((r) => loadRunDir(join(dir, r))) };
}

/** The other workloads stored for this target (to name what differs when tonight's has no baseline). */
export function otherEntries(store: string, target: string): BaselineMeta[] {
  const dir = join(store, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => readMeta(join(dir, e.name)))
    .filter((m): m is BaselineMeta => m !== null)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Files of a run directory a baseline keeps (requests.csv is left out: requests.jsonl holds the same and more). */
const KEPT = ['summary.json', 'summary.csv', 'requests.jsonl'];

/** Makes `runDirs` (tonight's repetitions) the baseline of this target and workload, replacing any old one. */
export function saveEntry(store: string, meta: Omit<BaselineMeta, 'schema' | 'schemaVersion' | 'runs'>, runDirs: readonly string[]): string {
  const final = entryDir(store, meta.target, meta.workload.hash);
  const parent = join(store, meta.target);
  mkdirSync(parent, { recursive: true });
  const fresh = join(parent, `.${meta.workload.hash}.new-${process.pid}`);
  const old = join(parent, `.${meta.workload.hash}.old-${process.pid}`);
  rmSync(fresh, { recursive: true, force: true });
  try {
    const runs = runDirs.map((_, i) => `run-${i + 1}`);
    runDirs.forEach((src, i) => {
      const to = join(fresh, runs[i] as string);
      mkdirSync(to, { recursive: true });
      for (const f of KEPT) if (existsSync(join(src, f))) copyFileSync(join(src, f), join(to, f));
    });
    const full: BaselineMeta = { schema: 'pd-bench/baseline', schemaVersion: 1, ...meta, runs };
    writeFileAtomic(join(fresh, 'baseline.json'), JSON.stringify(full, null, 2) + '\n');
    if (existsSync(final)) renameSync(final, old);
    renameSync(fresh, final);
  } catch (err) {
    // Put the old baseline back if it was moved aside; the half-built one goes.
    if (!existsSync(final) && existsSync(old)) renameSync(old, final);
    rmSync(fresh, { recursive: true, force: true });
    throw err;
  }
  rmSync(old, { recursive: true, force: true });
  return final;
}

export function readHistory(store: string): HistoryRow[] {
  const path = join(store, HISTORY_FILE);
  return existsSync(path) ? parseHistory(readFileSync(path, 'utf8')) : [];
}

/**
 * Adds one row to history.csv (rewritten whole, atomically). Columns of an older file that this version does not
 * write are kept after the current ones, so no recorded figure is lost.
 */
export function appendHistory(store: string, row: HistoryRow): void {
  mkdirSync(store, { recursive: true });
  const rows = [...readHistory(store), row];
  const extra = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => !HISTORY_COLUMNS.includes(c));
  const columns = [...HISTORY_COLUMNS, ...extra];
  const text = csvLine(columns) + rows.map((r) => csvLine(columns.map((c) => r[c] ?? ''))).join('');
  writeFileAtomic(join(store, HISTORY_FILE), text);
}
