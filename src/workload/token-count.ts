// Mistral-7B token counts (mistral-tokenizer-js, the reference count of src/workload/text.ts) without loading the
// tokenizer, which costs ~0.2 CPU-s to load and ~0.2 ms per sentence to run. Exact, not estimated:
//
// The tokenizer is BPE: it starts from one token per character (a space is '▁') and applies merges of adjacent
// tokens in a fixed priority order. No merge in Mistral's 58,980 joins a token that does not end in '▁' with
// one that starts with '▁' (a word start), and none takes a digit as an operand; scripts/gen-word-table.mjs
// refuses to write the table otherwise, and test/unit/text-pool.test.ts checks both against the vocabulary.
// So a text cut before every space that follows a non-space, and around every digit, is tokenized as its
// parts are on their own (a merge joins two neighbours, and one across a cut would need a merge that does not
// exist, so each part's merges happen as they would alone): its count is the sum of its parts' counts (cut
// anywhere else, it may not be; the test counts random text both ways). The parts pd-bench's texts are made of
// (faker's words in four forms, the prompt leads' words, digits) are counted once, when the table is
// generated; any other part is counted by the real tokenizer, loaded on first need, and remembered.
import { createRequire } from 'node:module';
import { wordLists } from './faker-words.js';
import { ATOM_TOKENS, WORD_TOKENS } from './word-table.generated.js';

/** The four forms of a word a pool sentence uses, in WORD_TOKENS' order. */
export const WordForm = { plain: 0, capital: 1, stop: 2, capitalStop: 3 } as const;
export type WordForm = (typeof WordForm)[keyof typeof WordForm];

let wordTokens: Uint8Array[] | undefined;

/** Token count of word `index` of list `list` in `form` (with the space before it), from the table. */
export function wordFormTokens(list: number, index: number, form: WordForm): number {
  wordTokens ??= WORD_TOKENS.map((digits) => {
    const a = new Uint8Array(digits.length);
    for (let i = 0; i < digits.length; i++) a[i] = parseInt(digits.charAt(i), 36);
    return a;
  });
  return (wordTokens[list] as Uint8Array)[index * 4 + form] as number;
}

export const capitalise = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);

/**
 * Counted parts by their text: at first the leads' atoms, digits and punctuation (small), then, on the first
 * part not among them, every word form (~14k entries) and each part the tokenizer had to count.
 */
let known: Map<string, number> | undefined;
let withWordForms = false;
const MAX_KNOWN = 100_000;

function addWordForms(m: Map<string, number>): void {
  wordLists().forEach((words, list) => {
    words.forEach((w, i) => {
      const cap = capitalise(w);
      m.set(' ' + w, wordFormTokens(list, i, WordForm.plain));
      m.set(' ' + cap, wordFormTokens(list, i, WordForm.capital));
      m.set(' ' + w + '.', wordFormTokens(list, i, WordForm.stop));
      m.set(' ' + cap + '.', wordFormTokens(list, i, WordForm.capitalStop));
    });
  });
}

function atomTokens(atom: string): number {
  known ??= new Map<string, number>(ATOM_TOKENS);
  let n = known.get(atom);
  if (n !== undefined) return n;
  if (!withWordForms) {
    withWordForms = true;
    addWordForms(known);
    n = known.get(atom);
    if (n !== undefined) return n;
  }
  // Not a part pd-bench's texts are made of. Remembered, as such parts come from callers' own leads (few and
  // repeated), up to a bound, so that counting arbitrary text cannot grow the map without end.
  n = tokenizerCount(atom);
  if (known.size < MAX_KNOWN) known.set(atom, n);
  return n;
}

type MistralTokenizer = (typeof import('mistral-tokenizer-js'))['default'];
let tokenizer: MistralTokenizer | undefined;

/** Whether the real tokenizer has been loaded in this process (tests check that pool text never needs it). */
export function referenceTokenizerLoaded(): boolean {
  return tokenizer !== undefined;
}

function tokenizerCount(s: string): number {
  // Counting is synchronous, so the ES module is loaded with require() (Node >= 20.19 loads ES modules so),
  // and only here: most processes never get here.
  tokenizer ??= (createRequire(import.meta.url)('mistral-tokenizer-js') as typeof import('mistral-tokenizer-js')).default;
  return tokenizer.encode(s, false, false).length;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Tokens of `s` exactly as written (no space added, no BOS): the sum over its parts. */
export function countTokens(s: string): number {
  let total = 0;
  let start = 0;
  for (let i = 1; i <= s.length; i++) {
    if (i < s.length) {
      const c = s.charCodeAt(i);
      const p = s.charCodeAt(i - 1);
      if (!((c === 32 && p !== 32) || isDigit(c) || isDigit(p))) continue;
    }
    total += atomTokens(s.slice(start, i));
    start = i;
  }
  return total;
}

/** Tokens of `text` as it appears mid-prompt (after a space), with Mistral-7B's vocabulary and no BOS. */
export function referenceTokens(text: string): number {
  return countTokens(' ' + text);
}
