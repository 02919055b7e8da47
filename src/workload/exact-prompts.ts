// Prompt parts of exact token lengths under the target's own tokenizer (`--tokenizer server`): the shared
// system text is exactly --shared-system-prompt tokens and each user's context exactly --user-history-prompt
// tokens. Text is generated as usual (seeded, a little long), cut at the wanted token with /detokenize and
// re-checked with /tokenize, since a cut can merge or split at the boundary. Done before the run starts, so
// it never shows up as schedule lag.
import { userContextText, type ChatMessage } from './conversation.js';
import { TextKind, type TextFactory } from './text.js';

export interface ChatLikeMessage {
  role: string;
  content: string;
}

/** What prompt fitting needs; tests substitute a local implementation. */
export interface PromptTokenizer {
  /** Token ids of `text` alone (no BOS or other special tokens). */
  tokenize(text: string): Promise<number[]>;
  detokenize(ids: readonly number[]): Promise<string>;
  /** Prompt tokens the server will count for these chat messages (template and special tokens included). */
  countChat(messages: readonly ChatLikeMessage[]): Promise<number>;
  /** Prompt tokens the server will count for a /completions prompt (special tokens included). */
  countCompletion(prompt: string): Promise<number>;
}

export interface ExactText {
  text: string;
  target: number;
  /** Tokens of `text` under the server's tokenizer (equals the target unless `exact` is false). */
  tokens: number;
  exact: boolean;
}

/**
 * Text of exactly `n` tokens: `make(k)` must return seeded text of about k tokens by the estimate, the same
 * text for the same k. Gives the closest it found (with `exact: false`) if the tokenizer will not land on n.
 */
export async function exactTokenText(tok: PromptTokenizer, n: number, make: (approxTokens: number) => string): Promise<ExactText> {
  if (n <= 0) return { text: '', target: n, tokens: 0, exact: true };
  let approx = Math.ceil(n * 1.2) + 8;
  let ids = await tok.tokenize(make(approx));
  for (let i = 0; ids.length < n && i < 6; i++) {
    approx = Math.ceil(approx * (n / Math.max(ids.length, 1)) * 1.2) + 8;
    ids = await tok.tokenize(make(approx));
  }
  let best: ExactText = { text: '', target: n, tokens: 0, exact: false };
  let k = Math.min(n, ids.length);
  const tried = new Set<number>();
  for (let i = 0; i < 8 && !tried.has(k); i++) {
    tried.add(k);
    const text = await tok.detokenize(ids.slice(0, k));
    const count = (await tok.tokenize(text)).length;
    if (Math.abs(count - n) < Math.abs(best.tokens - n) || best.text === '') best = { text, target: n, tokens: count, exact: count === n };
    if (count === n) return best;
    k = Math.max(1, Math.min(ids.length, k + (n - count)));
  }
  return best;
}

export interface ExactPromptStats {
  parts: number;
  inexact: number;
  /** Largest |tokens - target| over the parts that missed. */
  worstMiss: number;
}

/** Exact system text and per-user contexts, filled in before the run by `prepare`. */
export class ExactPrompts {
  readonly system: ExactText;
  #contexts = new Map<number, ExactText>();
  #firstTurnTokens = new Map<number, number>();
  #tok: PromptTokenizer;
  #text: TextFactory;
  #historyTokens: number;

  private constructor(tok: PromptTokenizer, text: TextFactory, system: ExactText, historyTokens: number) {
    this.#tok = tok;
    this.#text = text;
    this.system = system;
    this.#historyTokens = historyTokens;
  }

  static async create(tok: PromptTokenizer, text: TextFactory, systemTokens: number, historyTokens: number): Promise<ExactPrompts> {
    // The same lead and seeded stream as the estimate mode, only cut exactly.
    const system = await exactTokenText(tok, systemTokens, (k) => (k > 0 ? text.text(k, TextKind.system, [systemTokens], "Here's some system prompt: ") : ''));
    return new ExactPrompts(tok, text, system, historyTokens);
  }

  /** Fits the contexts of `userIds` (a few requests in flight at a time). */
  async prepare(userIds: readonly number[], firstMessage: (userId: number, context: string) => ChatMessage[], count: (m: ChatMessage[]) => Promise<number>, concurrency = 8): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < userIds.length) {
        const id = userIds[next++] as number;
        if (this.#contexts.has(id)) continue;
        const ctx = await exactTokenText(this.#tok, this.#historyTokens, (k) => userContextText(this.#text, id, k));
        this.#contexts.set(id, ctx);
        this.#firstTurnTokens.set(id, await count(firstMessage(id, ctx.text)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, userIds.length) }, worker));
  }

  context(userId: number): ExactText | undefined {
    return this.#contexts.get(userId);
  }

  /** The served prompt length of the user's first turn, counted by the server before the run. */
  firstTurnTokens(userId: number): number | undefined {
    return this.#firstTurnTokens.get(userId);
  }

  stats(): ExactPromptStats {
    const all = [this.system, ...this.#contexts.values()].filter((p) => p.target > 0);
    const missed = all.filter((p) => !p.exact);
    return { parts: all.length, inexact: missed.length, worstMiss: Math.max(0, ...missed.map((p) => Math.abs(p.tokens - p.target))) };
  }
}
