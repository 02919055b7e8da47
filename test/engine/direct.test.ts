// pd-bench straight against one llama-server (4 slots), with --tokenizer server: the baseline for the router
// topologies. Measured over 18 runs of the suite on the 2-core machine (other test runs sharing it):
//   TTFT - timings.prompt_ms: p50 10-24 ms; max 16-680 ms (a request that lands while another prompt is being
//     computed waits for it); without that waiting: p50 10-22 ms, max 16-190 ms
//   |client mean ITL - timings.predicted_per_token_ms| per request: p50 0.00-0.02 ms, max 0.02-0.8 ms
// Bounds (suite.ts, Bounds): residual p50 < 60 ms, max < 400 ms; ITL p50 < 0.5 ms, max < 10 ms.
import { expect, it } from 'vitest';
import { engineSuite } from './suite.js';
import { LlamaServer } from './llama-server.js';

const suite = engineSuite(
  'direct',
  async (files) => {
    const s = await LlamaServer.start({ files, slots: 4 });
    return { baseUrl: s.baseUrl, answering: [s] };
  },
  { ttftResidualP50: 60, ttftResidualMax: 400, itlAbsP50: 0.5, itlAbsMax: 10 },
  // --tokenizer server: prompts cut to exact token lengths with the server's own /tokenize.
  { tokenizer: 'server' },
);

it('direct: --tokenizer server predicts the first round prompt_tokens exactly', () => {
  const first = suite.run().records.filter((r) => r.round === 1 && r.outcome === 'ok');
  expect(first.length).toBeGreaterThan(0);
  for (const r of first) expect(r.promptTokensEstimate, `user ${r.userId}`).toBe(r.promptTokens);
  expect(suite.run().result.notes.join('\n')).toMatch(/exact token length/);
});
