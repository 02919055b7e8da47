// The client process under test: pd-bench's library as a user runs it. runBenchmark with its own undici
// TargetClient, the multi-round schedule, seeded conversations, SSE framing, JSON parsing, HDR recording and
// its own client-health monitor. Each finished request's raw stamps go to an NDJSON file, 1 MiB per write (the
// CLI streams requests.csv the same way), for bench/main.ts to compare with the mock's own send log.
import { resolveConfig } from '../src/config/resolve.js';
import type { RequestRecord } from '../src/result/record.js';
import { runBenchmark } from '../src/run.js';
import { BatchedFile, workerMain, type WorkerResult } from './common.js';

/** Compact per-request line: ns after the run's t0 for send, first token, end and every content chunk. */
function recordLine(r: RequestRecord): string {
  const ns = (ms: number | undefined): number | null => (ms === undefined ? null : Math.round(ms * 1e6));
  let c = '';
  for (const t of r.chunkTimesMs) c += (c ? ',' : '') + String(Math.round(t * 1e6));
  return (
    `{"user":${r.userId},"round":${r.round},"phase":"${r.phase}","outcome":"${r.outcome}","sent":${ns(r.sentMs)},` +
    `"first":${ns(r.firstTokenMs)},"end":${ns(r.endMs)},"tokens":${r.completionTokens ?? 0},"chunks":[${c}]}\n`
  );
}

workerMain('pdbench', async (spec, win, signal): Promise<Partial<WorkerResult>> => {
  const { config } = resolveConfig({
    flags: {
      'num-users': spec.numUsers,
      'num-rounds': spec.numRounds,
      qps: String(spec.qps),
      time: spec.timeS,
      'shared-system-prompt': 0,
      'user-history-prompt': spec.historyTokens,
      'answer-len': spec.answerLen,
      'ignore-eos': true,
      seed: spec.seed,
      'request-timeout': 120,
      'drain-timeout': 60,
      'log-interval': 3600,
    },
    env: {},
  });
  const out = spec.recordsPath ? new BatchedFile(spec.recordsPath) : undefined;
  let t0 = 0n;
  let placed = false;
  try {
    const result = await runBenchmark(
      {
        config: { ...config, baseUrl: spec.baseUrl, model: spec.model },
        qps: spec.qps,
        runId: 'bench',
        scenario: 'bench',
        onStart: (info) => {
          t0 = info.t0;
        },
        onRecord: out ? (r) => out.write(recordLine(r)) : undefined,
        onProgress: (p) => {
          // The first progress tick of the measured phase places the window on the schedule's own origin.
          if (placed || p.phase !== 'measure') return;
          placed = true;
          win.schedule(process.hrtime.bigint() - BigInt(Math.round(p.elapsedS * 1e9)), spec.steadyFromS, spec.timeS);
        },
      },
      signal,
    );
    const m = result.metrics;
    return {
      t0Ns: t0.toString(),
      requests: { launched: result.counts.launched, ok: result.counts.ok, failed: result.counts.failed, cancelled: result.counts.cancelled },
      pdbench: {
        ttftP50Ms: m.ttft_ms.p50,
        ttftP99Ms: m.ttft_ms.p99,
        itlP50Ms: m.itl_ms.p50,
        itlP99Ms: m.itl_ms.p99,
        completionTokens: result.tokens.completion,
        client: (result as unknown as { client?: unknown }).client,
        scheduleLagP99Ms: m.schedule_lag_ms.p99,
      },
    };
  } finally {
    out?.close();
  }
});
