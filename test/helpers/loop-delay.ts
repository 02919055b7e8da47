// How late this process's event loop ran while a test did something: a bound derived from the machine as it was
// at that moment, for tests that must relate two stamps taken on this loop without assuming a fast or idle machine.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 1;

/**
 * Runs `fn` with perf_hooks' event-loop monitor on. `maxIntervalMs` is the longest interval seen between two
 * consecutive monitor ticks (the resolution itself included): any stretch of time in which this loop ran no
 * callback at all (preempted by other work, a long callback, a GC pause) shows up in it.
 */
export async function measureLoopDelay<T>(fn: () => Promise<T>): Promise<{ value: T; maxIntervalMs: number }> {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  try {
    // A first tick before fn starts, so the interval that contains its first event is recorded.
    await ticked(h, 0);
    const value = await fn();
    // ...and one after it ends: an interval is recorded only when it closes.
    await ticked(h, h.count);
    return { value, maxIntervalMs: h.max / 1e6 };
  } finally {
    h.disable();
  }
}

/** Waits for the monitor to record a sample beyond `seen` (an event, not a guess at how long that takes). */
async function ticked(h: { count: number }, seen: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (h.count <= seen) {
    if (Date.now() > deadline) throw new Error('the event-loop monitor recorded no sample in 30 s');
    await new Promise((r) => setTimeout(r, RESOLUTION_MS));
  }
}
