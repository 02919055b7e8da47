// The entry point of one load point: workload x schedule x client -> recorder -> RunResult. It builds the client
// and the text, fits exact prompts when asked, runs the loop (run/run-loop.ts) and assembles the result
// (run/assemble-result.ts). It measures and emits typed callbacks but prints and writes nothing, so it can be
// used as a library and tested without IO.
import { TargetClient, type TurnSender } from '../client/target-client.js';
import type { RunResult } from '../result/schema.js';
import { assembleResult } from './assemble-result.js';
import { nowMs } from './clock.js';
import { fitExactPrompts } from './fit-prompts.js';
import type { RunOptions } from './options.js';
import { RunLoop, scheduleOf } from './run-loop.js';
import { TextFactory } from '../workload/text.js';
import { tlsSettings } from '../util/tls.js';

export type { RunOptions, RunProgress } from './options.js';

/**
 * Runs one QPS point: optional warmup, then the multi-round schedule for `config.time` seconds, then a drain of
 * in-flight turns (up to `config.drainTimeout`). Aborting `signal` stops scheduling at once and records every
 * in-flight request as cancelled; the returned result then has `interrupted: true`. Never throws for failed
 * requests; they are counted by class.
 */
export async function runBenchmark(options: RunOptions, signal?: AbortSignal): Promise<RunResult> {
  const { config } = options;
  const t0 = options.t0 ?? process.hrtime.bigint();
  const wallStartMs = Date.now() - nowMs(t0);
  options.onStart?.({ wallStartMs, t0 });
  const text = options.text ?? new TextFactory(config.seed);
  const ownsClient = !options.client;
  const client: TurnSender =
    options.client ??
    new TargetClient({
      baseUrl: config.baseUrl,
      apiKey: config.apiKey,
      endpoint: config.endpoint,
      // A connection per request in flight, however many that is: each user has at most one turn in flight, but
      // sessions overlap while users hand over and other arrival processes bunch turns, and a request queued
      // inside the pool would wait for a socket after the schedule said go. --max-concurrency is the cap.
      connections: config.maxConcurrency > 0 ? config.maxConcurrency + Math.max(config.warmupRequests, 0) : null,
      requestTimeoutMs: config.requestTimeout * 1000,
      userIdHeader: config.userIdHeader,
      t0,
      // Read here rather than handed in, so worker threads (which get only the config) trust the same CAs.
      tls: tlsSettings(config),
    });
  try {
    const { params, plan } = scheduleOf(options);
    const exact = config.tokenizer === 'server' ? await fitExactPrompts(options, text, plan, params, signal) : undefined;
    const outcome = await new RunLoop(options, client, text, t0, exact).run(signal);
    const endMs = nowMs(t0);
    return assembleResult({ options, loop: outcome, plan, params, exact, wallStartMs, endMs, interrupted: signal?.aborted ?? false });
  } finally {
    if (ownsClient) await client.close();
  }
}
