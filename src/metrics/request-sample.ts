// One measured request as the statistics (SLOs, comparisons, timelines) see it: derived values only, built from
// RequestRecords by compare/samples.ts. Types only.
import type { Outcome } from '../result/record.js';

/** One measured request as the statistics see it: derived values only (formulas in metrics/derive.ts). */
export interface RequestSample {
  /** Repetition index (interleaved order with --repeat); 0 otherwise. A session is (rep, userId). */
  rep: number;
  userId: number;
  /** 1-based round (question number) within the session. */
  round: number;
  outcome: Outcome;
  errorClass: string | undefined;
  /** ms since its run's time origin. */
  sentMs: number;
  endMs: number;
  ttftMs: number | undefined;
  tpotMs: number | undefined;
  e2elMs: number;
  /** Inter-token gaps in ms (a chunk carrying k tokens contributes k gaps of gap/k). */
  itlMs: readonly number[];
  promptTokens: number | undefined;
  outputTokens: number | undefined;
  cachedTokens: number | undefined;
}
