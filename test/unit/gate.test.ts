// The regression gate on constructed runs: the same shape passes; a 30% slower TTFT is a regression of TTFT (and
// only where its interval clears the tolerance), a faster one an improvement; an unhealthy client or a saturated
// target makes a regression inconclusive; too few samples are inconclusive; a failing share is an error-rate
// regression; thresholds breach; tolerances parse; workloads are told apart by field; JUnit, markdown and
// history.csv carry the numbers; the baseline store replaces entries whole.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ExitCode } from '../../src/errors.js';
import { formatGate } from '../../src/gate/console.js';
import { evaluateGate, type GateOptions } from '../../src/gate/evaluate.js';
import { formatDifferences, keyDifferences, workloadKey } from '../../src/gate/fingerprint.js';
import { csvLine, historyRow, HISTORY_COLUMNS, parseCsv, parseHistory, trendRows } from '../../src/gate/history.js';
import { gateJunit } from '../../src/gate/junit.js';
import { gateMarkdown } from '../../src/gate/markdown.js';
import { parseThresholds } from '../../src/gate/thresholds.js';
import { DEFAULT_TOLERANCES, GATED_METRICS, parseTolerances } from '../../src/gate/tolerance.js';
import { appendHistory, loadEntry, otherEntries, readHistory, saveEntry } from '../../src/store/baseline-store.js';
import { writeRunSummary } from '../../src/store/run-files.js';
import { recordLine } from '../../src/report/requests-jsonl.js';
import { writeFileAtomic } from '../../src/store/atomic-write.js';
import { makeRun, sideOf, type MadeRun } from '../helpers/gate-runs.js';

const OPTS: GateOptions = { tolerances: parseTolerances([]), slo: null, thresholds: [], target: 'pd', label: 'abc123', iterations: 500 };
const base = makeRun({ seed: 1 });

function gate(current: MadeRun, o: Partial<GateOptions> = {}, baseline: MadeRun | null = base): ReturnType<typeof evaluateGate> {
  return evaluateGate(baseline ? sideOf(baseline, 'baseline-dir') : null, sideOf(current, 'current-dir'), { ...OPTS, ...o });
}
const verdicts = (r: ReturnType<typeof gate>): Record<string, string> => Object.fromEntries(r.metrics.map((m) => [m.name, m.verdict]));

