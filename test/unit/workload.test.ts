// The workload: seeded text, conversations and request bodies (src/workload). Prompt lengths are checked with
// real tokenizers (Mistral-7B's and Llama-2's SentencePiece vocabularies), not with pd-bench's own estimate.
import llamaTokenizer from 'llama-tokenizer-js';
import mistralTokenizer from 'mistral-tokenizer-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderCompletionPrompt, requestBody, type BodyOptions } from '../../src/client/openai-request.js';
import { Conversation, sharedSystemText, userContextText, type ChatMessage } from '../../src/workload/conversation.js';
import { referenceTokens, TextFactory, TextKind } from '../../src/workload/text.js';
import { DEFAULT_CHARS_PER_TOKEN, estimateTokens } from '../../src/workload/tokens.js';

const TOKENIZERS: Array<[string, (s: string) => number]> = [
  ['mistral', (s) => mistralTokenizer.encode(s, false).length],
  ['llama', (s) => llamaTokenizer.encode(s, false).length],
];

const shape = { sharedSystemPrompt: 300, userHistoryPrompt: 400, answerLen: 50 };
const chatBody: BodyOptions = { endpoint: 'chat', model: 'm', maxTokens: 50, continuousUsage: false, ignoreEos: false };

let t0: TextFactory;
let t0b: TextFactory;
let t1: TextFactory;
beforeAll(() => {
  t0 = new TextFactory(0);
  t0b = new TextFactory(0); // a second factory with the same seed: nothing may depend on object identity
  t1 = new TextFactory(1);
});

