// A successful RequestRecord with hand-picked timestamps (ms since the run origin), for tests that build
// records by hand: TTFB 20, TTFT 50, chunks of 1, 1, 2 and 3 tokens (per-chunk usage), E2E 115 ms.
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
