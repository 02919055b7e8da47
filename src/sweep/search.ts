// The SLA search of one target (`--find max-qps` / `max-users`): bracket, then bisect. Pure state machine: it
// proposes the next load, the caller runs it and reports the SLO attainment; nothing here runs or waits.
//
// 1. Bracket: probe the lowest load of the axis; while a load meets the goal, probe `factor` times it (capped at
//    the highest load), until one fails or the highest load meets.
// 2. Bisect between the largest load that meets and the smallest that fails, until they are within `precision`
//    of each other (relative to the lower one; for users, also until they are adjacent whole numbers).
// A load whose attainment interval straddles the goal is probed again (its requests pooled) up to `maxProbes`
// times; if it is still uncertain it is decided by its estimate and reported as uncertain.
import { attainmentOf, decidedByEstimate, verdictOf, type Attainment, type PointVerdict } from './attainment.js';

export interface SearchOptions {
  min: number;
  max: number;
  goal: number;
  confidence: number;
  /** Relative width of the final bracket, e.g. 0.05. */
  precision: number;
  /** Probes of one load at most (repeats of an uncertain load). */
  maxProbes: number;
  /** Bracketing growth factor. */
  factor: number;
  integer: boolean;
}

export interface LoadState {
  load: number;
  probes: number;
  met: number;
  judged: number;
  attainment: Attainment;
  /** The verdict of the pooled probes. */
  verdict: PointVerdict;
  /** What the search took it as: meets or fails (uncertain ones by their estimate, once probed maxProbes times). */
  decided: 'meets' | 'fails' | null;
  /** A probe of this load was saturated (the load then fails). */
  saturated: boolean;
}

export type SearchOutcome =
  /** The largest load meeting the goal lies in [lo, hi). */
  | { kind: 'found'; lo: number; hi: number }
  /** Even the lowest load failed. */
  | { kind: 'none-meets'; lowest: number }
  /** The highest load met: capacity is above it. */
  | { kind: 'above-max'; highest: number };

export class CapacitySearch {
  readonly o: SearchOptions;
  readonly loads = new Map<number, LoadState>();
  #outcome: SearchOutcome | undefined;

  constructor(o: SearchOptions) {
    if (!(o.min > 0) || !(o.max >= o.min)) throw new RangeError(`CapacitySearch: need 0 < min <= max, got ${o.min}, ${o.max}`);
    this.o = o;
  }

  get outcome(): SearchOutcome | undefined {
    return this.#outcome;
  }

  /** The largest load taken as meeting, and the smallest failing one above it (undefined when there is none). */
  bracket(): { lo: number | undefined; hi: number | undefined } {
    const states = [...this.loads.values()];
    const meets = states.filter((s) => s.decided === 'meets').map((s) => s.load);
    const lo = meets.length > 0 ? Math.max(...meets) : undefined;
    // The smallest failing load above the best meeting one (a noisy lower failure does not hide a higher success).
    const above = states.filter((s) => s.decided === 'fails' && (lo === undefined || s.load > lo)).map((s) => s.load);
    return { lo, hi: above.length > 0 ? Math.min(...above) : undefined };
  }

  /** What the loads probed so far say, for a sweep over fixed points (no search). */
  summarize(): SearchOutcome | undefined {
    const { lo, hi } = this.bracket();
    if (lo === undefined) return this.loads.size > 0 ? { kind: 'none-meets', lowest: Math.min(...this.loads.keys()) } : undefined;
    if (hi === undefined) return { kind: 'above-max', highest: lo };
    return { kind: 'found', lo, hi };
  }

  /** The load to probe next, or null when the search has ended (see `outcome`). */
  next(): number | null {
    if (this.#outcome) return null;
    // An undecided load is probed again before anything else.
    for (const s of this.loads.values()) if (s.decided === null) return s.load;
    const { lo, hi } = this.bracket();
    if (lo === undefined) {
      if (this.loads.has(this.o.min)) return this.#end({ kind: 'none-meets', lowest: this.o.min });
      return this.o.min;
    }
    if (hi === undefined) {
      if (lo >= this.o.max) return this.#end({ kind: 'above-max', highest: this.o.max });
      return this.#round(Math.min(this.o.max, lo * this.o.factor), lo, Number.POSITIVE_INFINITY);
    }
    const close = (hi - lo) / lo <= this.o.precision || (this.o.integer && hi - lo <= 1);
    if (close) return this.#end({ kind: 'found', lo, hi });
    // Geometric midpoint: the bracket shrinks by the same ratio each step whatever the scale.
    return this.#round(Math.sqrt(lo * hi), lo, hi);
  }

  /**
   * Reports one probe of `load`: requests judged against the SLO and those that met it. A saturated probe fails
   * whatever its attainment: latency there measures a queue that keeps growing, so the load is not sustainable.
   */
  record(load: number, met: number, judged: number, saturated = false): LoadState {
    const prev = this.loads.get(load);
    const s: LoadState = prev ?? { load, probes: 0, met: 0, judged: 0, attainment: attainmentOf(0, 0, this.o.confidence), verdict: 'uncertain', decided: null, saturated: false };
    s.probes++;
    s.met += met;
    s.judged += judged;
    s.saturated ||= saturated;
    s.attainment = attainmentOf(s.met, s.judged, this.o.confidence);
    s.verdict = verdictOf(s.attainment, this.o.goal);
    if (s.saturated) s.decided = 'fails';
    else if (s.verdict !== 'uncertain') s.decided = s.verdict;
    else if (s.probes >= this.o.maxProbes) s.decided = decidedByEstimate(s.attainment, this.o.goal) ? 'meets' : 'fails';
    this.loads.set(load, s);
    return s;
  }

  #end(o: SearchOutcome): null {
    this.#outcome = o;
    return null;
  }

  /** Whole numbers for users (strictly between lo and hi); loads rounded to 4 significant digits. */
  #round(x: number, lo: number, hi: number): number {
    if (this.o.integer) {
      const r = Math.round(x);
      return Math.min(Math.max(r, lo + 1), Number.isFinite(hi) ? hi - 1 : r);
    }
    const r = Number(x.toPrecision(4));
    return r > lo && r < hi ? r : x;
  }
}
