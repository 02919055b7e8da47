// The simulator's engine model in virtual time: exact against the preset formulas, queueing theory, KV
// limits, prefix reuse, and the colocated-vs-PD interference the published results describe.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/sim/clock.js';
import { Engine, type EngineRequest } from '../../src/sim/engine.js';
import { MODEL_PRESETS, decodeStepMs, kvTransferMs, LINK_PRESETS, prefillStepMs, type ModelPreset } from '../../src/sim/presets.js';
import { BLOCK_TOKENS } from '../../src/sim/sim-tokenizer.js';
import { mixSeed, prng } from '../../src/util/prng.js';

const H100 = MODEL_PRESETS['llama3-8b-h100'] as ModelPreset;

let uniq = 1;
function request(promptTokens: number, maxTokens: number, prefixOf?: number[]): EngineRequest {
  const n = Math.floor(promptTokens / BLOCK_TOKENS);
  const blocks = prefixOf ? prefixOf.slice(0, n) : Array.from({ length: n }, () => uniq++);
  return { id: String(uniq++), promptTokens, blocks, maxTokens };
}

interface Trace {
  arrival: number;
  tokens: number[];
  cached: number;
  done: boolean;
}

function submit(e: Engine, clock: VirtualClock, req: EngineRequest, at?: number): Trace {
  const t: Trace = { arrival: at ?? clock.now(), tokens: [], cached: -1, done: false };
  const go = (): void => {
    e.submit(req, {
      onStart: (c) => (t.cached = c),
      onToken: (_i, atMs) => t.tokens.push(atMs),
      onFinish: () => (t.done = true),
    });
  };
  if (at === undefined) go();
  else clock.at(at, go);
  return t;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};

