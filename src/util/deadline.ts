// A signal that aborts after `ms` (or when a parent signal does), held by a real timer. On Node 20 the signal of
// AbortSignal.timeout() can be garbage-collected while only AbortSignal.any() refers to it (nodejs/node#57736): the
// timeout then never fires and a silent server holds a request until undici's own 300 s header timeout. Here the
// pending timer keeps the controller alive, and `clear()` releases both.
import { onAbort } from './abort-fanout.js';

export interface Deadline {
  signal: AbortSignal;
  /** Stops the timer and detaches from the parent; call it when the guarded work is done. */
  clear(): void;
}

export function deadline(ms: number, parent?: AbortSignal): Deadline {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new DOMException(`no answer within ${ms / 1000} s`, 'TimeoutError')), ms);
  const off = parent ? onAbort(parent, () => ac.abort(parent.reason)) : (): void => {};
  return {
    signal: ac.signal,
    clear: () => {
      clearTimeout(timer);
      off();
    },
  };
}
