// The one per-round aggregator: TTFT, ITL, prompt length and cached-token share by round (question number), and
// the outcome counts summed over runs. The recorder feeds it as requests finish, the comparison builder from
// saved samples, so a round's figures mean the same wherever they are shown. Pure.
import type { OutcomeCounts, RoundStat, RunResult } from '../result/schema.js';
import { LatencyStat } from './histogram.js';

/** One finished request as the per-round view needs it. */
export interface RoundInput {
  round: number;
  ok: boolean;
  ttftMs?: number | undefined;
  promptTokens?: number | undefined;
  cachedTokens?: number | undefined;
}

class RoundCell {
  requests = 0;
  ok = 0;
  readonly ttft = new LatencyStat();
  readonly itl = new LatencyStat();
  promptSum = 0;
  promptN = 0;
  cached = 0;
  promptWithCache = 0;
}

export class RoundAggregator {
  #rounds = new Map<number, RoundCell>();

  /**
   * Counts one request in its round. For a successful one, returns the round's ITL stat for the caller to record
   * the request's gaps into (records and samples hold their gaps differently); undefined otherwise.
   */
  add(x: RoundInput): LatencyStat | undefined {
    let c = this.#rounds.get(x.round);
    if (!c) this.#rounds.set(x.round, (c = new RoundCell()));
    c.requests++;
    if (!x.ok) return undefined;
    c.ok++;
    if (x.ttftMs !== undefined) c.ttft.record(x.ttftMs);
    if (x.promptTokens !== undefined) {
      c.promptSum += x.promptTokens;
      c.promptN++;
      // A share needs both counts: cached tokens of a request whose prompt length is unknown are left out.
      if (x.cachedTokens !== undefined) {
        c.cached += x.cachedTokens;
        c.promptWithCache += x.promptTokens;
      }
    }
    return c.itl;
  }

  stats(): RoundStat[] {
    return [...this.#rounds.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([round, c]) => ({
        round,
        requests: c.requests,
        ok: c.ok,
        ttft: c.ttft.block(),
        itl: c.itl.block(),
        promptTokensMean: c.promptN > 0 ? c.promptSum / c.promptN : null,
        cachedTokenShare: c.promptWithCache > 0 ? c.cached / c.promptWithCache : null,
      }));
  }
}

/** Outcome counts, late and unsent turns summed over runs (a target's repetitions, a sweep point's workers). */
export function sumRunCounts(runs: readonly RunResult[]): OutcomeCounts & { late: number; unsent: number } {
  const t = { launched: 0, ok: 0, failed: 0, cancelled: 0, late: 0, unsent: 0 };
  for (const r of runs) {
    t.launched += r.counts.launched;
    t.ok += r.counts.ok;
    t.failed += r.counts.failed;
    t.cancelled += r.counts.cancelled;
    t.late += r.counts.late;
    t.unsent += r.counts.unsent;
  }
  return t;
}
