// The metrics the regression gate judges and how much change each tolerates before a change can be called a
// regression: the defaults (chosen from bench/GATE-NOISE.md) and the --tolerance flag parser. Pure.
import type { ComparedMetric } from '../compare/types.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import type { GatedMetric } from './types.js';

export interface GatedSpec {
  name: string;
  /** The statistic of compare/statistics.ts this metric reads (error_rate: computed by gate/error-rate.ts). */
  source: { metric: ComparedMetric; stat: 'p50' | 'p90' | 'p99' | 'value' } | 'error_rate';
  unit: GatedMetric['unit'];
  higherIsBetter: boolean;
  kind: GatedMetric['kind'];
  /** Judged only with an SLO (goodput). */
  needsSlo?: boolean;
}

const LATENCIES = [
  ['ttft', 'ttft_ms'],
  ['itl', 'itl_ms'],
  ['tpot', 'tpot_ms'],
  ['e2el', 'e2el_ms'],
] as const;
const PCTS = ['p50', 'p90', 'p99'] as const;

/** Every gated metric, in report order. */
export const GATED_METRICS: readonly GatedSpec[] = [
  ...LATENCIES.flatMap(([family, metric]) =>
    PCTS.map((stat): GatedSpec => ({ name: `${family}.${stat}`, source: { metric, stat }, unit: 'ms', higherIsBetter: false, kind: 'relative' })),
  ),
  { name: 'request_throughput', source: { metric: 'request_throughput', stat: 'value' }, unit: 'req/s', higherIsBetter: true, kind: 'relative' },
  { name: 'output_throughput', source: { metric: 'output_throughput', stat: 'value' }, unit: 'tok/s', higherIsBetter: true, kind: 'relative' },
  { name: 'goodput', source: { metric: 'request_goodput', stat: 'value' }, unit: 'req/s', higherIsBetter: true, kind: 'relative', needsSlo: true },
  { name: 'error_rate', source: 'error_rate', unit: 'fraction', higherIsBetter: false, kind: 'absolute' },
];

/**
 * Default tolerances. Relative ones are shares of the baseline (0.03 = 3%); error_rate's is absolute (0.01 = one
 * percentage point). Chosen from bench/GATE-NOISE.md (same-configuration repeats against the simulator): medians and
 * TTFT/TPOT/E2EL tails barely move between runs beyond their bootstrap interval, so 3% (5% for the TPOT and E2EL
 * p99, 10% for the TTFT p99 whose interval is wide) catches a 10% TTFT regression; ITL tails move between runs by
 * several times their within-run interval (the client's and the machine's jitter lands in the gaps), so itl.p90
 * and itl.p99 get 10% and 30%, which keeps false alarms under 1% of gates.
 */
export const DEFAULT_TOLERANCES: Readonly<Record<string, number>> = {
  'ttft.p50': 0.03,
  'ttft.p90': 0.03,
  'ttft.p99': 0.1,
  'itl.p50': 0.03,
  'itl.p90': 0.1,
  'itl.p99': 0.3,
  'tpot.p50': 0.03,
  'tpot.p90': 0.03,
  'tpot.p99': 0.05,
  'e2el.p50': 0.03,
  'e2el.p90': 0.03,
  'e2el.p99': 0.05,
  request_throughput: 0.05,
  output_throughput: 0.05,
  goodput: 0.05,
  error_rate: 0.01,
};

/** Per gated metric name: its tolerance, or 'off' (not gated). */
export type Tolerances = Record<string, number | 'off'>;

export const TOLERANCE_ALLOWED =
  `a comma list of NAME=VALUE: NAME a gated metric (${GATED_METRICS.map((g) => g.name).join(', ')}), a family (ttft, itl, tpot, e2el: ` +
  'its p50, p90 and p99; throughput: both throughputs); VALUE a change such as 10% or 0.1, or off (not gated); error_rate takes ' +
  'percentage points (1% = one point more failed requests)';

/** The names one tolerance key stands for. */
function namesFor(key: string): string[] {
  if (GATED_METRICS.some((g) => g.name === key)) return [key];
  if (LATENCIES.some(([f]) => f === key)) return PCTS.map((p) => `${key}.${p}`);
  if (key === 'throughput') return ['request_throughput', 'output_throughput'];
  return [];
}

function parseValue(text: string, name: string): number | 'off' | string {
  if (text === 'off') return 'off';
  const pct = text.endsWith('%');
  const v = Number(pct ? text.slice(0, -1) : text) / (pct ? 100 : 1);
  if (text === '' || text === '%' || !Number.isFinite(v) || v < 0) return `"${text}" is not a change >= 0`;
  const spec = GATED_METRICS.find((g) => g.name === name);
  // A drop of 100% or more cannot happen to a rate, so such a tolerance would silently gate nothing.
  if (spec?.higherIsBetter && v >= 1) return `"${text}": ${name} cannot drop by 100% or more; give less than 100%`;
  if (v > 10) return `"${text}" is over 1000%`;
  return v;
}

/**
 * The defaults with every --tolerance applied, in order (a later key overrides an earlier one). Throws one
 * ConfigError naming every bad item.
 */
export function parseTolerances(specs: readonly string[]): Tolerances {
  const out: Tolerances = { ...DEFAULT_TOLERANCES };
  const issues: ConfigIssue[] = [];
  for (const item of specs.flatMap((s) => s.split(',')).map((s) => s.trim())) {
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim().toLowerCase() : '';
    const names = namesFor(key);
    if (names.length === 0) {
      issues.push({ field: '--tolerance', value: item, allowed: `${eq > 0 ? `unknown metric "${key}"` : 'not NAME=VALUE'}; allowed: ${TOLERANCE_ALLOWED}` });
      continue;
    }
    for (const name of names) {
      const v = parseValue(item.slice(eq + 1).trim().toLowerCase(), name);
      if (typeof v === 'string' && v !== 'off') {
        issues.push({ field: '--tolerance', value: item, allowed: `${v}; allowed: ${TOLERANCE_ALLOWED}` });
        break;
      }
      out[name] = v;
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

/** "10%", or "1 point" for error_rate. */
export function formatTolerance(m: Pick<GatedMetric, 'kind' | 'tolerance'>): string {
  const v = Number((m.tolerance * 100).toPrecision(3));
  return m.kind === 'absolute' ? `${v} point${v === 1 ? '' : 's'}` : `${v}%`;
}
