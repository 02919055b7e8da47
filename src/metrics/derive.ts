// Derives per-request metrics from a RequestRecord's raw timestamps. The formulas live here (and in
// FORMULAS, which the result JSON and the README quote); undefined when an input is missing, never a guess.
import type { RequestRecord } from '../result/record.js';

export const FORMULAS = {
  ttfb_ms: 'response headers received - request sent',
  ttft_ms: 'first chunk with non-empty content or reasoning text - request sent (the role-only chunk does not count)',
  ttst_ms: 'second token time - first token time (a chunk carrying k tokens: its share, gap/k)',
  itl_ms: 'gaps between consecutive tokens; a chunk carrying k tokens (known from per-chunk usage) contributes k gaps of gap/k',
  icl_ms: 'raw gaps between consecutive content chunks',
  tpot_ms: '(E2EL - TTFT) / (output tokens - 1), for requests with more than one output token',
  e2el_ms: 'last byte received - request sent',
  generation_time_s: 'last byte received - first token (multi-round-qa.py generation_time)',
  schedule_lag_ms: 'request sent - intended send time from the schedule',
  ttft_from_intended_ms: 'first token - intended send time (response time: includes waiting for the previous turn)',
  e2el_from_intended_ms: 'last byte - intended send time',
  request_throughput: 'successful requests / measured duration',
  launch_rate: 'requests launched / launch window (the --time window, or less if interrupted)',
  input_throughput: 'sum of prompt tokens of successful requests / measured duration',
  output_throughput: 'sum of completion tokens of successful requests / measured duration',
  measured_duration_s: 'from the measured phase start to the last successful request end',
  cached_token_share: 'sum of cached prompt tokens / sum of prompt tokens (successful requests reporting cached tokens)',
} as const;

export interface Derived {
  ttfbMs: number | undefined;
  ttftMs: number | undefined;
  ttstMs: number | undefined;
  e2elMs: number;
  tpotMs: number | undefined;
  generationTimeMs: number | undefined;
  scheduleLagMs: number;
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
