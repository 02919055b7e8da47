// Seeded realistic filler text of a target token length. Sentences are generated once with faker (seeded
// by --seed) into a pool; each piece of text is a seeded walk over that pool, so building a 20k-token user
// context costs a few hundred string joins instead of tens of thousands of faker calls. No IO.
import { Faker, en } from '@faker-js/faker';
import { mixSeed, prng } from '../util/prng.js';
import { DEFAULT_CHARS_PER_TOKEN } from './tokens.js';

const POOL_SIZE = 4096;

/** Purposes keep the random streams of different texts apart. */
export const TextKind = { system: 1, context: 2, question: 3, answer: 4, warmup: 5 } as const;
export type TextKind = (typeof TextKind)[keyof typeof TextKind];

export class TextFactory {
  readonly seed: number;
  readonly charsPerToken: number;
  #sentences: string[];
  #questions: string[];

  constructor(seed: number, charsPerToken = DEFAULT_CHARS_PER_TOKEN) {
    this.seed = seed;
    this.charsPerToken = charsPerToken;
    const faker = new Faker({ locale: [en] });
    faker.seed([seed, 0x5e47]);
    this.#sentences = new Array<string>(POOL_SIZE);
    for (let i = 0; i < POOL_SIZE; i++) {
      const w = faker.word.words({ count: { min: 6, max: 16 } });
      this.#sentences[i] = w.charAt(0).toUpperCase() + w.slice(1) + '.';
    }
    this.#questions = new Array<string>(512);
    for (let i = 0; i < this.#questions.length; i++) {
      const w = faker.word.words({ count: { min: 5, max: 10 } });
      this.#questions[i] = `can you tell me about ${w}?`;
    }
  }

  /**
   * Text of about `tokens` tokens by the documented estimate, deterministic in (seed, kind, keys).
   * `lead` is placed first and counts toward the length.
   */
  text(tokens: number, kind: TextKind, keys: readonly number[], lead = ''): string {
    if (tokens <= 0) return lead;
    const targetChars = Math.round(tokens * this.charsPerToken);
    const rand = prng(mixSeed(this.seed, kind, ...keys));
    const parts: string[] = lead ? [lead] : [];
    let len = lead.length;
    while (len < targetChars) {
      const s = this.#sentences[Math.floor(rand() * POOL_SIZE)] as string;
      parts.push(s);
      len += s.length + 1;
    }
    let out = parts.join(' ');
    if (out.length > targetChars) {
      // Trim at a word boundary so the estimate lands on the target instead of up to a sentence over it.
      const cut = out.lastIndexOf(' ', targetChars);
      out = out.slice(0, cut > lead.length ? cut : targetChars) + '.';
    }
    return out;
  }

  /** A short question (about 10-15 tokens), deterministic in (seed, user, round). */
  question(userId: number, round: number): string {
    const rand = prng(mixSeed(this.seed, TextKind.question, userId, round));
    return `Here's question #${round}: ${this.#questions[Math.floor(rand() * this.#questions.length)]}`;
  }
}
