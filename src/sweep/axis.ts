// A sweep's load axis: `--qps` or `--users` given as a list (`1,2,4`), an arithmetic range (`0.5:8:0.5`) or a
// geometric one (`0.5:8:x2`), and what one point of it means for the run config. Pure.
//
// The users axis keeps each user's pace: a point of N users runs N users at qps = N * base qps / base users, so
// every user asks as often as in the scenario and the load grows with the number of users (the question "how many
// chat users does a GPU carry").
import { ConfigError } from '../errors.js';

export type AxisName = 'qps' | 'users';

export interface AxisSpec {
  name: AxisName;
  /** The points, in the order they run: lightest load first. */
  points: number[];
  /** What was typed, for labels. */
  text: string;
  /** Lowest and highest point: a search's bounds. */
  min: number;
  max: number;
}

export const AXIS_GRAMMAR =
  'allowed: a list (1,2,4), a range from:to:step (0.5:8:0.5) or a geometric range from:to:xfactor (0.5:16:x2), with from <= to, positive numbers, at most 200 points';

export const MAX_AXIS_POINTS = 200;

const num = (s: string): number => (s.trim() === '' ? Number.NaN : Number(s));

/** Rounds away floating-point dust (0.1 + 0.2) so that points print as typed. */
const tidy = (x: number): number => Number(x.toPrecision(12));

/** Parses an axis flag; throws ConfigError naming the flag and the grammar. */
export function parseAxis(name: AxisName, text: string): AxisSpec {
  const flag = `--${name}`;
  const bad = (why: string): never => {
    throw new ConfigError([{ field: flag, value: text, allowed: `${why}; ${AXIS_GRAMMAR}` }]);
  };
  const t = text.trim();
  let points: number[];
  if (t.includes(':')) {
    const parts = t.split(':');
    if (parts.length !== 3) bad('a range has three parts');
    const [a, b, stepText] = parts as [string, string, string];
    const from = num(a);
    const to = num(b);
    if (!(from > 0) || !(to > 0) || !Number.isFinite(from) || !Number.isFinite(to)) bad('from and to must be positive numbers');
    if (from > to) bad('from must not exceed to (points always run from the lightest load up)');
    const geometric = /^[x*]/i.test(stepText.trim());
    const step = num(geometric ? stepText.trim().slice(1) : stepText);
    if (geometric ? !(step > 1) : !(step > 0)) bad(geometric ? 'a geometric factor must be above 1' : 'the step must be positive');
    points = [];
    // Index-based, so that errors do not accumulate over many steps; the end is included when hit within 1e-9.
    for (let i = 0; points.length <= MAX_AXIS_POINTS; i++) {
      const v = tidy(geometric ? from * step ** i : from + step * i);
      if (v > to * (1 + 1e-9)) break;
      points.push(v);
    }
  } else {
    points = t.split(',').map(num);
    if (points.some((p) => !(p > 0) || !Number.isFinite(p))) bad('every point must be a positive number');
    points = [...new Set(points)].sort((x, y) => x - y);
  }
  if (name === 'users' && points.some((p) => !Number.isInteger(p))) bad('users must be whole numbers');
  if (points.length === 0) bad('no points');
  if (points.length > MAX_AXIS_POINTS) bad(`more than ${MAX_AXIS_POINTS} points`);
  return { name, points, text: t, min: points[0] as number, max: points.at(-1) as number };
}

/** The run settings of one point: the QPS and the number of users. */
export function pointSettings(axis: AxisName, value: number, base: { qps: number; numUsers: number }): { qps: number; numUsers: number } {
  if (axis === 'qps') return { qps: value, numUsers: base.numUsers };
  return { qps: tidy((value * base.qps) / base.numUsers), numUsers: Math.round(value) };
}

/** A point's label for directories and tables: `qps-2.5`, `users-40`. */
export function pointLabel(axis: AxisName, value: number): string {
  return `${axis}-${tidy(value)}`;
}
