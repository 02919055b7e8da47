// --tokenizer server: prompt parts cut to exact token lengths with the target's /tokenize and /detokenize,
// against the simulator (vLLM's dialect) over real sockets, and the fitting loop against a tokenizer whose
// cuts merge at the boundary.
import { afterEach, describe, expect, it } from 'vitest';
import { ServerTokenizer, type PromptTokenizer } from '../../src/client/server-tokenizer.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { runBenchmark } from '../../src/run.js';
import { startStack, type RunningStack } from '../../src/sim/stack.js';
import { exactTokenText, ExactPrompts } from '../../src/workload/exact-prompts.js';
import { TextFactory } from '../../src/workload/text.js';

const stacks: RunningStack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

describe('--tokenizer server', () => {
  // CPU-bound (fitting exact prompts over HTTP): about 12 s idle, several times that on a busy machine; how long it
  // takes is not what is tested, so it gets more than the suite's 60 s.
  it('system text and user contexts have exact lengths; round-1 served prompts equal the pre-counted length', async () => {
    const s = await startStack({ topology: 'colocated', replicas: 2, prefill: 1, decode: 1, preset: 'mistral-7b-h100', link: 'rdma-400g', seed: 3, timeScale: 0.25, faults: {}, pdJsonContentType: false }, 0);
    stacks.push(s);
    const { config } = resolveConfig({
      flags: { 'base-url': s.routerUrl, model: s.servedModel, 'num-users': 6, 'num-rounds': 2, qps: 6, 'shared-system-prompt': 120, 'user-history-prompt': 333, 'answer-len': 8, time: 2, 'warmup-requests': 0, tokenizer: 'server' },
    });
    const result = await runBenchmark({ config: { ...config, baseUrl: s.routerUrl, model: s.servedModel }, qps: 6, runId: 't' });
    expect(result.notes.join('\n')).toMatch(/all \d+ prompt parts .* exact token length/);

    const tok = await ServerTokenizer.connect({ baseUrl: s.routerUrl, model: s.servedModel, apiKey: undefined });
    expect(tok.dialect).toBe('vllm');
    // Rebuild the parts the run used and count them with the server.
    const exact = await ExactPrompts.create(tok, new TextFactory(config.seed), 120, 333);
    expect((await tok.tokenize(exact.system.text)).length).toBe(120);
    expect(exact.system.exact).toBe(true);

    const recs: Array<{ round: number; promptTokens: number | undefined; promptTokensEstimate: number }> = [];
    const result2 = await runBenchmark({
      config: { ...config, baseUrl: s.routerUrl, model: s.servedModel },
      qps: 6,
      runId: 't2',
      onRecord: (r) => recs.push(r),
    });
    expect(result2.counts.failed).toBe(0);
    const firstRounds = recs.filter((r) => r.round === 1);
    expect(firstRounds.length).toBeGreaterThan(0);
    for (const r of firstRounds) expect(r.promptTokens).toBe(r.promptTokensEstimate);
  }, 180_000);

  it('the fitting loop cuts exactly, and reports the closest cut when the tokenizer will not land on n', async () => {
    // pieces: "ab" is one token, anything else one per character; `quirk` adds a token whenever the text ends
    // in "a", so a cut there re-tokenizes to one more than was cut (as boundary merges do in real BPE).
    const make = (quirk: boolean): PromptTokenizer => {
      const vocab: string[] = [];
      const id = (p: string): number => {
        const i = vocab.indexOf(p);
        if (i >= 0) return i;
        vocab.push(p);
        return vocab.length - 1;
      };
      return {
        tokenize: async (t) => [...(t.match(/ab|./gs) ?? []).map(id), ...(quirk && t.endsWith('a') ? [id('<end>')] : [])],
        detokenize: async (ids) => ids.map((i) => (vocab[i] === '<end>' ? '' : (vocab[i] ?? ''))).join(''),
        countChat: async () => 0,
        countCompletion: async () => 0,
      };
    };
    const plain = make(false);
    for (const n of [1, 7, 50, 333]) {
      const r = await exactTokenText(plain, n, (k) => 'xab'.repeat(Math.ceil(k / 2)));
      expect(r.exact, `n=${n}`).toBe(true);
      expect((await plain.tokenize(r.text)).length).toBe(n);
    }
    // "xa" repeated: every even cut ends in "a" and re-counts one over, every odd cut is short by one.
    const quirky = make(true);
    const r = await exactTokenText(quirky, 10, (k) => 'xa'.repeat(k));
    expect(r.exact).toBe(false);
    expect(Math.abs(r.tokens - 10)).toBe(1);
    expect((await quirky.tokenize(r.text)).length).toBe(r.tokens);
    expect(await exactTokenText(plain, 0, () => 'never')).toEqual({ text: '', target: 0, tokens: 0, exact: true });
  });
});
