// Reads saved results back: a run directory (summary.json + requests.jsonl) or a comparison directory
// (comparison.json + one run directory per target, rep-N below it when repeated). Bad input gets a ConfigError
// naming the directory and what it should contain.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ComparisonReport } from '../compare/types.js';
import { ConfigError } from '../errors.js';
import type { RequestRecord } from '../result/record.js';
import { RESULT_SCHEMA, type RunResult } from '../result/schema.js';
import { parseRecordLines } from '../report/requests-jsonl.js';

export interface SavedRun {
  dir: string;
  result: RunResult;
  /** From requests.jsonl; null when the run predates it (statistics then cannot be recomputed). */
  records: RequestRecord[] | null;
}

export type Saved =
  | { kind: 'run'; dir: string; name: string; run: SavedRun }
  | { kind: 'comparison'; dir: string; report: ComparisonReport; targets: { name: string; runs: SavedRun[] }[] };

const WHAT = 'allowed: a pd-bench results directory: one with summary.json and requests.jsonl (pd-bench run), or with comparison.json (pd-bench compare)';

function bad(dir: string, why: string): ConfigError {
  return new ConfigError([{ field: 'results directory', value: dir, allowed: `${WHAT}; ${why}` }]);
}

function readJson(path: string, dir: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw bad(dir, `${basename(path)} could not be read (${(err as Error).message})`);
  }
}

export function loadRunDir(dir: string): SavedRun {
  const summary = join(dir, 'summary.json');
  if (!existsSync(summary)) {
    const sweep = existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir).filter((d) => d.startsWith('qps-')) : [];
    throw bad(dir, sweep.length > 0 ? `it is a QPS sweep: give one point's directory, e.g. ${join(dir, sweep[0] as string)}` : 'summary.json is missing');
  }
  const result = readJson(summary, dir) as RunResult;
  if (result?.schema !== RESULT_SCHEMA) throw bad(dir, 'summary.json is not a pd-bench run result');
  // Results written before these fields existed.
  result.rounds ??= [];
  result.server ??= null;
  const jsonl = join(dir, 'requests.jsonl');
  let records: RequestRecord[] | null = null;
  if (existsSync(jsonl)) {
    try {
      records = parseRecordLines(readFileSync(jsonl, 'utf8'), jsonl);
    } catch (err) {
      throw bad(dir, (err as Error).message);
    }
  }
  return { dir, result, records };
}

export function loadSaved(dir: string): Saved {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw bad(dir, 'no such directory');
  const cmp = join(dir, 'comparison.json');
  if (!existsSync(cmp)) return { kind: 'run', dir, name: basename(dir), run: loadRunDir(dir) };
  const report = readJson(cmp, dir) as ComparisonReport;
  if (report?.schema !== 'pd-bench/comparison') throw bad(dir, 'comparison.json is not a pd-bench comparison');
  const targets = report.targets.map((t) => {
    const tdir = join(dir, t.name);
    const reps = report.repeat > 1 ? t.runs.map((_, i) => join(tdir, `rep-${i + 1}`)) : [tdir];
    return { name: t.name, runs: reps.map(loadRunDir) };
  });
  return { kind: 'comparison', dir, report, targets };
}
