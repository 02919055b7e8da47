// When each measured request was sent and ended, and its TTFT, kept for the saturation verdict (latency trend,
// requests in flight over time) in bounded memory: past `capacity` requests it keeps every 2nd, then every 4th,
// ... (a deterministic, time-uniform thinning), so a long run costs at most `capacity` entries. The trend fits
// on a few hundred time bins anyway. Pure.
export class RequestTimeline {
  readonly capacity: number;
  /** Every stride-th request is kept; in-flight counts from the kept ones scale by it. */
  stride = 1;
  #seen = 0;
  sentMs: number[] = [];
  endMs: number[] = [];
  /** NaN where the request had no first token (failed, cancelled). */
  ttftMs: number[] = [];

  constructor(capacity = 20_000) {
    this.capacity = Math.max(2, capacity);
  }

  add(sentMs: number, endMs: number, ttftMs: number | undefined): void {
    if (this.#seen++ % this.stride !== 0) return;
    this.sentMs.push(sentMs);
    this.endMs.push(endMs);
    this.ttftMs.push(ttftMs ?? Number.NaN);
    if (this.sentMs.length >= this.capacity) {
      const keep = <T>(xs: T[]): T[] => xs.filter((_, i) => i % 2 === 0);
      this.sentMs = keep(this.sentMs);
      this.endMs = keep(this.endMs);
      this.ttftMs = keep(this.ttftMs);
      this.stride *= 2;
    }
  }
}
