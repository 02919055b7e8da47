// Derives per-request metrics from a RequestRecord's raw timestamps. The formulas live here (and in
// FORMULAS, which the result JSON and the README quote); undefined when an input is missing, never a guess.
import type { RequestRecord } from '../result/record.js';

export { FORMULAS } from '../result/formulas.js';

export interface Derived {
  ttfbMs: number | undefined;
  ttftMs: number | undefined;
  ttstMs: number | undefined;
  e2elMs: number;
  tpotMs: number | undefined;
  generationTimeMs: number | undefined;
  scheduleLagMs: number;
  /** dispatch - ready: the client's own lateness (timers, event loop, building the request). */
  senderLagMs: number;
  /** sent - dispatch: waiting for a connection (connect, the server's accept, undici's pool search). */
  connectWaitMs: number;
  /** ready - intended: the turn waited for its user's previous turn or a concurrency slot. */
  waitMs: number;
  ttftFromIntendedMs: number | undefined;
  e2elFromIntendedMs: number;
  outputTokens: number | undefined;
}

export function derive(r: RequestRecord): Derived {
  const ttftMs = r.firstTokenMs !== undefined ? r.firstTokenMs - r.sentMs : undefined;
  const e2elMs = r.endMs - r.sentMs;
  const outputTokens = r.completionTokens;
  let tpotMs: number | undefined;
  if (ttftMs !== undefined && outputTokens !== undefined && outputTokens > 1) {
    tpotMs = (e2elMs - ttftMs) / (outputTokens - 1);
  }
  return {
    ttfbMs: r.headersMs !== undefined ? r.headersMs - r.sentMs : undefined,
    ttftMs,
    ttstMs: secondTokenGap(r),
    e2elMs,
    tpotMs,
    generationTimeMs: r.firstTokenMs !== undefined ? r.endMs - r.firstTokenMs : undefined,
    scheduleLagMs: r.sentMs - r.intendedMs,
    senderLagMs: (r.dispatchMs ?? r.sentMs) - (r.readyMs ?? r.intendedMs),
    connectWaitMs: r.sentMs - (r.dispatchMs ?? r.sentMs),
    waitMs: (r.readyMs ?? r.intendedMs) - r.intendedMs,
    ttftFromIntendedMs: r.firstTokenMs !== undefined ? r.firstTokenMs - r.intendedMs : undefined,
    e2elFromIntendedMs: r.endMs - r.intendedMs,
    outputTokens,
  };
}

function secondTokenGap(r: RequestRecord): number | undefined {
  const t0 = r.chunkTimesMs[0];
  const t1 = r.chunkTimesMs[1];
  if (t0 === undefined || t1 === undefined) return undefined;
  return (t1 - t0) / (r.chunkTokens[1] ?? 1);
}

/**
 * Calls `onGap(gapMs, count)` for the inter-token gaps of a request: a chunk carrying k tokens after a gap g
 * contributes k gaps of g / k. Returns the number of chunk gaps (ICL samples).
 */
export function forEachTokenGap(r: RequestRecord, onGap: (gapMs: number, count: number) => void): number {
  const times = r.chunkTimesMs;
  const tokens = r.chunkTokens;
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] as number) - (times[i - 1] as number);
    const k = tokens[i] ?? 1;
    onGap(k > 1 ? gap / k : gap, k > 0 ? k : 1);
  }
  return Math.max(times.length - 1, 0);
}
