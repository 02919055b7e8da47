// A global cap on requests in flight (--max-concurrency), first come first served. A turn that waits here keeps
// its intended send time, so the wait shows in schedule lag and in the from-intended latencies (no coordinated
// omission). No IO.
import { onAbort } from '../util/abort-fanout.js';

export class ConcurrencyLimit {
  readonly limit: number;
  #inFlight = 0;
  #waiters: Array<() => void> = [];
  /** Turns that had to wait for a slot. */
  waited = 0;

  /** `limit` 0 means no cap. */
  constructor(limit: number) {
    this.limit = limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a slot: 'free' at once, 'waited' after queueing, or false if `signal` aborted first (no slot taken). */
  acquire(signal: AbortSignal): Promise<'free' | 'waited' | false> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.limit === 0 || this.#inFlight < this.limit) {
      this.#inFlight++;
      return Promise.resolve('free');
    }
    this.waited++;
    return new Promise((resolve) => {
      const grant = (): void => {
        unsubscribe();
        this.#inFlight++;
        resolve('waited');
      };
      const abort = (): void => {
        const i = this.#waiters.indexOf(grant);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(false);
      };
      this.#waiters.push(grant);
      const unsubscribe = onAbort(signal, abort);
    });
  }

  release(): void {
    this.#inFlight--;
    const next = this.#waiters.shift();
    if (next) next();
  }
}
