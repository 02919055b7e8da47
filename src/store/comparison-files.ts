// Writes a comparison's files: comparison.json (the ComparisonReport), comparison.csv (spreadsheets) and the
// self-contained report.html, each atomically. Each is attempted even if another fails; the failures are returned, not thrown.
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { ComparisonReport } from '../compare/types.js';
import { COMPARISON_COLUMNS, comparisonRows } from '../report/comparison-csv.js';
import { renderHtmlReport } from '../report/html.js';
import { writeFileAtomic } from './atomic-write.js';

export function writeComparisonFiles(dir: string, report: ComparisonReport, files: { json?: boolean; csv?: boolean } = {}): { written: string[]; errors: string[] } {
  const written: string[] = [];
  const errors: string[] = [];
  const attempt = (name: string, make: () => string): void => {
    try {
      writeFileAtomic(join(dir, name), make());
      written.push(name);
    } catch (err) {
      errors.push(`${join(dir, name)}: ${(err as Error).message}`);
    }
  };
  if (files.json !== false) attempt('comparison.json', () => JSON.stringify(report, null, 2) + '\n');
  if (files.csv !== false && report.comparisons.length > 0) {
    attempt('comparison.csv', () => stringify(comparisonRows(report), { header: true, columns: [...COMPARISON_COLUMNS], cast: { boolean: (b) => String(b) } }));
  }
  attempt('report.html', () => renderHtmlReport(report));
  return { written, errors };
}
