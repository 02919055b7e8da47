// Model x GPU and link presets for the simulator, each constant with its source. The fits are chosen to
// reproduce published measurements (../shared/DESIGN.md §7), not to make one topology win.
//
//   prefill step (ms) = a + b * N + c * Σ(chunk_i * (done_i + chunk_i))   N = tokens computed in the step
//   decode step (ms)  = a + b * Σ context + c * batch
//   KV transfer (ms)  = t0 + bytes / bandwidth,  bytes = tokens * kvBytesPerToken

export interface ModelPreset {
  name: string;
  /** Model name the simulated server reports. */
  servedModel: string;
  description: string;
  /** 2 x layers x kv_heads x head_dim x dtype bytes. */
  kvBytesPerToken: number;
  /** Tokens of KV that fit on one replica (all its GPUs) after weights. */
  kvCapacityTokens: number;
  maxModelLen: number;
  prefill: { a: number; b: number; c: number };
  decode: { a: number; b: number; c: number };
  /** vLLM scheduler limits per step. */
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
  /** GPUs per replica (tensor parallel size). */
  gpusPerReplica: number;
  /** Per-request API/tokenizer overhead before the engine queue (ms). */
  apiOverheadMs: number;
  source: string;
}

export interface LinkPreset {
  name: string;
  /** Effective GB/s (1e9 bytes/s) for KV moves. */
  bandwidthGBps: number;
  /** Fixed cost per transfer (ms). */
  t0Ms: number;
  source: string;
}

// Llama-3-8B / Mistral-7B: 32 layers x 8 KV heads x 128 head dim x 2 (K,V) x 2 bytes (bf16) = 131,072 B/token.
const KV_8B = 2 * 32 * 8 * 128 * 2;
// Llama-3-70B: 80 layers x 8 KV heads x 128 x 2 x 2 bytes = 327,680 B/token.
const KV_70B = 2 * 80 * 8 * 128 * 2;

const LLAMA3_8B_H100: ModelPreset = {
  name: 'llama3-8b-h100',
  servedModel: 'meta-llama/Meta-Llama-3-8B-Instruct',
  description: 'Llama-3-8B (or Mistral-7B) bf16 on one H100-80GB',
  kvBytesPerToken: KV_8B,
  // ~80 GB - 16 GB weights - activations ≈ 56 GB / 131 kB ≈ 430k tokens (DESIGN.md §7).
  kvCapacityTokens: 430_000,
  maxModelLen: 8192,
  // Fit to single-request prefill on H100: 15 ms @512, 27 ms @1k, 102 ms @4k, ~0.5 s @16k (DESIGN.md §7):
  // model gives 15.1 / 27.5 / 106 / 501 ms.
  prefill: { a: 3, b: 0.0235, c: 4.2e-7 },
  // Fit to the decode-step table (Llama-3-8B, H100): ctx 1k B1 7.3, B32 9.9, B128 17.8, B256 28.4 ms;
  // ctx 4k B32 17.4, B64 27.5, B128 47.8 ms. Model gives 7.3 / 9.9 / 17.8 / 28.4 and 17.4 / 27.5 / 47.8.
  decode: { a: 7.22, b: 7.8e-5, c: 0.0046 },
  maxNumBatchedTokens: 8192,
  maxNumSeqs: 256,
  gpusPerReplica: 1,
  // Engine/API overhead per request 1-15 ms under load (DESIGN.md §7); the low end at light load.
  apiOverheadMs: 1.5,
  source: 'DESIGN.md §7: vLLM prefill/decode measurements for Llama-3-8B on H100; KV size from the model config',
};