describe('engine model', () => {
  it('one request: TTFT is the prefill formula and ITL the decode formula', () => {
    for (const L of [512, 1024, 4096]) {
      const clock = new VirtualClock();
      const e = new Engine('e', H100, clock);
      const t = submit(e, clock, request(L, 20));
      clock.run();
      const ttft = (t.tokens[0] as number) - t.arrival;
      expect(ttft).toBeCloseTo(prefillStepMs(H100, [{ tokens: L, done: 0 }]), 6);
      for (let i = 1; i < t.tokens.length; i++) {
        const itl = (t.tokens[i] as number) - (t.tokens[i - 1] as number);
        expect(itl).toBeCloseTo(decodeStepMs(H100, 1, L + i), 6);
      }
      expect(t.tokens).toHaveLength(20);
      expect(t.done).toBe(true);
    }
    // The published single-request anchors (DESIGN.md §7), within 5%.
    expect(prefillStepMs(H100, [{ tokens: 512, done: 0 }])).toBeGreaterThan(15 * 0.95);
    expect(prefillStepMs(H100, [{ tokens: 512, done: 0 }])).toBeLessThan(15 * 1.05);
    expect(prefillStepMs(H100, [{ tokens: 1024, done: 0 }]) / 27).toBeCloseTo(1, 1);
    expect(Math.abs(decodeStepMs(H100, 1, 1000) - 7.3) / 7.3).toBeLessThan(0.05);
    expect(Math.abs(decodeStepMs(H100, 128, 128 * 4000) - 47.8) / 47.8).toBeLessThan(0.05);
  });

  it('prefill-only Poisson load at utilisation 0.5 matches M/D/1 within 15%', () => {
    const L = 2048;
    const preset: ModelPreset = { ...H100, maxNumBatchedTokens: L };
    const D = prefillStepMs(preset, [{ tokens: L, done: 0 }]);
    const rho = 0.5;
    const lambda = rho / D; // per ms
    const clock = new VirtualClock();
    const e = new Engine('e', preset, clock);
    const rand = prng(mixSeed(42));
    const traces: Trace[] = [];
    let t = 0;
    for (let i = 0; i < 20_000; i++) {
      t += -Math.log(1 - rand()) / lambda;
      traces.push(submit(e, clock, request(L, 1), t));
    }
    clock.run();
    const mean = traces.reduce((s, x) => s + ((x.tokens[0] as number) - x.arrival), 0) / traces.length;
    // M/D/1: W = D + rho * D / (2 (1 - rho)).
    const expected = D + (rho * D) / (2 * (1 - rho));
    expect(Math.abs(mean - expected) / expected).toBeLessThan(0.15);
  });

  it('a repeated prefix is served from the cache: cached tokens rise and TTFT falls', () => {
    const clock = new VirtualClock();
    const e = new Engine('e', H100, clock);
    const first = request(4096, 4);
    const a = submit(e, clock, first);
    clock.run();
    const b = submit(e, clock, { ...request(4096 + 64, 4, first.blocks.concat([9e9, 9e9 + 1, 9e9 + 2, 9e9 + 3])) });
    clock.run();
    expect(a.cached).toBe(0);
    expect(b.cached).toBe(4096);
    expect((b.tokens[0] as number) - b.arrival).toBeLessThan(((a.tokens[0] as number) - a.arrival) / 5);
    expect(e.stats().prefixHitTokens).toBe(4096);
  });

  it('KV capacity exhaustion makes requests wait, not fail', () => {
    const preset: ModelPreset = { ...H100, kvCapacityTokens: 4 * 1100 };
    const clock = new VirtualClock();
    const e = new Engine('e', preset, clock);
    const traces = Array.from({ length: 12 }, () => submit(e, clock, request(1000, 50)));
    clock.run(1);
    expect(e.stats().running).toBe(4);
    expect(e.stats().waiting).toBe(8);
    clock.run();
    expect(traces.every((t) => t.done && t.tokens.length === 50)).toBe(true);
    const firsts = traces.map((t) => t.tokens[0] as number);
    // The last ones could only start after earlier ones finished and released their KV.
    expect(Math.max(...firsts)).toBeGreaterThan(Math.min(...traces.map((t) => t.tokens[49] as number)));
  });

  it('colocated ITL p99 rises with prefill load; a PD decode engine keeps it flat', () => {
    const run = (prefillRatePerS: number): { colocated: number; pd: number } => {
      const itls = { colocated: [] as number[], pd: [] as number[] };
      const link = LINK_PRESETS['rdma-400g'];
      for (const mode of ['colocated', 'pd'] as const) {
        const clock = new VirtualClock();
        const main = new Engine('main', H100, clock);
        const prefillOnly = new Engine('prefill', H100, clock);
        const rand = prng(mixSeed(7, prefillRatePerS));
        // Steady decode load: 16 long answers in flight, refreshed; plus 4k-token prompts at the given rate.
        const decoders: Trace[] = [];
        for (let i = 0; i < 48; i++) decoders.push(submit(main, clock, { ...request(1000, 300), kvReadyAtMs: mode === 'pd' ? i * 100 : undefined }, i * 100));
        let t = 0;
        while (prefillRatePerS > 0 && t < 6000) {
          t += (-Math.log(1 - rand()) / prefillRatePerS) * 1000;
          const req = request(4096, 1);
          if (mode === 'colocated') submit(main, clock, req, t);
          else submit(prefillOnly, clock, req, t);
        }
        clock.run();
        for (const d of decoders) for (let i = 2; i < d.tokens.length; i++) itls[mode].push((d.tokens[i] as number) - (d.tokens[i - 1] as number));
        expect(link).toBeDefined();
      }
      return { colocated: pct(itls.colocated, 99), pd: pct(itls.pd, 99) };
    };
    const idle = run(0);
    const loaded = run(4);
    expect(loaded.colocated).toBeGreaterThan(idle.colocated * 3);
    expect(loaded.pd).toBeLessThan(idle.pd * 1.2);
  });

  it('PD decode leg: first token = KV arrival + one step; transfer follows the link preset', () => {
    const link = LINK_PRESETS['rdma-400g'];
    if (!link) throw new Error('preset missing');
    const L = 4096;
    const transfer = kvTransferMs(link, L, H100.kvBytesPerToken);
    expect(transfer).toBeCloseTo(1 + (L * 131072) / 48e9 * 1000, 6);
    const clock = new VirtualClock();
    const pre = new Engine('p', H100, clock);
    const dec = new Engine('d', H100, clock);
    const req = request(L, 10);
    const p = submit(pre, clock, { ...req, maxTokens: 1 });
    clock.run();
    const prefillEnd = p.tokens[0] as number;
    const d = submit(dec, clock, { ...req, kvReadyAtMs: prefillEnd + transfer });
    clock.run();
    const firstStep = prefillStepMs(H100, [{ tokens: 1, done: L - 1 }]);
    expect(d.cached).toBe(L - 1);
    expect((d.tokens[0] as number) - (prefillEnd + transfer)).toBeCloseTo(firstStep, 6);
    const ttft = (d.tokens[0] as number) - p.arrival;
    const expected = prefillStepMs(H100, [{ tokens: L, done: 0 }]) + transfer + firstStep;
    expect(Math.abs(ttft - expected) / expected).toBeLessThan(0.05);
  });
});
