#!/usr/bin/env node
// Writes src/workload/word-table.generated.ts: faker's English word lists and the Mistral-7B token count of every
// form a pool sentence uses them in, so TextFactory (src/workload/text.ts) neither loads faker nor the tokenizer
// (together ~1.3 CPU-s per process before this table existed; see bench/STARTUP.md).
//
//   node scripts/gen-word-table.mjs           rewrite the file
//   node scripts/gen-word-table.mjs --check   exit 1 if the file is not what this script would write
//                                             (test/unit/text-pool.test.ts runs this)
//
// Counting a text as the sum of its parts is exact only because Mistral's merges never cross a word start or a
// digit (src/workload/token-count.ts says why); this script refuses to write a table if the vocabulary breaks that.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { faker } from '@faker-js/faker/locale/en';
import mistralTokenizer from 'mistral-tokenizer-js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'src/workload/word-table.generated.ts');
const require = createRequire(import.meta.url);
const version = (pkg) => JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')).version;

// The order faker.word.sample() shuffles its seven word functions in (faker 10: adjective, adverb, conjunction,
// interjection, noun, preposition, verb). src/workload/faker-words.ts draws a list index from the same shuffle.
const LISTS = ['adjective', 'adverb', 'conjunction', 'interjection', 'noun', 'preposition', 'verb'];

// Atoms of pd-bench's own prompt leads (src/workload/conversation.ts, src/run/run-loop.ts) beyond the word forms,
// so that counting a lead does not load the tokenizer either. A lead that is not covered is still counted
// exactly, by the tokenizer (loaded on first use).
const LEADS = ["Here's some system prompt: ", 'For user 0, here is some other context: ', "WARMUP: Hi, I'm warmup user 0. Here is some text: "];
const EXTRA_ATOMS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ' ', '.', ',', ':', '?', '#'];

const count = (s) => mistralTokenizer.encode(s, false, false).length;
const capitalise = (w) => w.charAt(0).toUpperCase() + w.slice(1);

/** The conditions under which a text's token count is the sum of its atoms' counts (token-count.ts). */
function checkVocabulary() {
  const problems = [];
  const digit = /^[0-9]$/;
  for (let d = 0; d <= 9; d++) if (!mistralTokenizer.vocabByString.has(String(d))) problems.push(`digit ${d} is not a token`);
  if (!mistralTokenizer.vocabByString.has('▁')) problems.push('"▁" is not a token');
  for (const t of mistralTokenizer.vocabById) if (t.includes(' ')) problems.push(`token ${JSON.stringify(t)} contains a space`);
  for (const key of mistralTokenizer.merges.keys()) {
    const i = key.indexOf(' ');
    const a = key.slice(0, i);
    const b = key.slice(i + 1);
    if (!a.endsWith('▁') && b.startsWith('▁')) problems.push(`merge ${JSON.stringify(key)} joins across a word start`);
    if (digit.test(a) || digit.test(b)) problems.push(`merge ${JSON.stringify(key)} joins a digit`);
  }
  if (problems.length > 0) throw new Error(`the vocabulary does not allow counting by parts:\n  ${problems.slice(0, 20).join('\n  ')}`);
}

/** Splits like token-count.ts's atoms(): before a space that follows a non-space, and around every digit. */
function atoms(s) {
  const out = [];
  let start = 0;
  const isDigit = (c) => c >= '0' && c <= '9';
  for (let i = 1; i < s.length; i++) {
    if ((s[i] === ' ' && s[i - 1] !== ' ') || isDigit(s[i]) || isDigit(s[i - 1])) {
      out.push(s.slice(start, i));
      start = i;
    }
  }
  if (s.length > 0) out.push(s.slice(start));
  return out;
}

function render() {
  checkVocabulary();
  const lists = [];
  const counts = [];
  for (const name of LISTS) {
    const words = faker.definitions.word[name];
    if (words.length > 4096) throw new Error(`faker's ${name} list has ${words.length} words; faker-words.ts packs an index in 12 bits`);
    let digits = '';
    for (const w of words) {
      if (w.length === 0 || /\s/.test(w)) throw new Error(`faker word ${JSON.stringify(w)} (${name}) is empty or has white space`);
      for (const form of [' ' + w, ' ' + capitalise(w), ' ' + w + '.', ' ' + capitalise(w) + '.']) {
        const n = count(form);
        if (n > 35) throw new Error(`${JSON.stringify(form)} has ${n} tokens, more than one base-36 digit holds`);
        digits += n.toString(36);
      }
    }
    lists.push(words.join(' '));
    counts.push(digits);
  }
  // Every atom of the leads, word forms too: counting a lead then needs no table of all word forms.
  const extra = new Map();
  for (const a of [...LEADS.flatMap((l) => atoms(' ' + l)), ...EXTRA_ATOMS]) extra.set(a, count(a));
  const lit = (s) => JSON.stringify(s);
  return [
    '// Generated by scripts/gen-word-table.mjs; do not edit (`node scripts/gen-word-table.mjs` rewrites it).',
    `// From @faker-js/faker ${version('@faker-js/faker')} (locale en, definitions.word) and mistral-tokenizer-js ${version('mistral-tokenizer-js')}.`,
    '// The word lists are a copy, so the pool text of a seed stays the same whatever faker version is installed.',
    '',
    `/** faker's English word lists (${LISTS.join(', ')}: the order faker.word.sample() shuffles them in), words separated by spaces. */`,
    'export const WORD_LISTS: readonly string[] = [',
    ...lists.map((l) => `  ${lit(l)},`),
    '];',
    '',
    "/** Per list, 4 base-36 digits per word: Mistral-7B token counts of ' w', ' W', ' w.' and ' W.' (W: first letter upper-cased). */",
    'export const WORD_TOKENS: readonly string[] = [',
    ...counts.map((c) => `  ${lit(c)},`),
    '];',
    '',
    "/** Token counts of the atoms of pd-bench's prompt leads, of digits and of punctuation. */",
    'export const ATOM_TOKENS: ReadonlyArray<readonly [string, number]> = [',
    ...[...extra].map(([a, n]) => `  [${lit(a)}, ${n}],`),
    '];',
    '',
  ].join('\n');
}

const text = render();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // A missing file is simply not current.
  }
  if (current !== text) {
    process.stderr.write(
      `${target} is not what this script writes now (faker's word lists, the tokenizer or this script changed).\n` +
        'Rewriting it (node scripts/gen-word-table.mjs) changes the text of every seed if the word lists changed.\n',
    );
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target}\n`);
}
