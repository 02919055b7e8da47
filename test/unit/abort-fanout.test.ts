// The shared-signal fan-out: one real listener per signal, O(1) unsubscribe, every live subscriber called once.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onAbort } from '../../src/util/abort-fanout.js';

describe('onAbort', () => {
  it('keeps one listener on the signal for any number of subscribers and calls each live one once', () => {
    const ac = new AbortController();
    const calls: number[] = [];
    const unsubs = Array.from({ length: 10_000 }, (_, i) => onAbort(ac.signal, () => calls.push(i)));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    for (let i = 0; i < 10_000; i += 2) unsubs[i]?.();
    ac.abort();
    expect(calls).toHaveLength(5_000);
    expect(calls.every((i) => i % 2 === 1)).toBe(true);
    ac.signal.dispatchEvent(new Event('abort'));
    expect(calls).toHaveLength(5_000);
  });

  it('calls at once for an already aborted signal, and a subscriber may unsubscribe another during the fan-out', () => {
    const ac = new AbortController();
    ac.abort();
    let n = 0;
    onAbort(ac.signal, () => n++);
    expect(n).toBe(1);
    const b = new AbortController();
    const seen: string[] = [];
    let unsubB: () => void = () => {};
    onAbort(b.signal, () => {
      seen.push('a');
      unsubB();
    });
    unsubB = onAbort(b.signal, () => seen.push('b'));
    b.abort();
    // Copy-then-iterate: 'b' was subscribed when the abort fired, so it still runs once.
    expect(seen).toEqual(['a', 'b']);
  });
});
