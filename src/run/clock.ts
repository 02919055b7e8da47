// The run's clock: milliseconds since its hrtime origin, and sleeps that an abort signal cuts short. Timers longer
// than Node's limit are slept in slices. No IO.
import { onAbort } from '../util/abort-fanout.js';

export const nowMs = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

/** Node timers overflow past 2^31-1 ms (~24.8 days) and fire at once: long waits go in slices. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolves when `targetMs` (ms since t0) has come, or at once when `signal` aborts. */
export async function sleepUntil(t0: bigint, targetMs: number, signal: AbortSignal): Promise<void> {
  for (;;) {
    const wait = targetMs - nowMs(t0);
    if (wait <= 0 || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      };
      const timer = setTimeout(done, Math.min(wait, MAX_TIMER_MS));
      const unsubscribe = onAbort(signal, done);
    });
  }
}
