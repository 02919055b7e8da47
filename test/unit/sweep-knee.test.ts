// The knee: the last load before latency grows faster than throughput (elasticity > 1), never past the last
// point before the first saturated one.
import { describe, expect, it } from 'vitest';
import { findKnee, type KneePoint } from '../../src/sweep/knee.js';

const pt = (load: number, throughput: number, latencyMs: number | null, saturated = false): KneePoint => ({ load, throughput, latencyMs, saturated });

describe('findKnee', () => {
  it('is the lower end of the first segment where latency outgrows throughput', () => {
    // Flat latency while throughput doubles, then +60% latency for +10% throughput.
    const k = findKnee([pt(1, 2, 100), pt(2, 4, 101), pt(4, 8, 105), pt(8, 8.8, 168), pt(16, 9, 900)]);
    expect(k?.load).toBe(4);
    expect(k?.reason).toContain('elasticity');
  });

  it('sorts by load first', () => {
    expect(findKnee([pt(8, 8.8, 168), pt(1, 2, 100), pt(4, 8, 105), pt(2, 4, 101)])?.load).toBe(4);
  });

  it('throughput that stops growing while latency rises is infinitely elastic', () => {
    const k = findKnee([pt(1, 2, 100), pt(2, 4, 100), pt(3, 4, 130)]);
    expect(k).toMatchObject({ load: 2 });
    expect(k?.reason).toContain('inf');
  });

  it('stops before the first saturated point', () => {
    expect(findKnee([pt(1, 2, 100), pt(2, 4, 100), pt(4, 8, 101, true), pt(8, 16, 102)])).toMatchObject({ load: 2, reason: expect.stringContaining('saturated') as unknown as string });
  });

  it('none while latency stays flat, or when the first point is already saturated', () => {
    expect(findKnee([pt(1, 2, 100), pt(2, 4, 100), pt(4, 8, 101)])).toBeNull();
    expect(findKnee([pt(1, 2, 100, true), pt(2, 3, 300, true)])).toBeNull();
    expect(findKnee([pt(1, 2, 100)])).toBeNull();
  });

  it('skips segments without latency (nothing completed)', () => {
    expect(findKnee([pt(1, 2, 100), pt(2, 0, null), pt(4, 8, 101)])).toBeNull();
  });
});
