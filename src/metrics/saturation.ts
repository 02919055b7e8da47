// The saturation verdict of one run: could the target keep up with the offered load? Latency measured at a
// saturated point is queueing, not service, so capacity planning and regression gates must know. Decided from
// what the run itself saw (DESIGN §10), each piece of evidence with its figures:
//   - waits: turns waited for their user's previous turn (or were not sent) and the achieved launch rate fell
//     below the schedule's;
//   - backlog: requests in flight kept growing over the launch window (completions behind launches);
//   - latency trend: TTFT rising over the run, by a robust slope with a confidence interval (trend.ts);
//   - queue: when the engines were scraped, their waiting queue (vllm:num_requests_waiting,
//     llamacpp:requests_deferred) stayed at one or more, or grew.
// Any one makes the run saturated. Pure.
import type { SaturationSummary, TrendSummary } from '../result/schema.js';
import type { ScrapeResult } from '../result/server-metrics.js';
import { latencyTrend, type LatencyTrend, type TrendPoint } from './trend.js';

/** Thresholds of the verdict (exported for the README and tests). */
export const SATURATION_RULES = {
  /** waits: this share of due turns waited or went unsent ... */
  waitedShare: 0.1,
  /** ... and the launch rate fell below this fraction of the schedule's steady-state rate. */
  launchRatio: 0.9,
  /** TTFT trend: 99 % interval above zero, and a rise over the run of >= 50 % of the median and >= 50 ms. */
  ttft: { confidence: 0.99, minRelativeRise: 0.5, minRiseMs: 50 },
  /** Backlog: in-flight requests rising by >= 50 % of their median level and by >= 2 requests over the window. */
  backlog: { confidence: 0.99, minRelativeRise: 0.5, minRiseMs: 2 },
  /** Queue: the median scraped waiting count over the run is at least this. */
  queueMedian: 1,
} as const;

export interface SaturationInput {
  /** Turns that came due in the launch window (launched + unsent), and those that waited or went unsent. */
  due: number;
  waited: number;
  launchRate: number;
  expectedRate: number;
  /** (send time s, TTFT ms) of the successful measured requests. */
  ttft: readonly TrendPoint[];
  /** (send time s, end time s) of every measured request, for the in-flight count over time. */
  spans: readonly { sentS: number; endS: number }[];
  /** Requests each span stands for (the timeline keeps every stride-th request of a long run). */
  spanWeight: number;
  /** Launch window [0, launchWindowS] in seconds from the measured start. */
  launchWindowS: number;
  server: ScrapeResult | null;
}

export type Saturation = SaturationSummary;

const brief = (t: LatencyTrend): TrendSummary => ({ n: t.n, slopeMsPerS: t.slopeMsPerS, lo: t.lo, hi: t.hi, rising: t.rising, reason: t.reason, text: t.text });

/** In-flight requests sampled at `samples` evenly spaced times over the launch window. */
function inFlightSeries(spans: SaturationInput['spans'], windowS: number, weight: number, samples = 200): TrendPoint[] {
  if (!(windowS > 0) || spans.length === 0) return [];
  const starts = spans.map((s) => s.sentS).sort((a, b) => a - b);
  const ends = spans.map((s) => s.endS).sort((a, b) => a - b);
  const out: TrendPoint[] = [];
  let i = 0;
  let j = 0;
  for (let k = 1; k <= samples; k++) {
    const t = (windowS * k) / samples;
    while (i < starts.length && (starts[i] as number) <= t) i++;
    while (j < ends.length && (ends[j] as number) <= t) j++;
    out.push({ t, ms: (i - j) * weight });
  }
  return out;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function queueEvidence(server: ScrapeResult | null): Saturation['evidence']['queue'] {
  const out: Saturation['evidence']['queue'] = [];
  for (const role of server?.roles ?? []) {
    for (const name of ['vllm:num_requests_waiting', 'llamacpp:requests_deferred']) {
      const xs = (role.series[name] ?? []).filter((x): x is number => x !== null);
      if (xs.length >= 3) out.push({ role: role.role, median: median(xs), max: Math.max(...xs) });
    }
  }
  return out;
}

export function saturationVerdict(x: SaturationInput): Saturation {
  const reasons: string[] = [];
  const waitedShare = x.due > 0 ? x.waited / x.due : null;
  const launchRatio = x.expectedRate > 0 ? x.launchRate / x.expectedRate : null;
  if (waitedShare !== null && launchRatio !== null && waitedShare >= SATURATION_RULES.waitedShare && launchRatio < SATURATION_RULES.launchRatio) {
    reasons.push(
      `turns waited: ${(waitedShare * 100).toFixed(0)}% of ${x.due} due turns waited for the user's previous turn or went unsent; ` +
        `launched ${x.launchRate.toFixed(2)} req/s of the schedule's ${x.expectedRate.toFixed(2)}`,
    );
  }
  const ttft = x.ttft.length > 0 ? latencyTrend(x.ttft, SATURATION_RULES.ttft) : null;
  if (ttft?.rising) reasons.push(`TTFT rising over the run: ${ttft.text} (${ttft.reason})`);
  const inflight = inFlightSeries(x.spans, x.launchWindowS, x.spanWeight);
  const backlog = inflight.length > 0 ? latencyTrend(inflight, SATURATION_RULES.backlog) : null;
  if (backlog?.rising) {
    const first = inflight[0]?.ms ?? 0;
    const last = inflight[inflight.length - 1]?.ms ?? 0;
    reasons.push(`completions fell behind launches: requests in flight grew from ${first} to ${last} over the launch window`);
  }
  const queue = queueEvidence(x.server);
  for (const q of queue) {
    if (q.median >= SATURATION_RULES.queueMedian) reasons.push(`${q.role}: the engine's waiting queue stayed at ${q.median} (median; max ${q.max}) during the run`);
  }
  return {
    saturated: reasons.length > 0,
    reasons,
    evidence: { waitedShare, launchRatio, ttftTrend: ttft ? brief(ttft) : null, backlogTrend: backlog ? brief(backlog) : null, queue },
  };
}
