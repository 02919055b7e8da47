// One simulated user's conversation: the first turn carries the shared system text and the user's unique
// context (as multi-round-qa.py does, inside the first user message, so templates without a system role
// work); later turns append a question; the history holds the model's real answers. No IO.
import { TextKind, type TextFactory } from './text.js';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface WorkloadShape {
  sharedSystemPrompt: number;
  userHistoryPrompt: number;
  answerLen: number;
}

/** The shared system text is built once per TextFactory and reused byte for byte for every user. */
const systemTextCache = new WeakMap<TextFactory, Map<number, string>>();

export function sharedSystemText(text: TextFactory, tokens: number): string {
  let byLen = systemTextCache.get(text);
  if (!byLen) systemTextCache.set(text, (byLen = new Map()));
  let s = byLen.get(tokens);
  if (s === undefined) {
    s = tokens > 0 ? text.text(tokens, TextKind.system, [tokens], "Here's some system prompt: ") : '';
    byLen.set(tokens, s);
  }
  return s;
}

export function userContextText(text: TextFactory, userId: number, tokens: number): string {
  // The user id leads the context so no two users share a prefix beyond the system text.
  return text.text(tokens, TextKind.context, [userId, tokens], `For user ${userId}, here is some other context: `);
}

export interface PromptParts {
  system: string;
  context: string;
}

/** The first user message: shared system text, the user's context, then the question. */
export function firstTurnContent(system: string, context: string, question: string): string {
  return (system ? system + '\n\n' : '') + context + '\n\n' + question;
}

export class Conversation {
  readonly userId: number;
  readonly messages: ChatMessage[] = [];
  #text: TextFactory;
  #shape: WorkloadShape;
  #parts: PromptParts | undefined;

  /** `parts` replaces the generated system text and user context (exact token lengths, --tokenizer server). */
  constructor(text: TextFactory, userId: number, shape: WorkloadShape, parts?: PromptParts) {
    this.#text = text;
    this.userId = userId;
    this.#shape = shape;
    this.#parts = parts;
  }

  /** Appends the user message for `round` (1-based question number) and returns it. */
  ask(round: number): ChatMessage {
    const question = this.#text.question(this.userId, round);
    let content = question;
    if (this.messages.length === 0) {
      const sys = this.#parts?.system ?? sharedSystemText(this.#text, this.#shape.sharedSystemPrompt);
      const ctx = this.#parts?.context ?? userContextText(this.#text, this.userId, this.#shape.userHistoryPrompt);
      content = firstTurnContent(sys, ctx, question);
    }
    const msg: ChatMessage = { role: 'user', content };
    this.messages.push(msg);
    return msg;
  }

  /** Records the model's answer (possibly empty after a failure, so roles keep alternating). */
  answer(text: string): void {
    this.messages.push({ role: 'assistant', content: text });
  }

  /**
   * Fills in rounds 1..rounds that a user already mid-session at t=0 would have had, with seeded answers of
   * answer-len tokens, so its next prompt has steady-state length.
   */
  preage(rounds: number): void {
    for (let r = 1; r <= rounds; r++) {
      this.ask(r);
      this.answer(this.#text.text(this.#shape.answerLen, TextKind.answer, [this.userId, r]));
    }
  }
}
