// Seeded realistic filler text of a target token length. Sentences are generated once per seed (faker's English
// words, by faker's algorithm: faker-words.ts) into a pool, each with its Mistral-7B SentencePiece token count;
// each piece of text is a seeded walk over that pool that adds sentences (then single words) while the summed
// counts stay within the target. So building a 20k-token user context costs a few hundred string joins, and its
// length is right for Llama-family SentencePiece vocabularies to within a few percent at any size. No IO.
// The counts come from a table generated with the package (token-count.ts: exact, as the tokenizer counts), so
// a factory costs tens of CPU-ms, not ~1.3 CPU-s, and loads neither faker nor the tokenizer; the pool is the same,
// byte for byte, as when both ran here (test/unit/text-pool.test.ts; bench/STARTUP.md has the figures).
import { mixSeed, prng } from '../util/prng.js';
import { FakerTwister, refIndex, refList, sampleWordRuns, wordText, type WordRef } from './faker-words.js';
import { referenceTokens, WordForm, wordFormTokens } from './token-count.js';

export { referenceTokens } from './token-count.js';

const POOL_SIZE = 4096;
const QUESTIONS = 512;

/** Purposes keep the random streams of different texts apart. */
export const TextKind = { system: 1, context: 2, question: 3, answer: 4, warmup: 5 } as const;
export type TextKind = (typeof TextKind)[keyof typeof TextKind];

/**
 * The pool of a seed: the sentences and questions that faker.seed([seed, 0x5e47]) and then faker.word.words()
 * gave here before (faker-words.ts makes the same draws), with the counts mistral-tokenizer-js gave them (now from
 * the table). All words are drawn up front, as the draws are one sequential stream; a sentence's text and count
 * are made when it is first drawn, so a process pays only for the sentences it uses before its first request.
 */
export class TextPool {
  static readonly SIZE = POOL_SIZE;
  readonly questions: string[];
  /** Every sentence's words (faker-words.ts refs), sentence i's from #wordStart[i] to #wordStart[i + 1]. */
  #words: Uint16Array;
  #wordStart: Uint32Array;
  #sentences = new Array<string | undefined>(POOL_SIZE);
  /** 0 until made (a sentence has at least six words, so at least six tokens). */
  #sentenceTokens = new Uint16Array(POOL_SIZE);

  constructor(seed: number) {
    const rng = new FakerTwister([seed, 0x5e47]);
    const { words, starts } = sampleWordRuns(rng, POOL_SIZE, 6, 16);
    this.#words = words;
    this.#wordStart = starts;
    const q = sampleWordRuns(rng, QUESTIONS, 5, 10);
    this.questions = new Array<string>(QUESTIONS);
    for (let i = 0; i < QUESTIONS; i++) {
      const w = Array.from(q.words.subarray(q.starts[i], q.starts[i + 1]), wordText).join(' ');
      this.questions[i] = `can you tell me about ${w}?`;
    }
  }

  /** Sentence i: its words joined as faker.word.words() joins them, the first letter upper-cased, a full stop. */
  sentence(i: number): string {
    return this.#sentences[i] ?? this.#make(i);
  }

  /** The reference count of sentence i on its own, after a space. */
  sentenceTokens(i: number): number {
    if (this.#sentenceTokens[i] === 0) this.#make(i);
    return this.#sentenceTokens[i] as number;
  }

  /** The reference count of word k of sentence i as it stands in a cut sentence: capitalised if first, no stop. */
  cutWordTokens(i: number, k: number): number {
    const ref = this.#words[(this.#wordStart[i] as number) + k] as WordRef;
    return wordFormTokens(refList(ref), refIndex(ref), k === 0 ? WordForm.capital : WordForm.plain);
  }

  #make(i: number): string {
    const start = this.#wordStart[i] as number;
    const last = (this.#wordStart[i + 1] as number) - 1;
    let w = '';
    let tokens = 0;
    for (let k = start; k <= last; k++) {
      const ref = this.#words[k] as WordRef;
      w = k === start ? wordText(ref) : w + ' ' + wordText(ref);
      const form = k === start ? (k === last ? WordForm.capitalStop : WordForm.capital) : k === last ? WordForm.stop : WordForm.plain;
      tokens += wordFormTokens(refList(ref), refIndex(ref), form);
    }
    const sentence = w.charAt(0).toUpperCase() + w.slice(1) + '.';
    this.#sentences[i] = sentence;
    this.#sentenceTokens[i] = tokens;
    return sentence;
  }
}

export class TextFactory {
  readonly seed: number;
  #pool: TextPool;

  constructor(seed: number) {
    this.seed = seed;
    this.#pool = new TextPool(seed);
  }

  /**
   * Text of `tokens` tokens by the reference count (sentences and words counted on their own; the sum is
   * within a token or two of counting the whole text), deterministic in (seed, kind, keys). `lead` is placed
   * first and counts toward the length.
   */
  text(tokens: number, kind: TextKind, keys: readonly number[], lead = ''): string {
    if (tokens <= 0) return lead;
    const rand = prng(mixSeed(this.seed, kind, ...keys));
    const parts: string[] = lead ? [lead] : [];
    let count = lead ? referenceTokens(lead) : 0;
    for (;;) {
      const i = Math.floor(rand() * POOL_SIZE);
      const n = this.#pool.sentenceTokens(i);
      const sentence = this.#pool.sentence(i);
      if (count + n <= tokens) {
        parts.push(sentence);
        count += n;
        if (count === tokens) break;
        continue;
      }
      // The last sentence does not fit: take its words while they do, keeping one token for the full stop.
      const words = sentence.slice(0, -1).split(' ');
      let cut = 0;
      for (let k = 0; k < words.length; k++) {
        const wn = this.#pool.cutWordTokens(i, k);
        if (count + wn + 1 > tokens) break;
        count += wn;
        cut++;
      }
      if (cut > 0) parts.push(words.slice(0, cut).join(' ') + '.');
      break;
    }
    return parts.join(' ');
  }

  /** A short question (about 10-15 tokens), deterministic in (seed, user, round). */
  question(userId: number, round: number): string {
    const rand = prng(mixSeed(this.seed, TextKind.question, userId, round));
    const questions = this.#pool.questions;
    return `Here's question #${round}: ${questions[Math.floor(rand() * questions.length)]}`;
  }
}
