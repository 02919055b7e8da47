// pd-bench against two llama-servers as prefill and decode behind the simulated production-stack router
// (disaggregated_prefill): the router sends each request to the prefill server with max_tokens 1 and stream
// false, waits for the answer, then streams the decode server's answer. The servers share no KV, so the decode
// server computes the prompt again (from its own prefix cache where it can). A recording proxy in front of the
// prefill server keeps each prefill leg's timings, so the client's TTFT can be accounted for leg by leg:
//   TTFT = router hop + prefill leg (its wait + prompt_ms + 1 token + HTTP) + decode wait + decode prompt_ms + trip
// How far the client's TTFT lies above the legs' prompt_ms, and its ITL from the decode server's, is measured in
// bench/ENGINE-FIDELITY.md; the suite asserts the ordering (TTFT covers both legs) and the accounting.
import { expect, it } from 'vitest';
import { Router } from '../../src/sim/router.js';
import { runWorkload } from './bench.js';
import { engineSuite } from './suite.js';
import { LlamaServer } from './llama-server.js';
import { RecordingProxy } from './recording-proxy.js';

const suite = engineSuite(
  'pd',
  async (files) => {
    const [prefill, decode] = await Promise.all([LlamaServer.start({ files, slots: 4 }), LlamaServer.start({ files, slots: 4 })]);
    const proxy = new RecordingProxy(prefill.root);
    const proxyRoot = await proxy.listen();
    const router = new Router({ logic: 'disaggregated_prefill', prefill: [`${proxyRoot}/v1`], decode: [decode.baseUrl] });
    await router.listen(0);
    return {
      baseUrl: router.url,
      answering: [decode],
      prefill: { server: prefill, legs: () => proxy.exchanges },
      close: async () => {
        await router.close();
        await proxy.close();
      },
    };
  },
);

// --tokenizer server through the router: /tokenize, /detokenize and llama-server's /apply-template are forwarded.
it('pd: --tokenizer server works through the router; round-1 prompts are served at the pre-counted length', async () => {
  const run = await runWorkload(suite.topology().baseUrl, { tokenizer: 'server', time: 1, 'num-users': 1, 'num-rounds': 2 });
  expect(run.result.counts.ok).toBeGreaterThan(0);
  expect(run.result.notes.join('\n')).toMatch(/exact token length/);
  const first = run.records.filter((r) => r.round === 1 && r.outcome === 'ok');
  expect(first.length).toBeGreaterThan(0);
  for (const r of first) expect(r.promptTokens).toBe(r.promptTokensEstimate);
});
