// Frozen history (compare --history frozen): the answers one target gave, recorded once and replayed into every
// target's conversations, so all targets receive byte-identical prompts. Serializes to JSON lines (one turn per
// line) so a saved comparison can be re-run with the same prompts. No IO.
import type { RequestRecord } from '../result/record.js';

/** What a user's history gets after round `round`: the recorded answer, null (the recorded turn failed: the question is dropped), or undefined (not recorded). */
export interface AnswerSource {
  answerFor(userId: number, round: number): string | null | undefined;
}

export interface AnswerLine {
  user: number;
  round: number;
  /** null: the recorded turn failed or was cancelled. */
  answer: string | null;
}

export class AnswerBook implements AnswerSource {
  #answers = new Map<string, AnswerLine>();

  get size(): number {
    return this.#answers.size;
  }

  /** Records a measured turn's outcome (warmup turns are not part of any history). */
  record(r: RequestRecord): void {
    if (r.phase !== 'measure') return;
    this.#answers.set(`${r.userId}:${r.round}`, { user: r.userId, round: r.round, answer: r.outcome === 'ok' ? r.text : null });
  }

  answerFor(userId: number, round: number): string | null | undefined {
    return this.#answers.get(`${userId}:${round}`)?.answer;
  }

  toJsonLines(): string {
    let out = '';
    for (const line of this.#answers.values()) out += JSON.stringify(line) + '\n';
    return out;
  }

  static fromJsonLines(text: string, source = 'answers.jsonl'): AnswerBook {
    const book = new AnswerBook();
    let n = 0;
    for (const line of text.split('\n')) {
      n++;
      if (!line.trim()) continue;
      const x = JSON.parse(line) as Partial<AnswerLine>;
      if (!Number.isInteger(x.user) || !Number.isInteger(x.round) || !(typeof x.answer === 'string' || x.answer === null)) {
        throw new Error(`${source} line ${n}: expected {"user": int, "round": int, "answer": string | null}`);
      }
      book.#answers.set(`${x.user}:${x.round}`, { user: x.user as number, round: x.round as number, answer: x.answer ?? null });
    }
    return book;
  }
}
