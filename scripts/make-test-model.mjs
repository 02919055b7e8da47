#!/usr/bin/env node
// Writes a small LLaMA-architecture GGUF for the real-engine tests (test/engine): seeded random f16 weights,
// the real Llama SentencePiece vocabulary copied from llama.cpp's models/ggml-vocab-llama-spm.gguf (in the
// source that scripts/build-llama-server.sh clones), and a simple chat template. No download, no Python.
//
// The model's text is nonsense, but llama-server runs it as it would a real model: the real tokenizer, chat
// template rendering, prefix caching, slots, timings and metrics. Rows of the output matrix for <unk>, <s>,
// </s> and the 256 byte-fallback tokens are zero, so greedy decoding never picks them (every streamed token
// is visible text, one chunk per token); run the server with --ignore-eos so answers have exactly max_tokens.
//
// Usage: node scripts/make-test-model.mjs [--hidden 512] [--layers 8] [--ff 1376] [--heads 8] [--kv-heads 8]
//          [--ctx 4096] [--seed 1] [--vocab PATH] [--out PATH]
// Prints the model's path (cached: ${PD_BENCH_CACHE:-~/.cache/pd-bench}/models/<parameters>.gguf) as the
// last line of stdout; a second run with the same parameters and vocabulary only prints the path.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const GENERATOR_VERSION = 1;
const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

const { values: args } = parseArgs({
  options: {
    hidden: { type: 'string', default: '512' },
    layers: { type: 'string', default: '8' },
    ff: { type: 'string' },
    heads: { type: 'string', default: '8' },
    'kv-heads': { type: 'string' },
    ctx: { type: 'string', default: '4096' },
    seed: { type: 'string', default: '1' },
    vocab: { type: 'string' },
    out: { type: 'string' },
  },
});

const int = (name, v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
};
const nEmbd = int('hidden', args.hidden);
const nLayer = int('layers', args.layers);
const nHead = int('heads', args.heads);
const nHeadKv = int('kv-heads', args['kv-heads'] ?? args.heads);
// LLaMA's SwiGLU width: 2/3 of 4x hidden, rounded up to a multiple of 32 (1376 for 512).
const nFf = int('ff', args.ff ?? String(Math.ceil((8 * nEmbd) / 3 / 32) * 32));
const nCtx = int('ctx', args.ctx);
const seed = int('seed', args.seed);
if (nEmbd % nHead !== 0 || nHead % nHeadKv !== 0) throw new Error('--hidden must divide by --heads, and --heads by --kv-heads');
const headDim = nEmbd / nHead;

const cache = process.env.PD_BENCH_CACHE || join(homedir(), '.cache', 'pd-bench');

function findVocab() {
  if (args.vocab) return resolve(args.vocab);
  // The source clone made by build-llama-server.sh.
  if (existsSync(cache)) {
    for (const d of readdirSync(cache).sort()) {
      const p = join(cache, d, 'src', 'models', 'ggml-vocab-llama-spm.gguf');
      if (d.startsWith('llama.cpp-') && existsSync(p)) return p;
    }
  }
  throw new Error(`no ggml-vocab-llama-spm.gguf under ${cache}/llama.cpp-*/src/models: run scripts/build-llama-server.sh first, or pass --vocab`);
}

// ---- GGUF reading (enough to copy the tokenizer's key/value pairs byte for byte) ----

const T = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STR: 8, ARR: 9, U64: 10, I64: 11, F64: 12 };
const SCALAR_SIZE = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

function readKvs(buf) {
  if (buf.toString('latin1', 0, 4) !== 'GGUF') throw new Error('not a GGUF file');
  const version = buf.readUInt32LE(4);
  if (version < 2) throw new Error(`GGUF version ${version} is not supported`);
  const nKv = Number(buf.readBigUInt64LE(16));
  let off = 24;
  const str = () => {
    const n = Number(buf.readBigUInt64LE(off));
    const s = buf.toString('utf8', off + 8, off + 8 + n);
    off += 8 + n;
    return s;
  };
  const skipValue = (type) => {
    if (type === T.STR) {
      off += 8 + Number(buf.readBigUInt64LE(off));
    } else if (type === T.ARR) {
      const et = buf.readUInt32LE(off);
      const n = Number(buf.readBigUInt64LE(off + 4));
      off += 12;
      if (et === T.STR || et === T.ARR) for (let i = 0; i < n; i++) skipValue(et);
      else off += n * SCALAR_SIZE[et];
    } else {
      off += SCALAR_SIZE[type];
    }
  };
  const kvs = [];
  for (let i = 0; i < nKv; i++) {
    const start = off;
    const key = str();
    const type = buf.readUInt32LE(off);
    off += 4;
    const valueAt = off;
    skipValue(type);
    kvs.push({ key, type, raw: buf.subarray(start, off), valueAt });
  }
  return kvs;
}