describe('evaluateGate', () => {
  it('a run of the same shape (another seed) passes: every metric within noise', () => {
    const r = gate(makeRun({ seed: 2 }));
    expect(r.verdict, r.sentence).toBe('pass');
    expect(r.exitCode).toBe(ExitCode.ok);
    expect(new Set(Object.values(verdicts(r)))).toEqual(new Set(['within noise']));
    expect(r.metrics.map((m) => m.name)).toEqual(GATED_METRICS.filter((g) => !g.needsSlo).map((g) => g.name));
    expect(r.paired).toBe(true);
    expect(r.sentence).toMatch(/^PASS: pd: 15 of 15 metrics within tolerance against the baseline of 2026-11-20 \(exit 0\)$/);
  });

  it('30% slower TTFT: a TTFT regression with its ratio interval, and nothing else', () => {
    const r = gate(makeRun({ seed: 2, ttftMs: 65 }));
    expect(r.verdict).toBe('regression');
    expect(r.exitCode).toBe(ExitCode.regression);
    const v = verdicts(r);
    expect([v['ttft.p50'], v['ttft.p90']]).toEqual(['regression', 'regression']);
    expect(v['itl.p50']).toBe('within noise');
    const p50 = r.metrics.find((m) => m.name === 'ttft.p50');
    expect(p50?.change.lo as number).toBeGreaterThan(1.05);
    expect(p50?.change.value as number).toBeGreaterThan(1.2);
    expect(r.sentence).toMatch(/^REGRESSION: pd: ttft\.p\d+ \+\d+\.\d% \[\+\d+\.\d%, \+\d+\.\d%\] \(tolerance \d+%\)/);
  });

  it('a change inside its tolerance is within noise however narrow its interval', () => {
    // E2EL holds the TTFT: it moves too.
    const r = gate(makeRun({ seed: 2, ttftMs: 65 }), { tolerances: parseTolerances(['ttft=60%', 'e2el=60%']) });
    expect(verdicts(r)['ttft.p50']).toBe('within noise');
    expect(r.verdict).toBe('pass');
  });

  it('30% faster TTFT is an improvement and the gate passes', () => {
    const r = gate(makeRun({ seed: 2, ttftMs: 35 }));
    expect(verdicts(r)['ttft.p50']).toBe('improvement');
    expect(r.verdict).toBe('pass');
    expect(r.sentence).toMatch(/improved: ttft/);
  });

  it('an unhealthy client or a saturated target makes a regression inconclusive (exit 8), naming why', () => {
    const sick = gate(makeRun({ seed: 2, ttftMs: 65, healthy: false }));
    expect(sick.verdict).toBe('inconclusive');
    expect(sick.exitCode).toBe(ExitCode.inconclusive);
    expect(sick.problems[0]).toMatch(/current run's client was unhealthy.*sender lag/);
    expect(sick.sentence).toMatch(/worse but unconfirmed: ttft/);
    const full = gate(makeRun({ seed: 2 }), {}, makeRun({ seed: 1, saturated: true }));
    expect(full.problems[0]).toMatch(/saturated in the baseline run/);
    expect(full.verdict).toBe('inconclusive');
  });

  it('too few samples for a percentile: that metric is insufficient data and the gate inconclusive', () => {
    const small = gate(makeRun({ seed: 2, users: 30 }), {}, makeRun({ seed: 1, users: 30 }));
    const p99 = small.metrics.find((m) => m.name === 'ttft.p99');
    expect(p99?.verdict).toBe('insufficient data');
    expect(p99?.why).toBe('p99 needs 100 values per side; baseline has 60, current 60');
    expect(small.verdict).toBe('inconclusive');
    expect(small.sentence).toMatch(/too few samples for ttft\.p99, tpot\.p99, e2el\.p99/);
    // Turning those metrics off makes the same comparison conclusive.
    const off = gate(makeRun({ seed: 2, users: 30 }), { tolerances: parseTolerances(['ttft.p99=off,tpot.p99=off,e2el.p99=off']) }, makeRun({ seed: 1, users: 30 }));
    expect(off.verdict).toBe('pass');
  });

  it('a 20% failing share is an error-rate regression in percentage points', () => {
    const r = gate(makeRun({ seed: 2, failRate: 0.2 }));
    const e = r.metrics.find((m) => m.name === 'error_rate');
    expect(e?.verdict).toBe('regression');
    expect(e?.change.lo as number).toBeGreaterThan(0.1);
    expect(r.verdict).toBe('regression');
  });

  it('a breached threshold exits 6; a regression outranks it; goodput is gated with an SLO', () => {
    const t = gate(makeRun({ seed: 2 }), { thresholds: parseThresholds(['ttft.p50<10ms', 'error_rate<1%']) });
    expect(t.verdict).toBe('threshold breach');
    expect(t.exitCode).toBe(ExitCode.thresholdBreached);
    expect(t.sentence).toMatch(/^THRESHOLD BREACHED: pd: ttft\.p50 = [\d.]+ ms, limit < 10 ms/);
    expect(gate(makeRun({ seed: 2, ttftMs: 65 }), { thresholds: parseThresholds(['ttft.p50<10ms']) }).verdict).toBe('regression');
    const slo = gate(makeRun({ seed: 2 }), { slo: { preset: null, ttftMs: 60, itlMs: null, itlStat: 'max', tpotMs: null, e2elMs: null }, thresholds: parseThresholds(['goodput>0.5']) });
    expect(slo.metrics.some((m) => m.name === 'goodput')).toBe(true);
    expect(slo.thresholds[0]?.passed).toBe(true);
  });

  it('no baseline: inconclusive, unless tonight seeds it', () => {
    const none = gate(makeRun({ seed: 2 }), { noBaseline: 'no baseline for target pd in /s yet' }, null);
    expect(none.verdict).toBe('inconclusive');
    expect(none.problems).toEqual(['no baseline for target pd in /s yet']);
    const seed = gate(makeRun({ seed: 2 }), { noBaseline: 'no baseline yet', seedsBaseline: true }, null);
    expect(seed.verdict).toBe('pass');
    expect(seed.notes[0]).toMatch(/becomes the baseline/);
  });
});

describe('tolerances', () => {
  it('defaults, exact names, families, off, in order', () => {
    const t = parseTolerances(['ttft=8%', 'ttft.p99=20%,throughput=0.02', 'error_rate=2%', 'itl.p50=off']);
    expect(t['ttft.p50']).toBe(0.08);
    expect(t['ttft.p99']).toBe(0.2);
    expect(t.request_throughput).toBe(0.02);
    expect(t.error_rate).toBe(0.02);
    expect(t['itl.p50']).toBe('off');
    expect(t['e2el.p50']).toBe(DEFAULT_TOLERANCES['e2el.p50']);
  });

  it('every bad item at once', () => {
    let err: unknown;
    try {
      parseTolerances(['ttft.p42=5%', 'ttft=-1%', 'output_throughput=100%', 'itl']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    expect(issues.map((i) => i.value)).toEqual(['ttft.p42=5%', 'ttft=-1%', 'output_throughput=100%', 'itl']);
    expect(issues[2]?.allowed).toMatch(/cannot drop by 100%/);
  });
});

describe('workload fingerprint', () => {
  it('differs exactly in the fields that differ, named', () => {
    const a = workloadKey(base.result);
    const b = workloadKey(makeRun({ seed: 5, config: { seed: 7, tokenizer: 'server' }, model: 'other' }).result);
    expect(workloadKey(makeRun({ seed: 9 }).result)).toEqual(a);
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/);
    const d = keyDifferences(a.fields, b.fields);
    expect(d.map((x) => x.field)).toEqual(['model', 'seed', 'tokenizer']);
    expect(formatDifferences(d)).toBe('model (baseline sim-model, current other), seed (baseline 0, current 7), tokenizer (baseline "estimate", current "server")');
  });
});

describe('outputs', () => {
  const reg = gate(makeRun({ seed: 2, ttftMs: 65 }), { thresholds: parseThresholds(['error_rate<1%', 'ttft.p50<1ms']) });

  it('JUnit: a test case per metric and threshold; the regression and the breach fail with the numbers', () => {
    const xml = gateJunit(reg);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="pd-bench gate" tests="17" failures="\d+" errors="0" skipped="0">/);
    expect(xml).toMatch(/<testcase classname="pd-bench.gate.metrics" name="ttft.p50" time="0">\n\s+<failure type="regression" message="ttft.p50 regressed: \+\d+\.\d% \[\+[\d.]+%, \+[\d.]+%\], beyond the 3% tolerance">baseline [\d.]+ ms, current [\d.]+ ms/);
    expect(xml).toContain('<testcase classname="pd-bench.gate.thresholds" name="ttft.p50&lt;1ms" time="0">');
    expect(xml).toContain('<testcase classname="pd-bench.gate.metrics" name="itl.p50" time="0">\n      <system-out>');
    const sick = gateJunit(gate(makeRun({ seed: 2, ttftMs: 65, healthy: false })));
    expect(sick).toMatch(/<error type="inconclusive" message="the current run&apos;s client was unhealthy/);
    expect(sick).toMatch(/name="ttft.p50" time="0">\n\s+<skipped message="ttft.p50 looks worse/);
  });

  it('markdown and console: the verdict line, a row per metric, the thresholds', () => {
    const md = gateMarkdown(reg);
    expect(md).toMatch(/^### pd-bench gate: REGRESSION — `pd`, run-pd @ 4 QPS\n\n> REGRESSION: pd: /);
    expect(md).toMatch(/\n\| `ttft.p50` \| [\d.]+ ms \| [\d.]+ ms \| \+[\d.]+% \[.*\] \| 3% \| \*\*regression\*\* \|\n/);
    expect(md).toContain('| `ttft.p50<1ms` | **breached** |');
    const text = formatGate(reg);
    expect(text.split('\n').at(-1)).toBe(`gate: ${reg.sentence}`);
  });

  it('history rows round-trip through history.csv, quotes and newlines included', () => {
    const row = historyRow(reg);
    expect(Object.keys(row).every((k) => HISTORY_COLUMNS.includes(k))).toBe(true);
    expect(row.verdict).toBe('regression');
    expect(Number(row['ttft.p50_change_lo'])).toBeGreaterThan(1.05);
    const text = csvLine(HISTORY_COLUMNS) + csvLine(HISTORY_COLUMNS.map((c) => row[c] ?? '')) + csvLine(HISTORY_COLUMNS.map((c) => (c === 'label' ? 'a "quoted",\nlabel' : (row[c] ?? ''))));
    const back = parseHistory(text);
    expect(back[0]).toEqual(Object.fromEntries(HISTORY_COLUMNS.map((c) => [c, row[c] ?? ''])));
    expect(back[1]?.label).toBe('a "quoted",\nlabel');
    expect(trendRows(back, 'pd', reg.workload.hash, 1)).toEqual([back[1]]);
    expect(parseCsv('a,"b,c"\r\n1,2')).toEqual([['a', 'b,c'], ['1', '2']]);
  });
});

describe('baseline store', () => {
  const store = mkdtempSync(join(tmpdir(), 'pd-bench-store-'));
  afterAll(() => rmSync(store, { recursive: true, force: true }));
  /** A saved run directory as `run` writes it. */
  const saved = (r: MadeRun, name: string): string => {
    const dir = join(store, '..', `${store.split('/').at(-1)}-${name}`);
    writeRunSummary(dir, r.result);
    writeFileAtomic(join(dir, 'requests.jsonl'), r.records.map((x) => recordLine(x) + '\n').join(''));
    return dir;
  };

  it('keeps one baseline per target and workload, replaced whole; history.csv gains a row per gate', () => {
    const key = workloadKey(base.result);
    expect(loadEntry(store, 'pd', key.hash)).toBeNull();
    const dir1 = saved(base, 'one');
    saveEntry(store, { target: 'pd', workload: key, createdAt: '2026-11-20T01:00:00.000Z', label: 'a', source: dir1 }, [dir1]);
    const e1 = loadEntry(store, 'pd', key.hash);
    expect(e1?.meta).toMatchObject({ target: 'pd', label: 'a', runs: ['run-1'] });
    expect(e1?.runs[0]?.records).toHaveLength(base.records.length);
    const second = makeRun({ seed: 2 });
    const dir2 = saved(second, 'two');
    saveEntry(store, { target: 'pd', workload: key, createdAt: '2026-11-21T01:00:00.000Z', label: 'b', source: dir2 }, [dir2]);
    expect(loadEntry(store, 'pd', key.hash)?.meta.label).toBe('b');
    expect(loadEntry(store, 'pd', key.hash)?.runs[0]?.result.runId).toBe(second.result.runId);
    // Nothing half-built or moved aside is left behind.
    expect(existsSync(join(store, 'pd', `.${key.hash}.new-${process.pid}`))).toBe(false);
    expect(otherEntries(store, 'pd').map((m) => m.workload.hash)).toEqual([key.hash]);
    expect(otherEntries(store, 'colocated')).toEqual([]);
    for (const dir of [dir1, dir2]) rmSync(dir, { recursive: true, force: true });

    const r = gate(second);
    appendHistory(store, historyRow(r));
    appendHistory(store, historyRow(gate(makeRun({ seed: 3, ttftMs: 65 }))));
    const rows = readHistory(store);
    expect(rows.map((x) => x.verdict)).toEqual(['pass', 'regression']);
    expect(readFileSync(join(store, 'history.csv'), 'utf8').split('\n')[0]).toBe(csvLine(HISTORY_COLUMNS).trim());
  });
});
