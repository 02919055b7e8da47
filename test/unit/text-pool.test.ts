// The seeded text pool (src/workload/text.ts) without faker and the tokenizer at run time: results of earlier runs
// are compared with new ones by seed, so a seed's text must stay the same byte for byte. Checked here against a
// copy of the implementation that ran faker and mistral-tokenizer-js in every process (LegacyTextFactory), against
// digests of its output taken before the change, and against the tokenizer's vocabulary, which is what makes
// counting by parts exact (src/workload/token-count.ts).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { faker } from '@faker-js/faker/locale/en';
import mistralTokenizer from 'mistral-tokenizer-js';
import { describe, expect, it } from 'vitest';
import { mixSeed, prng } from '../../src/util/prng.js';
import { FakerTwister, sampleWordRuns, wordText } from '../../src/workload/faker-words.js';
import { countTokens, referenceTokenizerLoaded, referenceTokens } from '../../src/workload/token-count.js';
import { TextFactory, TextKind, TextPool } from '../../src/workload/text.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const mistralCount = (s: string): number => mistralTokenizer.encode(s, false, false).length;

// ---- the implementation before the table (src/workload/text.ts as committed before it), kept to compare with --

const legacyReferenceTokens = (text: string): number => mistralCount(' ' + text);

class LegacyTextFactory {
  readonly seed: number;
  readonly sentences: string[];
  readonly sentenceTokens: Uint16Array;
  readonly questions: string[];
  #wordTokens = new Map<string, number>();

  constructor(seed: number) {
    this.seed = seed;
    faker.seed([seed, 0x5e47]);
    this.sentences = new Array<string>(4096);
    this.sentenceTokens = new Uint16Array(4096);
    for (let i = 0; i < 4096; i++) {
      const w = faker.word.words({ count: { min: 6, max: 16 } });
      const sentence = w.charAt(0).toUpperCase() + w.slice(1) + '.';
      this.sentences[i] = sentence;
      this.sentenceTokens[i] = legacyReferenceTokens(sentence);
    }
    this.questions = new Array<string>(512);
    for (let i = 0; i < this.questions.length; i++) {
      const w = faker.word.words({ count: { min: 5, max: 10 } });
      this.questions[i] = `can you tell me about ${w}?`;
    }
  }

