// Writes a sweep's files: summary.json (the SweepReport), capacity.csv, capacity-summary.csv and the self-contained
// report.html, each atomically. Each is attempted even if another fails; the failures are returned, not thrown.
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { CAPACITY_COLUMNS, CAPACITY_SUMMARY_COLUMNS, capacityCsvRows, capacitySummaryRows } from '../report/capacity-csv.js';
import { renderSweepHtml } from '../report/sweep-html.js';
import type { SweepReport } from '../sweep/types.js';
import { writeFileAtomic } from './atomic-write.js';

export const SWEEP_FILES = ['summary.json', 'capacity.csv', 'capacity-summary.csv', 'report.html'] as const;

/** `json: false` keeps summary.json as it is (`pd-bench report` on a sweep directory). */
export function writeSweepFiles(dir: string, report: SweepReport, files: { json?: boolean } = {}): { written: string[]; errors: string[] } {
  const written: string[] = [];
  const errors: string[] = [];
  const attempt = (name: (typeof SWEEP_FILES)[number], make: () => string): void => {
    try {
      writeFileAtomic(join(dir, name), make());
      written.push(name);
    } catch (err) {
      errors.push(`${join(dir, name)}: ${(err as Error).message}`);
    }
  };
  const csv = (rows: Record<string, unknown>[], columns: readonly string[]): string => stringify(rows, { header: true, columns: [...columns], cast: { boolean: (b) => String(b) } });
  if (files.json !== false) attempt('summary.json', () => JSON.stringify(report, null, 2) + '\n');
  attempt('capacity.csv', () => csv(capacityCsvRows(report), CAPACITY_COLUMNS));
  attempt('capacity-summary.csv', () => csv(capacitySummaryRows(report), CAPACITY_SUMMARY_COLUMNS));
  attempt('report.html', () => renderSweepHtml(report));
  return { written, errors };
}