// ---- GGUF writing ----

const ggufString = (s) => {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([len, b]);
};
const kv = (key, type, value) => {
  let v;
  if (type === T.STR) v = ggufString(value);
  else if (type === T.U32) (v = Buffer.alloc(4)).writeUInt32LE(value);
  else if (type === T.F32) (v = Buffer.alloc(4)).writeFloatLE(value);
  else if (type === T.BOOL) v = Buffer.from([value ? 1 : 0]);
  else throw new Error(`kv type ${type}`);
  const t = Buffer.alloc(4);
  t.writeUInt32LE(type);
  return Buffer.concat([ggufString(key), t, v]);
};

// ---- seeded weights ----

/** xorshift128+ over two 32-bit halves is enough here; splitmix32 seeds it. */
function rng(seedValue) {
  let s = seedValue >>> 0 || 1;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split() || 1;
  let b = split() || 2;
  let c = split() || 3;
  let d = split() || 4;
  return () => {
    // xoshiro128**
    const r = Math.imul(Math.imul(b, 5) << 7 | Math.imul(b, 5) >>> 25, 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = (d << 11 | d >>> 21) >>> 0;
    return r;
  };
}

function f32ToF16Bits(v) {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign; // the values used here are never subnormal in f16
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | Math.round(mant / 8192);
}

/** 4096 f16 values spread evenly over [-a, a]: a uniform distribution with standard deviation `std`. */
function uniformTable(std) {
  const a = std * Math.sqrt(3);
  const t = new Uint16Array(4096);
  for (let i = 0; i < 4096; i++) t[i] = f32ToF16Bits(a * ((2 * (i + 0.5)) / 4096 - 1));
  return t;
}

// ---- the model ----

function main() {
  const t0 = process.hrtime.bigint();
  const vocabPath = findVocab();
  const vocabBuf = readFileSync(vocabPath);
  const vocabHash = createHash('sha256').update(vocabBuf).digest('hex').slice(0, 8);
  const name = `llama-spm-h${nEmbd}-l${nLayer}-ff${nFf}-hd${nHead}-kv${nHeadKv}-c${nCtx}-s${seed}-v${vocabHash}-g${GENERATOR_VERSION}.gguf`;
  const out = args.out ? resolve(args.out) : join(cache, 'models', name);
  if (existsSync(out)) {
    console.log(out);
    return;
  }

  const vocabKvs = readKvs(vocabBuf);
  const tokenKv = vocabKvs.find((k) => k.key === 'tokenizer.ggml.tokens');
  if (!tokenKv) throw new Error(`${vocabPath} has no tokenizer.ggml.tokens`);
  const nVocab = Number(vocabBuf.readBigUInt64LE(tokenKv.valueAt + 4));
  const typeKv = vocabKvs.find((k) => k.key === 'tokenizer.ggml.token_type');
  // Token types: 1 normal, 2 unknown, 3 control, 6 byte. Only normal tokens may be generated.
  const normal = new Uint8Array(nVocab);
  if (typeKv) {
    for (let i = 0; i < nVocab; i++) normal[i] = vocabBuf.readInt32LE(typeKv.valueAt + 12 + 4 * i) === 1 ? 1 : 0;
  } else {
    normal.fill(1);
  }

  const kvs = [
    kv('general.architecture', T.STR, 'llama'),
    kv('general.name', T.STR, 'pd-bench test llama (random weights)'),
    kv('general.file_type', T.U32, 1), // mostly f16
    kv('llama.vocab_size', T.U32, nVocab),
    kv('llama.context_length', T.U32, nCtx),
    kv('llama.embedding_length', T.U32, nEmbd),
    kv('llama.block_count', T.U32, nLayer),
    kv('llama.feed_forward_length', T.U32, nFf),
    kv('llama.rope.dimension_count', T.U32, headDim),
    kv('llama.rope.freq_base', T.F32, 10000),
    kv('llama.attention.head_count', T.U32, nHead),
    kv('llama.attention.head_count_kv', T.U32, nHeadKv),
    kv('llama.attention.layer_norm_rms_epsilon', T.F32, 1e-5),
  ];
  for (const k of vocabKvs) if (k.key.startsWith('tokenizer.') && k.key !== 'tokenizer.chat_template') kvs.push(k.raw);
  kvs.push(kv('tokenizer.chat_template', T.STR, CHAT_TEMPLATE));

  // ggml order: ne[0] is the row length (input features), ne[1] the number of rows (outputs).
  const F32 = 0;
  const F16 = 1;
  const tensors = [{ name: 'token_embd.weight', ne: [nEmbd, nVocab], type: F16, fill: 'embd' }];
  for (let i = 0; i < nLayer; i++) {
    const p = `blk.${i}.`;
    tensors.push(
      { name: p + 'attn_norm.weight', ne: [nEmbd], type: F32, fill: 'ones' },
      { name: p + 'attn_q.weight', ne: [nEmbd, nEmbd], type: F16, fill: 'w' },
      { name: p + 'attn_k.weight', ne: [nEmbd, headDim * nHeadKv], type: F16, fill: 'w' },
      { name: p + 'attn_v.weight', ne: [nEmbd, headDim * nHeadKv], type: F16, fill: 'w' },
      { name: p + 'attn_output.weight', ne: [nEmbd, nEmbd], type: F16, fill: 'w' },
      { name: p + 'ffn_norm.weight', ne: [nEmbd], type: F32, fill: 'ones' },
      { name: p + 'ffn_gate.weight', ne: [nEmbd, nFf], type: F16, fill: 'w' },
      { name: p + 'ffn_down.weight', ne: [nFf, nEmbd], type: F16, fill: 'w' },
      { name: p + 'ffn_up.weight', ne: [nEmbd, nFf], type: F16, fill: 'w' },
    );
  }
  tensors.push({ name: 'output_norm.weight', ne: [nEmbd], type: F32, fill: 'ones' });
  tensors.push({ name: 'output.weight', ne: [nEmbd, nVocab], type: F16, fill: 'out' });

  const ALIGN = 32;
  const align = (n) => Math.ceil(n / ALIGN) * ALIGN;
  let dataOff = 0;
  const infos = [];
  for (const t of tensors) {
    const count = t.ne.reduce((a, b) => a * b, 1);
    t.bytes = count * (t.type === F16 ? 2 : 4);
    t.offset = dataOff;
    dataOff = align(dataOff + t.bytes);
    const dims = Buffer.alloc(4 + 8 * t.ne.length + 4 + 8);
    let o = dims.writeUInt32LE(t.ne.length, 0);
    for (const n of t.ne) o = dims.writeBigUInt64LE(BigInt(n), o);
    o = dims.writeUInt32LE(t.type, o);
    dims.writeBigUInt64LE(BigInt(t.offset), o);
    infos.push(Buffer.concat([ggufString(t.name), dims]));
  }
  const header = Buffer.alloc(24);
  header.write('GGUF', 0, 'latin1');
  header.writeUInt32LE(3, 4);
  header.writeBigUInt64LE(BigInt(tensors.length), 8);
  header.writeBigUInt64LE(BigInt(kvs.length), 16);
  const meta = Buffer.concat([header, ...kvs, ...infos]);
  const metaPadded = Buffer.alloc(align(meta.length));
  meta.copy(metaPadded);

  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp.${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, metaPadded);
    const next = rng(seed);
    // std 0.02 (GPT-2's initialisation): with RMSNorm before every block the activations stay well inside f16.
    const weights = uniformTable(0.02);
    let written = 0;
    for (const t of tensors) {
      const buf = Buffer.alloc(align(t.bytes));
      if (t.fill === 'ones') {
        for (let i = 0; i < t.bytes; i += 4) buf.writeFloatLE(1, i);
      } else {
        const u16 = new Uint16Array(buf.buffer, buf.byteOffset, t.bytes / 2);
        for (let i = 0; i < u16.length; i += 2) {
          const r = next();
          u16[i] = weights[r & 4095];
          if (i + 1 < u16.length) u16[i + 1] = weights[(r >>> 16) & 4095];
        }
        if (t.fill === 'out') {
          // Never generate <unk>, <s>, </s> or a byte token: zero logits lose to the largest of ~32k random ones.
          const row = t.ne[0];
          for (let v = 0; v < nVocab; v++) if (!normal[v]) u16.fill(0, v * row, (v + 1) * row);
        }
      }
      writeSync(fd, buf, 0, buf.length, metaPadded.length + t.offset);
      written += t.bytes;
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, out);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.error(
      `make-test-model: ${nLayer} layers x ${nEmbd} hidden (ff ${nFf}, ${nHead} heads, ${nHeadKv} kv heads), vocab ${nVocab} from ${vocabPath}: ` +
        `${(written / 1e6).toFixed(1)} MB of tensors in ${(ms / 1000).toFixed(1)} s`,
    );
  } catch (err) {
    try {
      closeSync(fd);
    } catch {}
    rmSync(tmp, { force: true });
    throw err;
  }
  console.log(out);
}

try {
  main();
} catch (err) {
  console.error(`make-test-model: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
