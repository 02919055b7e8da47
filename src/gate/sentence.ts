// The gate's one verdict line, e.g. "REGRESSION: ttft.p99 +23.1% [+15.0%, +31.9%] (tolerance 10%) against the
// baseline of 2026-11-20 (exit 7)". The console prints it last; the markdown and JUnit outputs lead with it. Pure.
import { formatChange } from './text.js';
import { formatTolerance } from './tolerance.js';
import type { GatedMetric, GateReport } from './types.js';

/** How far past its tolerance a metric's change is (for ordering: largest first). */
function excess(m: GatedMetric): number {
  const v = m.change.value ?? 1;
  if (m.kind === 'absolute') return Math.abs(v) - m.tolerance;
  return Math.abs(Math.log(v > 0 ? v : 1)) - Math.log(1 + m.tolerance);
}

function listChanges(ms: readonly GatedMetric[], max = 3): string {
  const sorted = [...ms].sort((a, b) => excess(b) - excess(a));
  const shown = sorted.slice(0, max).map((m) => `${m.name} ${formatChange(m)} (tolerance ${formatTolerance(m)})`);
  return shown.join(', ') + (sorted.length > max ? ` and ${sorted.length - max} more` : '');
}

const day = (iso: string | undefined): string => (iso ? iso.replace(/T.*/, '') : 'unknown date');

export function gateSentence(r: GateReport): string {
  const regressed = r.metrics.filter((m) => m.verdict === 'regression');
  const improved = r.metrics.filter((m) => m.verdict === 'improvement');
  const breached = r.thresholds.filter((t) => !t.passed);
  const against = r.baseline ? ` against the baseline of ${day(r.baseline.startedAt)}` : '';
  const exit = ` (exit ${r.exitCode})`;
  const held = r.thresholds.length > 0 && breached.length === 0 ? `; ${r.thresholds.length} threshold${r.thresholds.length === 1 ? '' : 's'} held` : '';
  switch (r.verdict) {
    case 'regression':
      return `REGRESSION: ${r.target}: ${listChanges(regressed)}${against}${breached.length ? `; ${breached.length} threshold(s) breached` : ''}${exit}`;
    case 'threshold breach': {
      const unconfirmed = regressed.length > 0 ? `; worse but unconfirmed (${r.problems[0] ?? 'inconclusive'}): ${listChanges(regressed, 2)}` : '';
      return `THRESHOLD BREACHED: ${r.target}: ${breached.map((t) => t.message).join('; ')}${unconfirmed}${exit}`;
    }
    case 'inconclusive': {
      const few = r.metrics.filter((m) => m.verdict === 'insufficient data');
      const why = [...r.problems, ...(few.length > 0 ? [`too few samples for ${few.map((m) => m.name).join(', ')} (${few[0]?.why ?? ''})`] : [])];
      const more = why.length > 2 ? `; and ${why.length - 2} more` : '';
      const unconfirmed = regressed.length > 0 ? `; worse but unconfirmed: ${listChanges(regressed, 2)}` : '';
      return `INCONCLUSIVE: ${r.target}: ${why.slice(0, 2).join('; ')}${more}${unconfirmed}${exit}`;
    }
    case 'pass': {
      if (!r.baseline) return `PASS: ${r.target}: no baseline yet, nothing to compare${held}${exit}`;
      const better = improved.length > 0 ? `; improved: ${listChanges(improved)}` : '';
      const within = r.metrics.length - improved.length;
      return `PASS: ${r.target}: ${within} of ${r.metrics.length} metrics within tolerance${against}${better}${held}${exit}`;
    }
  }
}