function firstTurn(text: TextFactory, userId: number, s = shape): string {
  return new Conversation(text, userId, s).ask(1).content;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

describe('determinism', () => {
  it('the same seed gives byte-identical prompts for the same user and round', () => {
    const run = (text: TextFactory): string[] => {
      const c = new Conversation(text, 17, shape);
      const bodies: string[] = [];
      for (let r = 1; r <= 4; r++) {
        c.ask(r);
        bodies.push(requestBody(c.messages, chatBody));
        c.answer(`answer ${r}`);
      }
      return bodies;
    };
    const a = run(t0);
    const b = run(t0b);
    expect(b).toEqual(a);
    expect(Buffer.from(b.join('\u0000')).equals(Buffer.from(a.join('\u0000')))).toBe(true);
    expect(t0b.text(2000, TextKind.context, [3, 2000])).toBe(t0.text(2000, TextKind.context, [3, 2000]));
    expect(t0b.question(9, 3)).toBe(t0.question(9, 3));
  });

  it('a different seed gives different text', () => {
    expect(firstTurn(t1, 17)).not.toBe(firstTurn(t0, 17));
    expect(sharedSystemText(t1, 300)).not.toBe(sharedSystemText(t0, 300));
    expect(t1.question(17, 2)).not.toBe(t0.question(17, 2));
  });

  it('keeps the streams of different purposes, keys and rounds apart', () => {
    const ctx = t0.text(200, TextKind.context, [5, 200]);
    expect(t0.text(200, TextKind.answer, [5, 200])).not.toBe(ctx);
    expect(t0.text(200, TextKind.context, [6, 200])).not.toBe(ctx);
    expect(t0.question(5, 1)).not.toBe(t0.question(5, 2));
    expect(t0.question(5, 1)).not.toBe(t0.question(6, 1));
  });

  it('numbers the question like multi-round-qa.py ("Here\'s question #N: ...")', () => {
    for (const r of [1, 2, 10]) expect(t0.question(3, r)).toMatch(new RegExp(`^Here's question #${r}: can you tell me about .+\\?$`));
  });
});

describe('shared system prompt and user context', () => {
  const users = Array.from({ length: 30 }, (_, i) => i + 1);

  it('the shared system text is byte-identical for every user and leads every first turn', () => {
    const sys = sharedSystemText(t0, shape.sharedSystemPrompt);
    expect(sys.length).toBeGreaterThan(500);
    expect(sharedSystemText(t0b, shape.sharedSystemPrompt)).toBe(sys);
    for (const u of users) expect(firstTurn(t0, u).startsWith(sys + '\n\n')).toBe(true);
  });

  it('no system text at --shared-system-prompt 0 (run_pd.sh), and no system role ever', () => {
    const s0 = { ...shape, sharedSystemPrompt: 0 };
    expect(sharedSystemText(t0, 0)).toBe('');
    const c = new Conversation(t0, 4, s0);
    const first = c.ask(1).content;
    expect(first.startsWith(userContextText(t0, 4, s0.userHistoryPrompt) + '\n\n')).toBe(true);
    expect(c.messages.every((m) => m.role === 'user' || m.role === 'assistant')).toBe(true);
  });

  it('every user gets its own context; users share no prefix beyond the system text', () => {
    const sys = sharedSystemText(t0, shape.sharedSystemPrompt);
    const contexts = users.map((u) => userContextText(t0, u, shape.userHistoryPrompt));
    expect(new Set(contexts).size).toBe(users.length);
    const turns = users.map((u) => firstTurn(t0, u));
    for (let i = 0; i < turns.length; i++) {
      for (let j = i + 1; j < turns.length; j++) {
        // "For user 1" / "For user 12" may share a digit: a handful of characters, far below one 16-token
        // prefix-cache block.
        expect(commonPrefix(turns[i] as string, turns[j] as string)).toBeLessThan(sys.length + 2 + 'For user '.length + 8);
        expect(turns[j]).not.toContain(contexts[i]);
      }
    }
  });

  it('the user context starts with the user id', () => {
    expect(userContextText(t0, 1234, 100).startsWith('For user 1234, ')).toBe(true);
  });
});

describe('conversation history', () => {
  it('later turns append a question; the history holds the given answers verbatim', () => {
    const c = new Conversation(t0, 8, shape);
    const q1 = c.ask(1);
    expect(c.messages).toEqual([q1]);
    expect(q1.content.endsWith(t0.question(8, 1))).toBe(true);
    c.answer('The first answer, with "quotes", commas\nand a newline.');
    const q2 = c.ask(2);
    expect(q2).toEqual({ role: 'user', content: t0.question(8, 2) }); // no system text or context again
    c.answer('');
    c.ask(3);
    expect(c.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(c.messages[1]).toEqual({ role: 'assistant', content: 'The first answer, with "quotes", commas\nand a newline.' });
    expect(c.messages[3]).toEqual({ role: 'assistant', content: '' });
    expect(c.messages[0]).toBe(q1); // earlier messages are kept, byte for byte
    const body = JSON.parse(requestBody(c.messages, chatBody)) as { messages: ChatMessage[] };
    expect(body.messages).toEqual(c.messages);
  });

  it('the prompt grows by each answer and question', () => {
    const c = new Conversation(t0, 8, shape);
    let prev = 0;
    for (let r = 1; r <= 5; r++) {
      c.ask(r);
      const len = requestBody(c.messages, chatBody).length;
      expect(len).toBeGreaterThan(prev);
      prev = len;
      c.answer(`answer number ${r} `.repeat(20));
    }
  });

  it('pre-ages a mid-session user with seeded rounds of answer-len tokens', () => {
    const c = new Conversation(t0, 21, shape);
    c.preage(3);
    expect(c.messages).toHaveLength(6);
    expect(c.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(c.messages[0]?.content).toBe(firstTurn(t0, 21));
    expect(c.messages[2]?.content).toBe(t0.question(21, 2));
    for (const i of [1, 3, 5]) {
      const answer = c.messages[i]?.content as string;
      expect(referenceTokens(answer)).toBeGreaterThanOrEqual(shape.answerLen - 2);
      expect(referenceTokens(answer)).toBeLessThanOrEqual(shape.answerLen);
    }
    expect(c.messages[1]?.content).not.toBe(c.messages[3]?.content);
    const next = c.ask(4);
    expect(next.content).toBe(t0.question(21, 4));
    // The same user pre-aged twice gets the same history.
    const again = new Conversation(t0b, 21, shape);
    again.preage(3);
    again.ask(4);
    expect(again.messages).toEqual(c.messages);
  });
});

describe('request body', () => {
  it('is streamed, greedy, with usage and max_tokens = answer-len, as multi-round-qa.py sends it', () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'hello' }];
    const body = JSON.parse(requestBody(messages, { ...chatBody, model: 'mistralai/Mistral-7B-Instruct-v0.2', maxTokens: 50 })) as Record<string, unknown>;
    expect(body).toEqual({
      model: 'mistralai/Mistral-7B-Instruct-v0.2',
      messages,
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0,
      max_tokens: 50,
    });
  });

  it('adds continuous_usage_stats and ignore_eos only when asked', () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'x' }];
    const body = JSON.parse(requestBody(messages, { ...chatBody, continuousUsage: true, ignoreEos: true })) as Record<string, unknown>;
    expect(body.stream_options).toEqual({ include_usage: true, continuous_usage_stats: true });
    expect(body.ignore_eos).toBe(true);
  });

  it('renders the history as text for /completions', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'a1' },
      { role: 'user', content: 'q2' },
    ];
    expect(renderCompletionPrompt(messages)).toBe('User: q1\n\nAssistant: a1\n\nUser: q2\n\nAssistant:');
    const body = JSON.parse(requestBody(messages, { ...chatBody, endpoint: 'completions' })) as Record<string, unknown>;
    expect(body.prompt).toBe(renderCompletionPrompt(messages));
    expect(body.messages).toBeUndefined();
  });
});

