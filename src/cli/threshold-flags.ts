// Thresholds as the commands take them: a scenario's `thresholds:` list plus every --threshold, parsed together in
// a command's plan (so a bad expression stops it before any traffic), and their outcomes printed after a run.
// Shared by run, compare and gate.
import type { ScenarioFile } from '../config/scenario.js';
import { IssueCollector } from '../errors.js';
import { parseThresholds, type Threshold, type ThresholdOutcome } from '../gate/thresholds.js';
import type { SloSpec } from '../metrics/slo.js';

/**
 * The thresholds of a command: the scenario's first, then the flags'. Throws one ConfigError with every bad
 * expression, and with every goodput or slo_attainment threshold given without an SLO to judge it.
 */
export function planThresholds(scenario: ScenarioFile | undefined, flags: readonly string[] | undefined, slo: SloSpec | null | undefined): Threshold[] {
  const c = new IssueCollector();
  // One at a time, so the good ones are still checked for an SLO when others are malformed.
  const parse = (texts: readonly string[], source?: string): Threshold[] => texts.flatMap((t) => c.attempt(() => parseThresholds([t], source)) ?? []);
  const all = [...parse(scenario?.thresholds ?? [], scenario ? `scenario ${scenario.path}` : undefined), ...parse(flags ?? [])];
  // slo === undefined: the command could not parse its --slo; that problem is reported on its own.
  if (slo === null) {
    for (const t of all.filter((x) => x.needsSlo)) {
      c.add({ field: '--threshold', value: t.expression, allowed: `${t.metric} is judged against an SLO: add --slo (e.g. --slo dynamo-short or --slo ttft=2s,itl=50ms)` });
    }
  }
  c.throwIfAny();
  return all;
}

/** "thresholds (pd): 1 of 3 breached" and one line per threshold, breaches first. */
export function formatThresholdOutcomes(who: string, outcomes: readonly ThresholdOutcome[]): string {
  const breached = outcomes.filter((o) => !o.passed);
  const head = breached.length > 0 ? `thresholds${who ? ` (${who})` : ''}: ${breached.length} of ${outcomes.length} BREACHED` : `thresholds${who ? ` (${who})` : ''}: all ${outcomes.length} held`;
  const lines = [...breached, ...outcomes.filter((o) => o.passed)].map((o) => `  ${o.passed ? 'ok    ' : 'BREACH'} ${o.expression}: ${o.message}`);
  return [head, ...lines].join('\n');
}
