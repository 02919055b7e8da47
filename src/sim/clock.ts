// Time for the simulator: a real-time clock for serving (timers aimed at absolute times, so lateness never
// accumulates) and a virtual clock for tests (an event queue that runs instantly and exactly).

export interface SimClock {
  /** Current time in ms (simulated time; real time divided by the time scale for RealClock). */
  now(): number;
  /** Runs `fn` at simulated time `atMs` (or as soon as possible if that is past). */
  at(atMs: number, fn: () => void): void;
}

/** How late a real-time clock ran its events: a starved process (a busy machine) stretches every simulated time. */
export interface ClockLateness {
  /** Events run. */
  events: number;
  /** Events run more than LATE_MS (real ms) after their time. */
  late: number;
  /** The latest one, real ms. */
  maxMs: number;
}

/** An event this much later than its time (real ms) counts as late: well past timer and GC jitter. */
export const LATE_MS = 5;

/** Real time. `timeScale` > 1 runs the model slower than real time, < 1 faster. */
export class RealClock implements SimClock {
  readonly timeScale: number;
  #origin = process.hrtime.bigint();
  readonly #lateness: ClockLateness = { events: 0, late: 0, maxMs: 0 };

  constructor(timeScale = 1) {
    this.timeScale = timeScale;
  }

  now(): number {
    return Number(process.hrtime.bigint() - this.#origin) / 1e6 / this.timeScale;
  }

  /** How late events ran so far (the simulator's own measure of whether the machine let it keep time). */
  lateness(): ClockLateness {
    return { ...this.#lateness };
  }

  #run(atMs: number, fn: () => void): void {
    const lateMs = (this.now() - atMs) * this.timeScale;
    const l = this.#lateness;
    l.events++;
    if (lateMs > LATE_MS) l.late++;
    if (lateMs > l.maxMs) l.maxMs = lateMs;
    fn();
  }

  at(atMs: number, fn: () => void): void {
    const delay = (atMs - this.now()) * this.timeScale;
    if (delay <= 0) setImmediate(() => this.#run(atMs, fn));
    // Node timers have ms granularity against a cached loop time and can fire up to ~1 ms early: re-arm
    // until the target is reached (the last sub-ms via setImmediate), so simulated steps never run short.
    else if (delay < 1) setImmediate(() => this.at(atMs, fn));
    else setTimeout(() => this.at(atMs, fn), Math.floor(delay));
  }
}

/** Discrete-event time: `run()` executes events in time order without waiting. */
export class VirtualClock implements SimClock {
  #now = 0;
  #seq = 0;
  #heap: Array<{ t: number; seq: number; fn: () => void }> = [];

  now(): number {
    return this.#now;
  }

  at(atMs: number, fn: () => void): void {
    this.#push({ t: Math.max(atMs, this.#now), seq: this.#seq++, fn });
  }

  /** Runs events until none are left or simulated time would pass `untilMs`. */
  run(untilMs = Number.POSITIVE_INFINITY): void {
    for (;;) {
      const top = this.#heap[0];
      if (!top || top.t > untilMs) break;
      this.#pop();
      this.#now = top.t;
      top.fn();
    }
    if (Number.isFinite(untilMs) && untilMs > this.#now) this.#now = untilMs;
  }

  #less(i: number, j: number): boolean {
    const a = this.#heap[i] as { t: number; seq: number };
    const b = this.#heap[j] as { t: number; seq: number };
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }

  #swap(i: number, j: number): void {
    const h = this.#heap;
    [h[i], h[j]] = [h[j] as (typeof h)[number], h[i] as (typeof h)[number]];
  }

  #push(e: { t: number; seq: number; fn: () => void }): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop();
    if (h.length === 0 || !last) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(l, m)) m = l;
      if (r < h.length && this.#less(r, m)) m = r;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
  }
}
