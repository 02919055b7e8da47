// pd-bench straight against one llama-server (4 slots), with --tokenizer server: the baseline for the router
// topologies. How far the client's TTFT and ITL lie from the server's timings is measured in bench/ENGINE-FIDELITY.md.
import { expect, it } from 'vitest';
import { engineSuite } from './suite.js';
import { LlamaServer } from './llama-server.js';

const suite = engineSuite(
  'direct',
  async (files) => {
    const s = await LlamaServer.start({ files, slots: 4 });
    return { baseUrl: s.baseUrl, answering: [s] };
  },
  // --tokenizer server: prompts cut to exact token lengths with the server's own /tokenize.
  { tokenizer: 'server' },
);

it('direct: --tokenizer server predicts the first round prompt_tokens exactly', () => {
  const first = suite.run().records.filter((r) => r.round === 1 && r.outcome === 'ok');
  expect(first.length).toBeGreaterThan(0);
  for (const r of first) expect(r.promptTokensEstimate, `user ${r.userId}`).toBe(r.promptTokens);
  expect(suite.run().result.notes.join('\n')).toMatch(/exact token length/);
});
