// The SLA search (bracket, then bisect) and its decisions, against synthetic targets whose capacity is known:
// attainment is a function of the load, so the search must end with the capacity inside its bracket, the bracket
// within the precision, and every uncertain load probed again before it is decided.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attainmentOf, normalQuantile, verdictOf } from '../../src/sweep/attainment.js';
import { CapacitySearch, type SearchOptions } from '../../src/sweep/search.js';

const base: SearchOptions = { min: 1, max: 64, goal: 0.99, confidence: 0.95, precision: 0.05, maxProbes: 3, factor: 2, integer: false };

/** Runs a search to its end against `attain(load)` -> [met, judged]; returns the probes in order. */
function drive(s: CapacitySearch, attain: (load: number) => [number, number, boolean?], limit = 200): number[] {
  const probes: number[] = [];
  for (let load = s.next(); load !== null; load = s.next()) {
    probes.push(load);
    const [met, judged, saturated] = attain(load);
    s.record(load, met, judged, saturated ?? false);
    if (probes.length > limit) throw new Error('search did not end');
  }
  return probes;
}

describe('attainment intervals', () => {
  it('normalQuantile matches known quantiles', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.005)).toBeCloseTo(-2.575829, 5);
  });

  it('Wilson: all met out of n gives lo = n / (n + z^2), never 1 from a finite sample', () => {
    const a = attainmentOf(240, 240, 0.95);
    const z = normalQuantile(0.975);
    expect(a.lo).toBeCloseTo(240 / (240 + z * z), 9);
    expect(a.hi).toBe(1);
    expect(verdictOf(a, 0.99)).toBe('uncertain');
    expect(verdictOf(attainmentOf(480, 480, 0.95), 0.99)).toBe('meets');
    expect(verdictOf(attainmentOf(900, 1000, 0.95), 0.99)).toBe('fails');
    expect(verdictOf(attainmentOf(0, 0, 0.95), 0.99)).toBe('uncertain');
  });

  it('the interval always holds the estimate and stays in [0, 1]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0.8, 0.9, 0.95, 0.99), (n, share, conf) => {
        const met = Math.round(share * n);
        const a = attainmentOf(met, n, conf);
        expect(a.lo as number).toBeGreaterThanOrEqual(0);
        expect(a.hi as number).toBeLessThanOrEqual(1);
        expect(a.lo as number).toBeLessThanOrEqual((a.value as number) + 1e-12);
        expect(a.hi as number).toBeGreaterThanOrEqual((a.value as number) - 1e-12);
      }),
    );
  });
});

describe('CapacitySearch', () => {
  it('finds a step capacity anywhere in the range within the precision (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1.01, max: 63.9, noNaN: true }), fc.constantFrom(0.02, 0.05, 0.1), (capacity, precision) => {
        const s = new CapacitySearch({ ...base, precision });
        drive(s, (load) => (load < capacity ? [1000, 1000] : [0, 1000]));
        const o = s.outcome;
        expect(o?.kind).toBe('found');
        if (o?.kind !== 'found') return;
        expect(o.lo).toBeLessThan(capacity);
        expect(o.hi).toBeGreaterThanOrEqual(capacity);
        expect((o.hi - o.lo) / o.lo).toBeLessThanOrEqual(precision);
      }),
    );
  });

  it('finds a users capacity to the whole user', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 500 }), (capacity) => {
        const s = new CapacitySearch({ ...base, min: 1, max: 512, integer: true, precision: 0.001 });
        const probes = drive(s, (load) => (load <= capacity ? [1000, 1000] : [0, 1000]));
        expect(probes.every(Number.isInteger)).toBe(true);
        expect(s.outcome).toEqual({ kind: 'found', lo: capacity, hi: capacity + 1 });
      }),
    );
  });

  it('says when no load meets and when the highest meets, after one probe each way', () => {
    const none = new CapacitySearch(base);
    expect(drive(none, () => [10, 1000])).toEqual([1]);
    expect(none.outcome).toEqual({ kind: 'none-meets', lowest: 1 });
    const all = new CapacitySearch(base);
    expect(drive(all, () => [1000, 1000])).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(all.outcome).toEqual({ kind: 'above-max', highest: 64 });
  });

  it('a saturated load fails whatever its attainment', () => {
    const s = new CapacitySearch(base);
    drive(s, (load) => [1000, 1000, load >= 10]);
    expect(s.outcome).toMatchObject({ kind: 'found' });
    const o = s.outcome as { lo: number; hi: number };
    expect(o.lo).toBeLessThan(10);
    expect(o.hi).toBeGreaterThanOrEqual(10);
    expect(s.loads.get(16)).toMatchObject({ saturated: true, verdict: 'meets', decided: 'fails' });
  });

  it('probes an uncertain load again (pooling its requests) and decides by the estimate after maxProbes', () => {
    const s = new CapacitySearch({ ...base, maxProbes: 3 });
    // 100 of 100 met at every load below 8: the interval [0.963, 1] straddles 0.99 until enough are pooled.
    const probes = drive(s, (load) => (load < 8 ? [100, 100] : [0, 100]));
    expect(probes.slice(0, 3)).toEqual([1, 1, 1]);
    const first = s.loads.get(1);
    expect(first).toMatchObject({ probes: 3, met: 300, judged: 300, decided: 'meets' });
    // 300 of 300: lo = 300/303.84 < 0.99, still uncertain after the last probe, so decided by the estimate.
    expect(first?.verdict).toBe('uncertain');
    expect(s.outcome).toMatchObject({ kind: 'found' });
  });

  it('bisects geometrically: probes stay strictly inside the bracket', () => {
    const s = new CapacitySearch({ ...base, min: 0.5, max: 200 });
    const probes = drive(s, (load) => (load < 37 ? [1000, 1000] : [0, 1000]));
    expect(probes.slice(0, 8)).toEqual([0.5, 1, 2, 4, 8, 16, 32, 64]);
    expect(new Set(probes).size).toBe(probes.length);
    expect(s.outcome).toMatchObject({ kind: 'found' });
  });
});
