// Seeded realistic filler text of a target token length. Sentences are generated once with faker (seeded
// by --seed) into a pool and counted once with Mistral-7B's SentencePiece tokenizer; each piece of text is a
// seeded walk over that pool that adds sentences (then single words) while the summed counts stay within the
// target. So building a 20k-token user context costs a few hundred string joins, and its length is right
// for Llama-family SentencePiece vocabularies to within a few percent at any size. No IO.
// The English-only entry: the package root loads every locale (+32 MB RSS) and gives the same words for a seed.
import { faker } from '@faker-js/faker/locale/en';
import mistralTokenizer from 'mistral-tokenizer-js';
import { mixSeed, prng } from '../util/prng.js';

const POOL_SIZE = 4096;

/** Purposes keep the random streams of different texts apart. */
export const TextKind = { system: 1, context: 2, question: 3, answer: 4, warmup: 5 } as const;
export type TextKind = (typeof TextKind)[keyof typeof TextKind];

/** Tokens of `text` as it appears mid-prompt (after a space), with Mistral-7B's vocabulary and no BOS. */
export function referenceTokens(text: string): number {
  return mistralTokenizer.encode(' ' + text, false, false).length;
}

export class TextFactory {
  readonly seed: number;
  #sentences: string[];
  #sentenceTokens: Uint16Array;
  #wordTokens = new Map<string, number>();
  #questions: string[];

  constructor(seed: number) {
    this.seed = seed;
    // The shared instance is re-seeded here and used synchronously, so factories cannot disturb each other.
    faker.seed([seed, 0x5e47]);
    this.#sentences = new Array<string>(POOL_SIZE);
    this.#sentenceTokens = new Uint16Array(POOL_SIZE);
    for (let i = 0; i < POOL_SIZE; i++) {
      const w = faker.word.words({ count: { min: 6, max: 16 } });
      const sentence = w.charAt(0).toUpperCase() + w.slice(1) + '.';
      this.#sentences[i] = sentence;
      this.#sentenceTokens[i] = referenceTokens(sentence);
    }
    this.#questions = new Array<string>(512);
    for (let i = 0; i < this.#questions.length; i++) {
      const w = faker.word.words({ count: { min: 5, max: 10 } });
      this.#questions[i] = `can you tell me about ${w}?`;
    }
  }

  #word(w: string): number {
    let n = this.#wordTokens.get(w);
    if (n === undefined) this.#wordTokens.set(w, (n = referenceTokens(w)));
    return n;
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
      const n = this.#sentenceTokens[i] as number;
      const sentence = this.#sentences[i] as string;
      if (count + n <= tokens) {
        parts.push(sentence);
        count += n;
        if (count === tokens) break;
        continue;
      }
      // The last sentence does not fit: take its words while they do, keeping one token for the full stop.
      const words = sentence.slice(0, -1).split(' ');
      let cut = 0;
      for (const w of words) {
        const wn = this.#word(w);
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
    return `Here's question #${round}: ${this.#questions[Math.floor(rand() * this.#questions.length)]}`;
  }
}
