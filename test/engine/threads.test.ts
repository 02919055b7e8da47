// Measures llama-server's prefill and decode speed by thread count, one server alone and two at once (as the
// PD and replica tests run them), to choose DEFAULT_THREADS. Skipped unless PD_BENCH_ENGINE_MEASURE=1:
//   PD_BENCH_ENGINE_MEASURE=1 npm run test:engine -- threads
//
// THREADS_NOTE - measured on the 2-core test machine (AMD EPYC, 2 vCPUs, shared with other test runs; default
// test model 512 x 8 f16; 330-word prompts, 128 answer tokens, median of 3; "two servers": both busy at once):
//   threads   one server                      two servers at once (each)
//   1          837 prompt tok/s, 7.18 ms/tok    686 prompt tok/s,  8.47 ms/tok
//   2         1439 prompt tok/s, 4.93 ms/tok    382 prompt tok/s, 82.90 ms/tok   <- decode collapses 10x
// Two threads help a lone server, but the PD and replica tests run two servers and the client shares the same
// cores, so every test server gets one thread (DEFAULT_THREADS in llama-server.ts).
import { describe, expect, inject, it } from 'vitest';
import { quantile } from './bench.js';
import { LlamaServer, stopAll } from './llama-server.js';

interface Timings {
  prompt_n: number;
  prompt_ms: number;
  predicted_n: number;
  predicted_ms: number;
}

let salt = 0;
async function oneRequest(s: LlamaServer, promptWords: number, maxTokens: number): Promise<Timings> {
  // A fresh prefix every time, so the prompt is computed, not cached.
  const words = Array.from({ length: promptWords }, (_, i) => `w${(i * 7919 + salt * 104729) % 100000}`);
  salt++;
  const res = await fetch(`${s.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: `${salt} ${words.join(' ')}` }], max_tokens: maxTokens, temperature: 0 }),
  });
  const j = (await res.json()) as { timings: Timings };
  return j.timings;
}

async function measure(servers: LlamaServer[], reps: number): Promise<{ prefillTokS: number; decodeMsPerTok: number }> {
  const prefill: number[] = [];
  const decode: number[] = [];
  for (let i = 0; i < reps; i++) {
    const all = await Promise.all(servers.map((s) => oneRequest(s, 330, 128)));
    for (const t of all) {
      prefill.push((t.prompt_n / t.prompt_ms) * 1000);
      decode.push(t.predicted_ms / (t.predicted_n - 1));
    }
  }
  return { prefillTokS: quantile(prefill, 0.5), decodeMsPerTok: quantile(decode, 0.5) };
}

describe.skipIf(process.env.PD_BENCH_ENGINE_MEASURE !== '1')('llama-server threads on this machine', () => {
  it('prefill and decode speed by threads, one server and two at once', async () => {
    const files = inject('engineFiles');
    const lines: string[] = [];
    for (const threads of [1, 2]) {
      const a = await LlamaServer.start({ files, slots: 2, threads });
      await oneRequest(a, 50, 8);
      const one = await measure([a], 3);
      const b = await LlamaServer.start({ files, slots: 2, threads });
      await oneRequest(b, 50, 8);
      const two = await measure([a, b], 3);
      await stopAll();
      lines.push(
        `  ${threads}        ${one.prefillTokS.toFixed(0).padStart(5)} tok/s, ${one.decodeMsPerTok.toFixed(2)} ms/token` +
          `        ${two.prefillTokS.toFixed(0).padStart(5)} tok/s, ${two.decodeMsPerTok.toFixed(2)} ms/token`,
      );
    }
    console.log(`threads  one server                          two servers\n${lines.join('\n')}`);
    expect(lines.length).toBe(2);
  }, 600_000);
});
