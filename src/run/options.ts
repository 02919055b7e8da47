// What a caller gives runBenchmark (RunOptions) and what it hears back while the run goes (RunProgress). Types
// only: the loop (run-loop.ts) and the result assembly (assemble-result.ts) share them.
import type { TurnSender } from '../client/target-client.js';
import type { PromptTokenizer } from '../workload/exact-prompts.js';
import type { RunConfig } from '../config/options.js';
import type { RequestRecord } from '../result/record.js';
import type { WindowSummary } from '../result/schema.js';
import type { ServerScraper } from '../scrape/types.js';
import type { AnswerSource } from '../workload/answer-book.js';
import type { TextFactory } from '../workload/text.js';

export interface RunProgress {
  elapsedS: number;
  launchWindowS: number;
  launched: number;
  done: number;
  inFlight: number;
  errors: number;
  phase: 'warmup' | 'measure' | 'drain';
}

export interface RunOptions {
  /** Resolved config; `baseUrl` and `model` must be set (the CLI's preflight fills in the model). */
  config: RunConfig & { baseUrl: string; model: string };
  /** This point's configured QPS (one of config.qps). */
  qps: number;
  runId: string;
  scenario?: string | undefined;
  /** Substitute client (tests); default: an undici TargetClient for config.baseUrl. */
  client?: TurnSender;
  /** Text factory to share across points of a sweep (building it costs ~100 ms). */
  text?: TextFactory;
  /** With config.tokenizer 'server': the tokenizer to fit prompts with (default: the target's /tokenize). */
  tokenizer?: PromptTokenizer;
  /** Called once at the start with the wall-clock origin of the run's millisecond timestamps. */
  onStart?: (info: { wallStartMs: number; t0: bigint }) => void;
  /** Called for every finished request, warmup included, in completion order (stream these to disk). */
  onRecord?: (r: RequestRecord) => void;
  onWindow?: (w: WindowSummary) => void;
  /** Called about every 250 ms. */
  onProgress?: (p: RunProgress) => void;
  /**
   * Run only the users whose join index k has k mod count = index, and the warmup requests i with i mod count =
   * index (--workers: each worker thread runs one share of the same seeded schedule).
   */
  partition?: { index: number; count: number };
  /** The time origin (workers use their coordinator's: process.hrtime is one clock for all threads). */
  t0?: bigint;
  /**
   * Called after the warmup with this run's ready time (ms since t0); resolves with the measured-phase start (ms
   * since t0) that every worker agreed on.
   */
  syncStart?: (readyMs: number) => Promise<number>;
  /** Frozen history: the answers each user's history gets instead of the target's own (compare --history frozen). */
  history?: AnswerSource;
  /** Scrapes server metrics (--scrape) over the measured phase; its result becomes RunResult.server. */
  scraper?: ServerScraper;
  /**
   * Aborting this closes the launch window early, as if `config.time` ended then: no new user or turn starts,
   * turns that came due before are launched as usual, and in-flight requests drain. For callers that stop on
   * an event (a number of finished sessions) rather than at a time; `config.time` stays the upper bound.
   */
  endLaunchWindow?: AbortSignal;
}
