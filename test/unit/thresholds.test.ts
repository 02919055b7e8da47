// Thresholds: every documented form parses to the right metric, operator and limit (in the metric's unit); every
// bad expression is reported at once with the grammar; evaluation says which held and by how much each breached
// one missed; every catalog name reads a value from a real result; repetitions pool exactly; the README lists
// every name.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { METRIC_CATALOG, LATENCY_FAMILIES, LATENCY_STATS } from '../../src/gate/metric-catalog.js';
import { poolRuns } from '../../src/gate/pool.js';
import { evaluateThresholds, parseThresholds, THRESHOLD_GRAMMAR, type Threshold } from '../../src/gate/thresholds.js';
import { planThresholds } from '../../src/cli/threshold-flags.js';
import type { RunResult } from '../../src/result/schema.js';
import { makeRun } from '../helpers/gate-runs.js';

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const one = (text: string): Threshold => parseThresholds([text])[0] as Threshold;

describe('parseThresholds', () => {
  it.each([
    ['ttft.p99<2s', 'ttft.p99', '<', 2000],
    ['itl.p50<=30ms', 'itl.p50', '<=', 30],
    ['error_rate<1%', 'error_rate', '<', 0.01],
    ['error_rate < 0.005', 'error_rate', '<', 0.005],
    ['goodput>=1.5', 'goodput', '>=', 1.5],
    ['output_throughput>500', 'output_throughput', '>', 500],
    ['e2el.mean <= 1.5 s', 'e2el.mean', '<=', 1500],
    ['tpot.p999<250us', 'tpot.p999', '<', 0.25],
    ['ttft.p99.9<900', 'ttft.p999', '<', 900],
    ['schedule_lag.max!=0', 'schedule_lag.max', '!=', 0],
    ['failed==0', 'failed', '==', 0],
    ['client.cpu_share<0.8', 'client.cpu_share', '<', 0.8],
  ])('%s', (text, metric, op, limit) => {
    const t = one(text);
    expect(t.kind).toBe('compare');
    expect(t).toMatchObject({ metric, op, expression: text.trim() });
    expect((t as { limit: number }).limit).toBeCloseTo(limit, 12);
  });

  it.each([
    ['client.healthy', 'client.healthy', true],
    ['!target.saturated', 'target.saturated', false],
    [' ! client.healthy ', 'client.healthy', false],
  ])('the yes/no form %j', (text, metric, expect_) => {
    expect(one(text)).toMatchObject({ kind: 'bool', metric, expect: expect_ });
  });

  it('goodput and slo_attainment are marked as needing an SLO', () => {
    expect(parseThresholds(['goodput>1', 'slo_attainment>=99%', 'ttft.p99<1s']).map((t) => t.needsSlo)).toEqual([true, true, false]);
  });

  it('reports every bad expression at once, each with why and the grammar', () => {
    const bad = ['ttft<2s', 'ttft.p42<1s', 'error_rate<5', 'ttft.p99<2%', 'client.healthy<1', 'output_throughput>5ms', 'ttft.p99', 'fish>1', '', 'ttft.p99 << 2'];
    const err = configError(() => parseThresholds(['ttft.p99<2s', ...bad]));
    expect(err.issues.map((i) => i.value)).toEqual(bad);
    const why = err.issues.map((i) => i.allowed.split('; allowed:')[0]);
    expect(why).toEqual([
      'ttft needs a statistic, e.g. ttft.p99',
      'unknown metric "ttft.p42"',
      'error_rate is a share: give a percentage (e.g. error_rate<1%) or a fraction from 0 to 1',
      'ttft.p99 is a latency: give ms, s or us (e.g. ttft.p99<2s)',
      'client.healthy is a yes/no check: write client.healthy or !client.healthy',
      'output_throughput is in tok/s: give a plain number (e.g. output_throughput>1.5)',
      'ttft.p99 needs a comparison, e.g. ttft.p99<2s',
      'unknown metric "fish"',
      'empty expression',
      'not of the form metric[.stat] OP value[unit]',
    ]);
    for (const i of err.issues) {
      expect(i.field).toBe('--threshold');
      expect(i.allowed).toContain(THRESHOLD_GRAMMAR);
    }
    // One line per bad expression: the CLI prints each as `pd-bench: <line>`.
    expect(err.message.split('\n')).toHaveLength(bad.length);
  });

  it('names the scenario file a bad expression came from', () => {
    const err = configError(() => parseThresholds(['ttft<1s'], 'scenario /x/nightly.yaml'));
    expect(err.issues[0]).toMatchObject({ field: 'thresholds', source: 'scenario /x/nightly.yaml' });
    expect(err.message).toMatch(/^invalid thresholds \(in scenario \/x\/nightly\.yaml\): "ttft<1s"/);
  });

  it('the plan adds the scenario thresholds first and refuses goodput without an SLO', () => {
    const scenario = { name: 's', path: '/s.yaml', description: undefined, fields: {}, thresholds: ['ttft.p99<2s'] };
    expect(planThresholds(scenario, ['error_rate<1%'], null).map((t) => t.expression)).toEqual(['ttft.p99<2s', 'error_rate<1%']);
    const err = configError(() => planThresholds(scenario, ['goodput>=1.5', 'ttft<1s'], null));
    // The malformed one, and the well-formed goodput threshold that lacks an SLO: every problem at once.
    expect(err.issues.map((i) => i.value)).toEqual(['ttft<1s', 'goodput>=1.5']);
    const noSlo = configError(() => planThresholds(undefined, ['goodput>=1.5'], null));
    expect(noSlo.issues[0]?.allowed).toMatch(/add --slo/);
  });
});

