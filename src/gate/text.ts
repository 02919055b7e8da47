// How the gate writes numbers, in every output alike (console, markdown, JUnit, the verdict line): values in their
// unit, changes as signed percentages (or percentage points) with their interval. Pure.
import { formatNumber } from './thresholds.js';
import type { GatedMetric } from './types.js';

/** "123.4 ms", "1.2%", "8.1 req/s", "-" for none. */
export function formatValue(unit: GatedMetric['unit'], v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '-';
  if (unit === 'fraction') return `${formatNumber(v * 100)}%`;
  return `${formatNumber(v)} ${unit}`;
}

/** "+23.1", "-4.0", "±0.0": a fixed number of decimals, the sign always shown. */
const signed = (x: number, digits: number): string => {
  const t = Math.abs(x).toFixed(digits);
  if (Number(t) === 0) return `±${t}`;
  return `${x > 0 ? '+' : '-'}${t}`;
};

/** "+23.1% [+15.0%, +31.9%]" (relative) or "+1.5 points [+0.8, +2.2]" (absolute); "-" without a value. */
export function formatChange(m: Pick<GatedMetric, 'kind' | 'change'>): string {
  const { value, lo, hi } = m.change;
  if (value === null) return '-';
  if (m.kind === 'absolute') {
    const pts = (x: number): string => signed(x * 100, 2);
    const ci = lo !== null && hi !== null ? ` [${pts(lo)}, ${pts(hi)}]` : '';
    return `${pts(value)} points${ci}`;
  }
  const pct = (x: number): string => `${signed((x - 1) * 100, 1)}%`;
  const ci = lo !== null && hi !== null ? ` [${pct(lo)}, ${pct(hi)}]` : '';
  return `${pct(value)}${ci}`;
}

/** "▁▂▅█" of a series (null: a gap), scaled between its min and max; empty with fewer than 2 values. */
export function sparkline(values: readonly (number | null)[]): string {
  const ticks = '▁▂▃▄▅▆▇█';
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length < 2) return '';
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return values
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return ' ';
      const i = hi > lo ? Math.round(((v - lo) / (hi - lo)) * (ticks.length - 1)) : 3;
      return ticks[i] as string;
    })
    .join('');
}
