// The sweep's load axis: lists, arithmetic and geometric ranges, the users axis's pace, and one clear error per
// bad spec (naming the flag and the grammar).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { MAX_AXIS_POINTS, parseAxis, pointLabel, pointSettings } from '../../src/sweep/axis.js';

const issueOf = (f: () => unknown): { field: string; allowed: string } => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues[0] as { field: string; allowed: string };
  }
  throw new Error('expected a ConfigError');
};

describe('parseAxis', () => {
  it('takes a list, sorted lightest first, duplicates dropped', () => {
    expect(parseAxis('qps', '4.1,0.1,2.1,0.1').points).toEqual([0.1, 2.1, 4.1]);
  });

  it('takes run.sh’s 4.1 -> 0.1 list as a sweep from 0.1 up', () => {
    const a = parseAxis('qps', '4.1,3.7,3.3,2.9,2.5,2.1,1.7,1.3,0.9,0.5,0.1');
    expect(a.points[0]).toBe(0.1);
    expect(a.points.at(-1)).toBe(4.1);
    expect(a.points).toHaveLength(11);
  });

  it('takes an arithmetic range with its end included and no floating-point dust', () => {
    expect(parseAxis('qps', '0.5:2:0.5').points).toEqual([0.5, 1, 1.5, 2]);
    expect(parseAxis('qps', '0.1:0.7:0.2').points).toEqual([0.1, 0.3, 0.5, 0.7]);
    expect(parseAxis('qps', '1:2.5:1').points).toEqual([1, 2]);
  });

  it('takes a geometric range (x or *)', () => {
    expect(parseAxis('qps', '0.5:16:x2').points).toEqual([0.5, 1, 2, 4, 8, 16]);
    expect(parseAxis('qps', '1:10:*3').points).toEqual([1, 3, 9]);
  });

  it('takes users as whole numbers', () => {
    const a = parseAxis('users', '10:40:10');
    expect(a).toMatchObject({ name: 'users', points: [10, 20, 30, 40], min: 10, max: 40 });
  });

  it.each([
    ['8:1:1', 'from must not exceed to'],
    ['1:8', 'three parts'],
    ['1:8:0', 'step must be positive'],
    ['1:8:x1', 'factor must be above 1'],
    ['0:8:1', 'positive numbers'],
    ['1,-2', 'positive number'],
    ['a,b', 'positive number'],
    ['', 'positive number'],
    [`1:${MAX_AXIS_POINTS + 10}:1`, `more than ${MAX_AXIS_POINTS} points`],
  ])('rejects --qps %s with one line naming the grammar', (spec, why) => {
    const issue = issueOf(() => parseAxis('qps', spec));
    expect(issue.field).toBe('--qps');
    expect(issue.allowed).toContain(why);
    expect(issue.allowed).toContain('from:to:step');
  });

  it('rejects fractional users', () => {
    expect(issueOf(() => parseAxis('users', '1.5,2')).allowed).toContain('whole numbers');
  });
});

describe('pointSettings', () => {
  it('a qps point keeps the users', () => {
    expect(pointSettings('qps', 2.5, { qps: 1, numUsers: 120 })).toEqual({ qps: 2.5, numUsers: 120 });
  });

  it('a users point keeps each user’s pace: qps grows with the users', () => {
    // run-pd: 120 users at 1.1 QPS, one turn per user every 109 s.
    const s = pointSettings('users', 240, { qps: 1.1, numUsers: 120 });
    expect(s).toEqual({ qps: 2.2, numUsers: 240 });
    expect(s.numUsers / s.qps).toBeCloseTo(120 / 1.1, 9);
  });

  it('labels points for directories', () => {
    expect(pointLabel('qps', 0.1 + 0.2)).toBe('qps-0.3');
    expect(pointLabel('users', 40)).toBe('users-40');
  });
});