  #word(w: string): number {
    let n = this.#wordTokens.get(w);
    if (n === undefined) this.#wordTokens.set(w, (n = legacyReferenceTokens(w)));
    return n;
  }

  text(tokens: number, kind: TextKind, keys: readonly number[], lead = ''): string {
    if (tokens <= 0) return lead;
    const rand = prng(mixSeed(this.seed, kind, ...keys));
    const parts: string[] = lead ? [lead] : [];
    let count = lead ? legacyReferenceTokens(lead) : 0;
    for (;;) {
      const i = Math.floor(rand() * 4096);
      const n = this.sentenceTokens[i] as number;
      const sentence = this.sentences[i] as string;
      if (count + n <= tokens) {
        parts.push(sentence);
        count += n;
        if (count === tokens) break;
        continue;
      }
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

  question(userId: number, round: number): string {
    const rand = prng(mixSeed(this.seed, TextKind.question, userId, round));
    return `Here's question #${round}: ${this.questions[Math.floor(rand() * this.questions.length)]}`;
  }
}

// ---- what is compared ---------------------------------------------------------------------------------------

/** 20 seeds: the CLI takes 0 .. 2^31 - 1. */
const SEEDS = [0, 1, 2, 3, 7, 42, 99, 123, 1000, 4096, 31337, 65535, 65536, 99999, 123456, 1_000_000, 2 ** 20 + 1, 2 ** 30, 2 ** 31 - 2, 2 ** 31 - 1];

const LEADS = ['', "Here's some system prompt: ", 'For user 12, here is some other context: ', "WARMUP: Hi, I'm warmup user 7. Here is some text: "];
/** A lead whose parts are not in the table: counted by the tokenizer, loaded for it. */
const ODD_LEAD = 'Ünïcode, 3.14159 digits,  two spaces\tand a tab: ';
const SPREAD: Array<[number, TextKind, number[]]> = [];
for (const tokens of [0, 1, 2, 5, 17, 100, 999, 2000, 20_000]) {
  for (const kind of Object.values(TextKind)) {
    for (const keys of [[], [3], [3, 2000], [17, 4]]) SPREAD.push([tokens, kind, keys]);
  }
}

function outputs(f: TextFactory | LegacyTextFactory, leads: readonly string[]): string[] {
  const out: string[] = [];
  for (const [tokens, kind, keys] of SPREAD) for (const lead of leads) out.push(f.text(tokens, kind, keys, lead));
  for (let u = 0; u < 20; u++) for (const r of [1, 2, 9]) out.push(f.question(u, r));
  return out;
}

/**
 * Digests of texts from the implementation before the table, taken by running it (its dist/ build):
 * a 200,000-token context (it draws ~13,000 sentences, nearly all of the pool), the system text and warmup text with
 * their leads, an answer and a question, joined by newlines; then the joined length.
 */
const GOLDEN: Record<number, string> = {
  0: '1d182465029c207174b59d11843ccfd2 802749',
  1: 'e9be656eab8503a7f7368dc4433b44de 803807',
  42: '7b99e5dfe54b300a5a076503cce0e302 799492',
  [2 ** 31 - 1]: '6cc44ccbef51d9d8c6de7c67293a2992 799990',
};

function golden(f: TextFactory): string {
  const text = [
    f.text(200_000, TextKind.context, [7, 200_000], 'For user 7, here is some other context: '),
    f.text(1000, TextKind.system, [1000], "Here's some system prompt: "),
    f.text(100, TextKind.answer, [3, 2]),
    f.text(200, TextKind.warmup, [4], "WARMUP: Hi, I'm warmup user 4. Here is some text: "),
    f.question(5, 3),
  ].join('\n');
  return `${createHash('sha256').update(text).digest('hex').slice(0, 32)} ${text.length}`;
}

// ---- the tests ------------------------------------------------------------------------------------------------

describe('text pool without faker and the tokenizer', () => {
  // First in this file: later tests count odd text, which loads the tokenizer.
  it('builds factories and a run’s texts without loading the tokenizer', () => {
    const f = new TextFactory(5);
    f.text(1000, TextKind.system, [1000], "Here's some system prompt: ");
    for (let u = 0; u < 50; u++) f.text(2000, TextKind.context, [u, 2000], `For user ${u}, here is some other context: `);
    for (let i = 0; i < 20; i++) f.text(200, TextKind.warmup, [i], `WARMUP: Hi, I'm warmup user ${i}. Here is some text: `);
    for (let r = 1; r <= 5; r++) f.text(100, TextKind.answer, [3, r]);
    expect(referenceTokenizerLoaded()).toBe(false);
  });

  it('gives the digests taken from the implementation before the table', () => {
    for (const [seed, digest] of Object.entries(GOLDEN)) expect(golden(new TextFactory(Number(seed))), `seed ${seed}`).toBe(digest);
  });

  it('draws the words faker.word.words() draws, for any seed faker takes', () => {
    for (const seed of [...SEEDS, -1, 0.5, 2 ** 32 + 5, 2 ** 53 - 1, [1, 2, 3], [2 ** 40, -7]]) {
      faker.seed(seed);
      const ours = new FakerTwister(seed);
      for (let i = 0; i < 1000; i++) expect(ours.next()).toBe(faker.number.float());
      faker.seed(seed);
      const theirs = Array.from({ length: 300 }, () => faker.word.words({ count: { min: 1, max: 9 } }));
      const runs = sampleWordRuns(new FakerTwister(seed), 300, 1, 9);
      const mine = Array.from({ length: 300 }, (_, i) => Array.from(runs.words.subarray(runs.starts[i], runs.starts[i + 1]), wordText).join(' '));
      expect(mine, `seed ${JSON.stringify(seed)}`).toEqual(theirs);
    }
  });

  it('the vocabulary allows counting by parts: no merge joins across a word start or takes a digit', () => {
    const digit = /^[0-9]$/;
    const bad: string[] = [];
    for (const key of mistralTokenizer.merges.keys()) {
      const i = key.indexOf(' ');
      const a = key.slice(0, i);
      const b = key.slice(i + 1);
      if ((!a.endsWith('▁') && b.startsWith('▁')) || digit.test(a) || digit.test(b)) bad.push(key);
    }
    expect(bad).toEqual([]);
    expect(mistralTokenizer.vocabById.filter((t) => t.includes(' '))).toEqual([]);
    for (const c of ['▁', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) expect(mistralTokenizer.vocabByString.has(c)).toBe(true);
  });

  it('counts any text as the tokenizer does', () => {
    const rand = prng(12345);
    const pieces = ['the', 'The', 'quick', 'Ünïcode', 'naïve', '镇', '🦙', 'e-mail', "I'm", 'well-to-do', 'CD', '.', ',', ':', '?', '#', '!', '0', '7', '42', '3.14', '2026', '\n', '\t', ' ', '  ', '   ', 'x1y2', '(a)', '"quoted"'];
    const samples: string[] = ['', ' ', '  ', 'a', '1', ' 1', '1 ', ODD_LEAD, ...LEADS];
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const n = 1 + Math.floor(rand() * 12);
      for (let k = 0; k < n; k++) s += (rand() < 0.6 ? ' ' : '') + (pieces[Math.floor(rand() * pieces.length)] as string);
      samples.push(s);
    }
    for (const s of samples) {
      expect(countTokens(s), JSON.stringify(s)).toBe(mistralCount(s));
      expect(referenceTokens(s), JSON.stringify(s)).toBe(mistralCount(' ' + s));
    }
    // Parts outside the table needed the tokenizer, loaded for them.
    expect(referenceTokenizerLoaded()).toBe(true);
  });

  it('the generated word table is what scripts/gen-word-table.mjs writes now', () => {
    const r = spawnSync(process.execPath, ['scripts/gen-word-table.mjs', '--check'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('same pool and same texts as with faker and the tokenizer', () => {
  // Each seed is one test: the old implementation takes about a CPU-second per factory.
  it.each(SEEDS)('seed %i', (seed) => {
    const legacy = new LegacyTextFactory(seed);
    const pool = new TextPool(seed);
    // Every sentence, and its count by the table against the tokenizer's count of the sentence as a whole (counts
    // first for half the sentences: a sentence is made on first use, by either).
    const index = Array.from({ length: TextPool.SIZE }, (_, i) => i);
    const tokens = index.map((i) => (i % 2 === 0 ? pool.sentenceTokens(i) : -1));
    expect(index.map((i) => pool.sentence(i))).toEqual(legacy.sentences);
    expect(index.map((i) => (i % 2 === 0 ? (tokens[i] as number) : pool.sentenceTokens(i)))).toEqual(Array.from(legacy.sentenceTokens));
    expect(pool.questions).toEqual(legacy.questions);
    // The walks, including the last sentence cut word by word, and the leads' counts; a spread on every fifth seed.
    if (SEEDS.indexOf(seed) % 5 === 0) {
      const leads = [...LEADS, ODD_LEAD];
      expect(outputs(new TextFactory(seed), leads)).toEqual(outputs(legacy, leads));
    }
  });
});
