// Hand-made runs for gate and threshold tests: seeded requests of a known shape (users with 2 rounds, TTFT around
// `ttftMs`, 8 token gaps around `itlMs`, a share failing), turned into the RunResult the recorder would build and
// the samples the statistics resample, exactly as a saved run is read back.
import { samplesOf } from '../../src/compare/samples.js';
import type { RequestSample } from '../../src/compare/types.js';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/config/options.js';
import { redactConfig } from '../../src/config/resolve.js';
import type { ClientHealth } from '../../src/result/schema.js';
import { FORMULAS } from '../../src/result/formulas.js';
import { RunRecorder } from '../../src/metrics/recorder.js';
import { prng } from '../../src/util/prng.js';
import type { RequestRecord } from '../../src/result/record.js';
import { RESULT_SCHEMA, RESULT_SCHEMA_VERSION, type RunResult } from '../../src/result/schema.js';
import { okRecord } from './records.js';

export interface RunShape {
  users?: number;
  ttftMs?: number;
  itlMs?: number;
  /** Share of requests failed (http_error). */
  failRate?: number;
  seed?: number;
  config?: Partial<RunConfig>;
  model?: string;
  scenario?: string;
  healthy?: boolean;
  saturated?: boolean;
}

export interface MadeRun {
  result: RunResult;
  records: RequestRecord[];
  samples: RequestSample[];
}

const healthy = (ok: boolean): ClientHealth => ({
  healthy: ok,
  reasons: ok ? [] : ['sender lag p99 44 ms > 10 ms: turns that could go were sent late by the client'],
  thresholds: { maxLoopDelayMs: 5, maxSenderLagMs: 10 },
  loopDelayMs: { mean: 0.05, p50: 0.03, p99: 0.4, max: 2.1, samples: 1000 },
  cpuShare: 0.2,
  cpuSeconds: 6,
  maxRssBytes: 100e6,
  scheduleLagP99Ms: 1,
  senderLag: { samples: 100, p90: 0.5, p99: ok ? 1 : 44 },
});

function recordsOf(s: Required<Pick<RunShape, 'users' | 'ttftMs' | 'itlMs' | 'failRate' | 'seed'>>): RequestRecord[] {
  const rnd = prng(s.seed);
  const out: RequestRecord[] = [];
  let id = 0;
  for (let u = 1; u <= s.users; u++) {
    for (let round = 1; round <= 2; round++) {
      const sent = u * 50 + round * 1000;
      // Log-normal-ish spread around the level, the same for every seed's shape.
      const ttft = s.ttftMs * Math.exp((rnd() - 0.5) * 0.4);
      const failed = rnd() < s.failRate;
      const times = [sent + ttft];
      for (let k = 0; k < 8; k++) times.push((times.at(-1) as number) + s.itlMs * Math.exp((rnd() - 0.5) * 0.3));
      const end = (times.at(-1) as number) + 0.5;
      out.push(
        okRecord({
          id: id++,
          userId: u,
          round,
          intendedMs: sent,
          sentMs: sent,
          headersMs: sent + ttft / 2,
          firstTokenMs: failed ? undefined : times[0],
          endMs: end,
          chunkTimesMs: failed ? [] : times,
          chunkTokens: failed ? [] : times.map(() => 1),
          completionTokens: failed ? undefined : times.length,
          outcome: failed ? 'failed' : 'ok',
          errorClass: failed ? 'http_error' : undefined,
          httpStatus: failed ? 500 : 200,
        }),
      );
    }
  }
  return out;
}

/** A run of the given shape; its config, scenario and model make its workload fingerprint. */
export function makeRun(shape: RunShape = {}): MadeRun {
  const records = recordsOf({ users: shape.users ?? 150, ttftMs: shape.ttftMs ?? 50, itlMs: shape.itlMs ?? 8, failRate: shape.failRate ?? 0, seed: shape.seed ?? 1 });
  const rec = new RunRecorder();
  for (const r of records) rec.onLaunch(r.phase, r.late);
  for (const r of records) rec.add(r);
  const snap = rec.snapshot();
  const durationS = ((snap.lastOkEndMs ?? 10_000) - 0) / 1000;
  const config = { ...DEFAULT_CONFIG, baseUrl: 'http://127.0.0.1:1/v1', model: shape.model ?? 'sim-model', qps: [4], ...shape.config };
  const tk = snap.tokens;
  const result: RunResult = {
    schema: RESULT_SCHEMA,
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'pd-bench', version: '0.0.0-test' },
    runId: `run-${shape.seed ?? 1}`,
    label: 'run-pd@4qps',
    startedAt: '2026-11-20T01:00:00.000Z',
    endedAt: '2026-11-20T01:01:00.000Z',
    wallStartMs: 0,
    interrupted: false,
    scenario: shape.scenario ?? 'run-pd',
    config: redactConfig(config),
    target: { baseUrl: 'http://127.0.0.1:1/v1', model: shape.model ?? 'sim-model', endpoint: 'chat', saturated: shape.saturated ?? false, reasons: shape.saturated ? ['TTFT rising: +53 ms per minute'] : [] },
    schedule: { kind: 'multi-round', arrival: 'per-user', burstiness: 1, label: 'x', configuredQps: 4, gapPerUserS: 1, gapBetweenUsersS: 1, sessionSpanS: 1, expectedRate: 8 },
    environment: { node: 'v20', platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'cpu', totalMemoryBytes: 1 },
    counts: { ...snap.counts, late: snap.late, unsent: snap.unsent, errorsByClass: snap.errorsByClass, warmup: snap.warmup },
    tokens: { prompt: tk.prompt, completion: tk.completion, cached: tk.cached, source: 'usage', perChunkUsage: true, promptEstimateErrorPct: snap.promptEstimateErrorPct, tokensPerChunkMean: 1, tokensPerChunk: tk.perChunk },
    throughput: {
      measuredDurationS: durationS,
      launchWindowS: 10,
      configuredQps: 4,
      expectedRate: 8,
      launchRate: snap.counts.launched / 10,
      requestThroughput: snap.counts.ok / durationS,
      inputThroughput: tk.prompt / durationS,
      outputThroughput: tk.completion / durationS,
      cachedTokenShare: tk.promptWithCacheInfo > 0 ? tk.cached / tk.promptWithCacheInfo : null,
    },
    client: healthy(shape.healthy ?? true),
    metrics: snap.metrics,
    windows: [],
    rounds: snap.rounds,
    server: null,
    formulas: FORMULAS,
    notes: [],
    vllm: {},
  };
  return { result, records, samples: samplesOf(records, 0) };
}

/** A gate side of one made run. */
export const sideOf = (r: MadeRun, source = 'test'): { source: string; runs: RunResult[]; samples: RequestSample[] } => ({ source, runs: [r.result], samples: r.samples });
