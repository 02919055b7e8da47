// Hand-made requests for tests: a successful RequestRecord with hand-picked timestamps (ms since the run origin:
// TTFB 20, TTFT 50, chunks of 1, 1, 2 and 3 tokens with per-chunk usage, E2E 115 ms), and a successful
// comparison sample (TTFT 100 ms, gaps 10/20/30 ms, TPOT 20 ms, E2EL 160 ms, 4 output tokens).
import type { RequestSample } from '../../src/compare/types.js';
import type { RequestRecord } from '../../src/result/record.js';

export function okRecord(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: 0,
    phase: 'measure',
    userId: 1,
    round: 1,
    intendedMs: 1000,
    sentMs: 1010,
    late: false,
    headersMs: 1030,
    firstTokenMs: 1060,
    endMs: 1125,
    chunkTimesMs: [1060, 1068, 1088, 1118],
    chunkTokens: [1, 1, 2, 3],
    perChunkUsage: true,
    promptTokens: 500,
    completionTokens: 7,
    cachedTokens: 100,
    tokenSource: 'usage',
    promptTokensEstimate: 520,
    httpStatus: 200,
    finishReason: 'length',
    outcome: 'ok',
    errorClass: undefined,
    errorMessage: undefined,
    serverTimings: undefined,
    text: 'seven tokens of text',
    ...over,
  };
}

export function okSample(over: Partial<RequestSample> = {}): RequestSample {
  return {
    rep: 0,
    userId: 1,
    round: 1,
    outcome: 'ok',
    errorClass: undefined,
    sentMs: 0,
    endMs: 160,
    ttftMs: 100,
    tpotMs: 20,
    e2elMs: 160,
    itlMs: [10, 20, 30],
    promptTokens: 100,
    outputTokens: 4,
    cachedTokens: 0,
    ...over,
  };
}