/** A result whose TTFT p99 is exactly `ms`. */
function withTtftP99(ms: number): RunResult {
  const r = makeRun().result;
  return { ...r, metrics: { ...r.metrics, ttft_ms: { ...r.metrics.ttft_ms, p99: ms } } };
}

describe('evaluateThresholds', () => {
  it('says by how much a breached limit was missed, in the unit it was written in', () => {
    const [o] = evaluateThresholds(parseThresholds(['ttft.p99<2s']), withTtftP99(2310));
    expect(o).toMatchObject({ passed: false, value: 2310, limit: 2000, op: '<' });
    expect(o?.message).toBe('ttft.p99 = 2.31 s, limit < 2 s (15.5% over)');
    const [ok] = evaluateThresholds(parseThresholds(['ttft.p99<=2500ms']), withTtftP99(2310));
    expect(ok?.passed).toBe(true);
    expect(ok?.message).toBe('ttft.p99 = 2310 ms, limit <= 2500 ms (7.6% headroom)');
  });

  it('lower limits, shares in percentage points, counts', () => {
    const r = makeRun({ failRate: 0.1, seed: 3 }).result;
    const rate = r.counts.failed / r.counts.launched;
    const [tput, err, failed] = evaluateThresholds(parseThresholds(['output_throughput>100000', 'error_rate<1%', 'failed==0']), r);
    expect(tput?.passed).toBe(false);
    expect(tput?.message).toMatch(/^output_throughput = [\d.]+, limit > 100000 \(\d+(\.\d)?% under\)$/);
    expect(err?.value).toBeCloseTo(rate, 12);
    expect(err?.message).toBe(`error_rate = ${Number((rate * 100).toPrecision(4))}%, limit < 1% (${Number(((rate - 0.01) * 100).toPrecision(4))} points over)`);
    expect(failed).toMatchObject({ passed: false, value: r.counts.failed });
  });

  it('yes/no checks carry the evidence when they fail', () => {
    const r = makeRun({ healthy: false, saturated: true }).result;
    const [h, s, ns] = evaluateThresholds(parseThresholds(['client.healthy', 'target.saturated', '!target.saturated']), r);
    expect(h).toMatchObject({ passed: false, value: false, limit: true });
    expect(h?.message).toMatch(/^client.healthy = false, required true \(sender lag p99 44 ms > 10 ms/);
    expect(s?.passed).toBe(true);
    expect(ns?.message).toBe('target.saturated = true, required false (TTFT rising: +53 ms per minute)');
  });

  it('a metric with no value fails, and goodput without an SLO says it needs one', () => {
    const r = makeRun({ failRate: 1 }).result;
    const [ttft, good, goodWith] = [...evaluateThresholds(parseThresholds(['ttft.p50<1s', 'goodput>1']), r), ...evaluateThresholds(parseThresholds(['goodput>1']), r, { goodput: 2 })];
    expect(ttft).toMatchObject({ passed: false, value: null });
    expect(ttft?.message).toMatch(/no value/);
    expect(good?.message).toMatch(/needs --slo/);
    expect(goodWith).toMatchObject({ passed: true, value: 2 });
  });

  it('every catalog name reads a value of its unit from a real result', () => {
    const r = makeRun({ failRate: 0.05 }).result;
    for (const e of METRIC_CATALOG) {
      const v = e.read(r, { goodput: 1.5, sloAttainment: 0.9 });
      if (e.unit === 'bool') expect(typeof v, e.name).toBe('boolean');
      else expect(typeof v === 'number' && Number.isFinite(v), e.name).toBe(true);
    }
  });
});

describe('poolRuns', () => {
  it('pools repetitions exactly: percentiles of all values, counts summed, rates over the summed time', () => {
    const a = makeRun({ seed: 1, ttftMs: 40 });
    const b = makeRun({ seed: 2, ttftMs: 80, healthy: false });
    const pooled = poolRuns([a.result, b.result]);
    const all = [...a.samples, ...b.samples].map((s) => s.ttftMs as number).sort((x, y) => x - y);
    const p50 = all[Math.ceil(0.5 * all.length) - 1] as number;
    // HDR histograms at 3 significant digits: the pooled percentile is the value's bucket.
    expect(Math.abs((pooled.metrics.ttft_ms.p50 as number) - p50) / p50).toBeLessThan(0.002);
    expect(pooled.counts.launched).toBe(a.result.counts.launched + b.result.counts.launched);
    expect(pooled.throughput.measuredDurationS).toBeCloseTo(a.result.throughput.measuredDurationS + b.result.throughput.measuredDurationS, 9);
    expect(pooled.throughput.requestThroughput).toBeCloseTo((a.result.counts.ok + b.result.counts.ok) / pooled.throughput.measuredDurationS, 9);
    expect(pooled.client.healthy).toBe(false);
    expect(pooled.client.reasons[0]).toMatch(/^rep 2: sender lag/);
    expect(poolRuns([a.result])).toBe(a.result);
  });
});

describe('README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Thresholds'), readme.indexOf('\n## ', readme.indexOf('### Thresholds')));
  const names = [...LATENCY_FAMILIES, ...LATENCY_STATS.map((s) => `.${s}`), ...METRIC_CATALOG.filter((e) => !/\.(p\d+|mean|max|min)$/.test(e.name) || e.name.startsWith('client.')).map((e) => e.name)];
  it.each(names)('the Thresholds section names %s', (name) => {
    expect(section).toContain(`\`${name}\``);
  });
});
