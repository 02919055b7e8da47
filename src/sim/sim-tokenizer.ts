// The simulator's tokenizer: BPE-like pieces (a leading space plus up to 4 letters, up to 3 digits, or one
// other character), which lands near the 4 characters per token that real Llama/Mistral vocabularies give
// on English text. It yields the token count and a hash per full 16-token block (a chained hash, as
// vLLM's prefix cache keys blocks by their whole prefix).

export const BLOCK_TOKENS = 16;
const PIECE_RE = /\s?[A-Za-z]{1,4}|\s?[0-9]{1,3}|\s+|[^\sA-Za-z0-9]/g;

export interface Tokenized {
  tokens: number;
  /** Chained hash of each full block of BLOCK_TOKENS tokens. */
  blocks: number[];
}

/** FNV-1a over a string, continuing from `h`. */
function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function simTokenize(text: string): Tokenized {
  let tokens = 0;
  const blocks: number[] = [];
  let h = 0x811c9dc5;
  PIECE_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = PIECE_RE.exec(text)) !== null) {
    tokens++;
    h = fnv(h, m[0]);
    h = fnv(h, '\u0001');
    if (tokens % BLOCK_TOKENS === 0) blocks.push(h);
  }
  return { tokens, blocks };
}

/** Text of exactly `n` simulator tokens, deterministic in `seed`, for generated answers. */
const WORDS = ['the', 'model', 'token', 'cache', 'decode', 'prefill', 'story', 'happy', 'ending', 'river', 'light', 'stone', 'quiet', 'north', 'green', 'table'];
export function simTokenText(index: number, seed: number): string {
  // Every entry is one piece: a space plus at most 4 letters.
  const w = WORDS[((index * 2654435761 + seed * 40503) >>> 0) % WORDS.length] as string;
  return ' ' + w.slice(0, 4);
}

// Ids for /tokenize and /detokenize: each distinct piece gets the next id the first time it is seen (one
// vocabulary per process), so detokenize(tokenize(text)) gives the text back byte for byte.
const pieceIds = new Map<string, number>();
const idPieces: string[] = [];

export function simTokenIds(text: string): number[] {
  const ids: number[] = [];
  PIECE_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = PIECE_RE.exec(text)) !== null) {
    let id = pieceIds.get(m[0]);
    if (id === undefined) {
      id = idPieces.length;
      idPieces.push(m[0]);
      pieceIds.set(m[0], id);
    }
    ids.push(id);
  }
  return ids;
}

/** The text of `ids`; undefined if one was never handed out. */
export function simDetokenize(ids: readonly number[]): string | undefined {
  let out = '';
  for (const id of ids) {
    const p = idPieces[id];
    if (p === undefined) return undefined;
    out += p;
  }
  return out;
}
