// Writes a gate's outputs: gate.json (the whole GateReport) into the output directory, the JUnit file and the
// markdown summary where the flags say, each atomically, and the same markdown appended to $GITHUB_STEP_SUMMARY
// (appended, not replaced: every step of a GitHub job adds to that one file). Failures are collected, not thrown,
// so one unwritable file does not cost the others.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gateJunit } from '../gate/junit.js';
import { gateMarkdown } from '../gate/markdown.js';
import type { HistoryRow } from '../gate/history.js';
import type { GateReport } from '../gate/types.js';
import { writeFileAtomic } from './atomic-write.js';

export interface GateFileTargets {
  /** gate.json goes here (none: not written). */
  dir?: string | undefined;
  junit?: string | undefined;
  markdown?: string | undefined;
  /** $GITHUB_STEP_SUMMARY. */
  stepSummary?: string | undefined;
}

export function writeGateFiles(to: GateFileTargets, report: GateReport, trend: readonly HistoryRow[]): { written: string[]; errors: string[] } {
  const written: string[] = [];
  const errors: string[] = [];
  const attempt = (path: string, write: () => void): void => {
    try {
      mkdirSync(dirname(path), { recursive: true });
      write();
      written.push(path);
    } catch (err) {
      errors.push(`${path}: ${(err as Error).message}`);
    }
  };
  if (to.dir) attempt(join(to.dir, 'gate.json'), () => writeFileAtomic(join(to.dir as string, 'gate.json'), JSON.stringify(report, null, 2) + '\n'));
  if (to.junit) attempt(to.junit, () => writeFileAtomic(to.junit as string, gateJunit(report)));
  const md = to.markdown || to.stepSummary ? gateMarkdown(report, trend) : '';
  if (to.markdown) attempt(to.markdown, () => writeFileAtomic(to.markdown as string, md));
  if (to.stepSummary) attempt(to.stepSummary, () => appendFileSync(to.stepSummary as string, md + '\n'));
  return { written, errors };
}