export const MODEL_PRESETS: Record<string, ModelPreset> = {
  'llama3-8b-h100': LLAMA3_8B_H100,
  'mistral-7b-h100': {
    // Same shape as Llama-3-8B (32 layers, 8 KV heads, head dim 128): same KV size and step-time fits.
    ...LLAMA3_8B_H100,
    name: 'mistral-7b-h100',
    servedModel: 'mistralai/Mistral-7B-Instruct-v0.2',
    description: 'Mistral-7B-Instruct-v0.2 bf16 on one H100-80GB (same shape as Llama-3-8B: 32 layers, 8 KV heads)',
    maxModelLen: 32768,
    source: 'as llama3-8b-h100 (7B/8B class, identical KV geometry); 32k context from the Mistral-7B-Instruct-v0.2 config',
  },
  'llama3-8b-a100': {
    name: 'llama3-8b-a100',
    servedModel: 'meta-llama/Meta-Llama-3-8B-Instruct',
    description: 'Llama-3-8B bf16 on one A100-80GB',
    kvBytesPerToken: KV_8B,
    kvCapacityTokens: 430_000,
    maxModelLen: 8192,
    // Fit to A100-80GB prefill: 41 / 77 / 313 ms / 1.54 s at 512 / 1k / 4k / 16k (DESIGN.md §7):
    // model gives 41.2 / 77.1 / 308 / 1496 ms.
    prefill: { a: 6, b: 0.068, c: 1.4e-6 },
    // Fit to A100-80 decode at ctx 1k: B1 11.3, B8 12.2, B32 15.4, B64 19.7, B128 28.2, B256 45.2 ms:
    // model gives 11.3 / 12.3 / 15.5 / 19.8 / 28.4 / 45.5.
    decode: { a: 11.17, b: 1.3e-4, c: 0.004 },
    maxNumBatchedTokens: 8192,
    maxNumSeqs: 256,
    gpusPerReplica: 1,
    apiOverheadMs: 2,
    source: 'DESIGN.md §7: vLLM measurements for Llama-3-8B on A100-80GB',
  },
  'llama3-70b-tp4-h100': {
    name: 'llama3-70b-tp4-h100',
    servedModel: 'meta-llama/Meta-Llama-3-70B-Instruct',
    description: 'Llama-3-70B bf16, tensor parallel 4 on H100-80GB (4 GPUs per replica)',
    kvBytesPerToken: KV_70B,
    // 4 x 80 GB - 140 GB weights - activations ≈ 165 GB / 327,680 B ≈ 500k tokens.
    kvCapacityTokens: 500_000,
    maxModelLen: 8192,
    // Derived, not measured: 8.75x the 8B FLOPs spread over 4 GPUs at ~80% TP efficiency ≈ 2.7x the 8B
    // prefill; attention term scaled by 80/32 layers over 4 GPUs.
    prefill: { a: 6, b: 0.064, c: 6.6e-7 },
    // Derived: 35 GB of weights per GPU read per step at ~2.2 TB/s ≈ 16 ms + ~2 ms all-reduce at batch 1;
    // KV read per token scales with 327,680/4 B per GPU vs 131,072 B for the 8B.
    decode: { a: 18, b: 4.9e-5, c: 0.012 },
    maxNumBatchedTokens: 8192,
    maxNumSeqs: 256,
    gpusPerReplica: 4,
    apiOverheadMs: 2,
    source: 'derived from the 8B H100 fits and the 70B model shape (DESIGN.md §7 KV size); treat as an estimate',
  },
};

export const LINK_PRESETS: Record<string, LinkPreset> = {
  nvlink: { name: 'nvlink', bandwidthGBps: 120, t0Ms: 0.4, source: 'DESIGN.md §7: NVLink effective ~120 GB/s' },
  'rdma-8x400g': { name: 'rdma-8x400g', bandwidthGBps: 142, t0Ms: 1, source: 'DESIGN.md §7: 8x400G RoCE ~142 GB/s' },
  'rdma-400g': { name: 'rdma-400g', bandwidthGBps: 48, t0Ms: 1, source: 'DESIGN.md §7: 1x400G ~48 GB/s' },
  'roce-100g': { name: 'roce-100g', bandwidthGBps: 12, t0Ms: 1.5, source: 'DESIGN.md §7: 100G RoCE ~12 GB/s' },
  tcp: { name: 'tcp', bandwidthGBps: 4.8, t0Ms: 2, source: 'DESIGN.md §7: TCP GPU-to-GPU ~4.8 GB/s' },
};

export const DEFAULT_MODEL_PRESET = 'mistral-7b-h100';
export const DEFAULT_LINK_PRESET = 'rdma-400g';

/** Time of one prefill step computing `chunks` (tokens computed, tokens already in KV before the chunk). */
export function prefillStepMs(p: ModelPreset, chunks: ReadonlyArray<{ tokens: number; done: number }>): number {
  let n = 0;
  let attn = 0;
  for (const c of chunks) {
    n += c.tokens;
    attn += c.tokens * (c.done + c.tokens);
  }
  return n === 0 ? 0 : p.prefill.a + p.prefill.b * n + p.prefill.c * attn;
}

export function decodeStepMs(p: ModelPreset, batch: number, contextSum: number): number {
  return batch === 0 ? 0 : p.decode.a + p.decode.b * contextSum + p.decode.c * batch;
}

/**
 * A step with both prefill chunks and decodes (colocated chunked prefill): one forward pass pays one fixed
 * cost and both variable costs, so every decode in it waits for the prefill work — the interference PD removes.
 */
export function mixedStepMs(p: ModelPreset, chunks: ReadonlyArray<{ tokens: number; done: number }>, batch: number, contextSum: number): number {
  const pre = prefillStepMs(p, chunks);
  const dec = decodeStepMs(p, batch, contextSum);
  if (pre === 0) return dec;
  if (dec === 0) return pre;
  return Math.max(p.prefill.a, p.decode.a) + (pre - p.prefill.a) + (dec - p.decode.a);
}

export function kvTransferMs(link: LinkPreset, tokens: number, kvBytesPerToken: number): number {
  return link.t0Ms + (tokens * kvBytesPerToken) / (link.bandwidthGBps * 1e9) * 1000;
}
