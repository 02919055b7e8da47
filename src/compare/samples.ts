// RequestRecord -> RequestSample: the derived per-request values the statistics resample, computed with the one
// set of formulas in metrics/derive.ts. Pure.
import { derive, forEachTokenGap } from '../metrics/derive.js';
import type { RequestRecord } from '../result/record.js';
import type { RequestSample } from './types.js';

export function toSample(r: RequestRecord, rep: number): RequestSample {
  const d = derive(r);
  const itlMs: number[] = [];
  forEachTokenGap(r, (gap, count) => {
    for (let i = 0; i < count; i++) itlMs.push(gap);
  });
  return {
    rep,
    userId: r.userId,
    round: r.round,
    outcome: r.outcome,
    errorClass: r.errorClass,
    sentMs: r.sentMs,
    endMs: r.endMs,
    ttftMs: d.ttftMs,
    tpotMs: d.tpotMs,
    e2elMs: d.e2elMs,
    itlMs,
    promptTokens: r.promptTokens,
    outputTokens: r.completionTokens,
    cachedTokens: r.cachedTokens,
  };
}

/** Measured requests only: warmup turns belong to no session and no statistic. */
export function samplesOf(records: Iterable<RequestRecord>, rep: number): RequestSample[] {
  const out: RequestSample[] = [];
  for (const r of records) if (r.phase === 'measure') out.push(toSample(r, rep));
  return out;
}