describe('prompt lengths measured with real tokenizers', () => {
  // 40 users per seed; 16 at 2000 tokens, where the spread is small and tokenizing costs more.
  const usersFor = (target: number): number[] => Array.from({ length: target >= 2000 ? 16 : 40 }, (_, i) => i + 1);
  /** (tokens - target) / target for the user context of every user, both seeds. */
  const memo = new Map<string, Array<{ user: number; seed: number; n: number; err: number }>>();
  function errors(count: (s: string) => number, target: number): Array<{ user: number; seed: number; n: number; err: number }> {
    const id = `${TOKENIZERS.find(([, c]) => c === count)?.[0]}:${target}`;
    const cached = memo.get(id);
    if (cached) return [...cached];
    const out: Array<{ user: number; seed: number; n: number; err: number }> = [];
    for (const text of [t0, t1]) {
      for (const u of usersFor(target)) {
        const n = count(userContextText(text, u, target));
        out.push({ user: u, seed: text.seed, n, err: (n - target) / target });
      }
    }
    memo.set(id, out);
    return [...out];
  }
  const expectAllWithin10Pct = (count: (s: string) => number, target: number): void => {
    const worst = errors(count, target).sort((a, b) => Math.abs(b.err) - Math.abs(a.err))[0];
    expect(Math.abs(worst?.err ?? 1), `worst: user ${worst?.user} seed ${worst?.seed}: ${worst?.n} tokens for a target of ${target}`).toBeLessThanOrEqual(0.1);
  };

  it.each([
    { tok: 'mistral', target: 500 },
    { tok: 'mistral', target: 2000 },
    { tok: 'llama', target: 2000 },
  ])('$tok: every user context of $target tokens is within ±10%', ({ tok, target }) => {
    expectAllWithin10Pct(TOKENIZERS.find(([n]) => n === tok)?.[1] as (s: string) => number, target);
  });

  it.each(TOKENIZERS.flatMap(([name, count]) => [100, 500, 2000].map((target) => ({ name, target, count }))))(
    '$name: user contexts of $target tokens average within ±10%',
    ({ count, target }) => {
      const e = errors(count, target);
      const mean = e.reduce((a, x) => a + x.err, 0) / e.length;
      expect(Math.abs(mean)).toBeLessThanOrEqual(0.1);
    },
  );

  // Text is sized by per-sentence counts of Mistral-7B's tokenizer, so every prompt (not just the average)
  // lands within ±10% even at 100 tokens, and with Llama-2's vocabulary too.
  it.each([
    { tok: 'mistral', target: 100 },
    { tok: 'llama', target: 100 },
    { tok: 'llama', target: 500 },
  ])('$tok: every user context of $target tokens is within ±10%', ({ tok, target }) => {
    expectAllWithin10Pct(TOKENIZERS.find(([n]) => n === tok)?.[1] as (s: string) => number, target);
  });

  it.each(TOKENIZERS.flatMap(([name, count]) => [100, 500, 2000].map((target) => ({ name, target, count }))))(
    '$name: shared system text of $target tokens is within ±10%',
    ({ count, target }) => {
      for (const text of [t0, t1]) {
        const n = count(sharedSystemText(text, target));
        expect(Math.abs(n - target), `seed ${text.seed}: ${n} tokens for a target of ${target}`).toBeLessThanOrEqual(target * 0.1);
      }
    },
  );

  it.each(TOKENIZERS.map(([name, count]) => ({ name, count })))('$name: a whole first turn is system + context + question within ±10%', ({ count }) => {
    for (const s of [
      { sharedSystemPrompt: 0, userHistoryPrompt: 500, answerLen: 50 }, // run_pd.sh
      { sharedSystemPrompt: 1000, userHistoryPrompt: 2000, answerLen: 100 },
      { sharedSystemPrompt: 100, userHistoryPrompt: 100, answerLen: 100 },
    ]) {
      for (const u of [1, 77]) {
        const c = new Conversation(t0, u, s);
        const q = count(t0.question(u, 1));
        const n = count(c.ask(1).content);
        const target = s.sharedSystemPrompt + s.userHistoryPrompt;
        expect(Math.abs(n - q - target), `${JSON.stringify(s)} user ${u}: ${n} tokens (question ${q})`).toBeLessThanOrEqual(target * 0.1);
      }
    }
  });

  it('mistral: a run.sh-sized 20000-token user context is within ±10%', () => {
    const n = mistralTokenizer.encode(userContextText(t0, 5, 20_000), false).length;
    expect(Math.abs(n - 20_000), `${n} tokens`).toBeLessThanOrEqual(2000);
  });

  it.each(TOKENIZERS.map(([name, count]) => ({ name, count })))('$name: the documented 4 chars/token estimate holds (±10%) on the generated text', ({ count }) => {
    const sample = [1, 2, 3, 4].map((u) => userContextText(t0, u, 2000)).join(' ');
    const ratio = sample.length / count(sample);
    expect(ratio).toBeGreaterThan(DEFAULT_CHARS_PER_TOKEN * 0.9);
    expect(ratio).toBeLessThan(DEFAULT_CHARS_PER_TOKEN * 1.1);
  });

  it('the estimate itself is characters / 4, rounded', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcdefgh')).toBe(2);
    expect(estimateTokens('abcdefghij')).toBe(3);
    expect(estimateTokens('abcdefghij', 5)).toBe(2);
    // The sizing itself counts with Mistral's vocabulary: a context lands on its target or a token or two under.
    expect(referenceTokens(userContextText(t0, 1, 2000))).toBeGreaterThanOrEqual(1995);
    expect(referenceTokens(userContextText(t0, 1, 2000))).toBeLessThanOrEqual(2002);
  });
});
