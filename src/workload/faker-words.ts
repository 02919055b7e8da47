// The words faker.word.words() gives for a seed, without faker: its Mersenne Twister (MT19937, seeded with
// init_by_array, 53-bit floats) and the draws of word.sample() over a copy of its English word lists
// (word-table.generated.ts). Loading faker and letting it copy a whole word list for every word it samples cost
// ~0.25 CPU-s per process; this costs a few tens of ms. test/unit/text-pool.test.ts checks it word for word
// against faker itself, over many seeds.
import { WORD_LISTS } from './word-table.generated.js';

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

/** MT19937 exactly as faker 10 runs it (its default randomizer: seed(), then next() in [0, 1) with 53 bits). */
export class FakerTwister {
  #state = new Int32Array(N);
  /**
   * The next N / 2 floats, made a block at a time (the state is twisted a block at a time, and each float takes
   * two consecutive outputs, so none straddles two blocks): a draw is then one array read, which matters because
   * a fresh process runs most of its draws before the optimizing compiler has finished.
   */
  #floats = new Float64Array(N / 2);
  #index = 0;

  constructor(seed: number | readonly number[]) {
    const init = typeof seed === 'number' ? initGenrand(seed) : initByArray(seed);
    // faker's seeding leaves plain numbers (some outside int32); every later step reads them through 32-bit
    // operators, so storing them as int32 changes nothing.
    for (let i = 0; i < N; i++) this.#state[i] = init[i] as number;
    this.#twist();
  }

  #twist(): void {
    const s = this.#state;
    for (let k = 0; k < N; k++) {
      const y = ((s[k] as number) & UPPER) | ((s[k + 1 < N ? k + 1 : 0] as number) & LOWER);
      s[k] = (s[k + M < N ? k + M : k + M - N] as number) ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    for (let k = 0; k < N / 2; k++) {
      // faker's nextF53(): (first output >>> 5) * 2^26 + (second >>> 6), over 2^53.
      const a = temper(s[2 * k] as number) >>> 5;
      const b = temper(s[2 * k + 1] as number) >>> 6;
      this.#floats[k] = (a * 67108864 + b) * (1 / 9007199254740992);
    }
    this.#index = 0;
  }

  /** A float in [0, 1), as faker's randomizer.next(). */
  next(): number {
    if (this.#index === N / 2) this.#twist();
    return this.#floats[this.#index++] as number;
  }

  /** faker.number.int({ min, max }) for integers min <= max. */
  int(min: number, max: number): number {
    if (min === max) return min;
    return Math.floor(this.next() * (max - min + 1) + min);
  }
}

/** MT19937's tempering of one state word, as an unsigned 32-bit output. */
function temper(y: number): number {
  y ^= y >>> 11;
  y ^= (y << 7) & 0x9d2c5680;
  y ^= (y << 15) & 0xefc60000;
  y ^= y >>> 18;
  return y >>> 0;
}

// Seeding, step for step as faker does it (plain numbers, Math.imul, Math.trunc), so any seed (negative,
// fractional, beyond 32 bits) gives faker's state.
function initGenrand(seed: number): number[] {
  const t = new Array<number>(N);
  t[0] = seed;
  for (let i = 1; i < N; i++) {
    const p = t[i - 1] as number;
    t[i] = Math.trunc(Math.imul(1812433253, p ^ (p >>> 30)) + i);
  }
  return t;
}

function initByArray(key: readonly number[]): number[] {
  const t = initGenrand(19650218);
  let i = 1;
  let j = 0;
  for (let k = Math.max(N, key.length); k !== 0; --k) {
    const p = (t[i - 1] as number) ^ ((t[i - 1] as number) >>> 30);
    t[i] = Math.trunc(((t[i] as number) ^ Math.imul(p, 1664525)) + (key[j] as number) + j);
    i++;
    j++;
    if (i >= N) {
      t[0] = t[N - 1] as number;
      i = 1;
    }
    if (j >= key.length) j = 0;
  }
  for (let k = N - 1; k !== 0; k--) {
    const p = (t[i - 1] as number) ^ ((t[i - 1] as number) >>> 30);
    t[i] = Math.trunc(((t[i] as number) ^ Math.imul(p, 1566083941)) - i);
    i++;
    if (i >= N) {
      t[0] = t[N - 1] as number;
      i = 1;
    }
  }
  t[0] = 0x80000000;
  return t;
}

/** The word lists, split once per process. */
let lists: string[][] | undefined;
export function wordLists(): readonly (readonly string[])[] {
  return (lists ??= WORD_LISTS.map((l) => l.split(' ')));
}

/** A drawn word as one small integer, list * 4096 + index (the generator keeps every list under 4096 words). */
export type WordRef = number;
export const refList = (ref: WordRef): number => ref >>> 12;
export const refIndex = (ref: WordRef): number => ref & 4095;
export const wordText = (ref: WordRef): string => (wordLists()[ref >>> 12] as readonly string[])[ref & 4095] as string;

const LIST_COUNT = WORD_LISTS.length;

/**
 * `count` calls of faker.word.words({ count: { min, max } }) as word refs: call i's words are
 * words[starts[i]] .. words[starts[i + 1] - 1]. One loop, so a fresh process optimizes one function, not four.
 */
export function sampleWordRuns(rng: FakerTwister, count: number, min: number, max: number): { words: Uint16Array; starts: Uint32Array } {
  const words = new Uint16Array(count * max);
  const starts = new Uint32Array(count + 1);
  const lens = wordLists().map((l) => l.length);
  const order = new Uint8Array(LIST_COUNT);
  let w = 0;
  for (let s = 0; s < count; s++) {
    starts[s] = w;
    // faker.helpers.multiple(): the count first (faker.number.int({ min, max })).
    const n = rng.int(min, max);
    for (let i = 0; i < n; i++) {
      // faker.word.sample(): faker shuffles its seven word functions (helpers.shuffle: Fisher-Yates from the end,
      // one faker.number.int({ max: k }) per step) and calls the first, which takes one element of its list
      // (helpers.arrayElement: one draw, none for a list of one).
      for (let k = 0; k < LIST_COUNT; k++) order[k] = k;
      for (let k = LIST_COUNT - 1; k > 0; --k) {
        const m = Math.floor(rng.next() * (k + 1));
        const x = order[k] as number;
        order[k] = order[m] as number;
        order[m] = x;
      }
      const list = order[0] as number;
      const len = lens[list] as number;
      words[w++] = list * 4096 + (len > 1 ? Math.floor(rng.next() * len) : 0);
    }
  }
  starts[count] = w;
  return { words: words.subarray(0, w), starts };
}
