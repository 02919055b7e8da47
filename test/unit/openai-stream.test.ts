// Interpreting OpenAI stream events: the router's bare error blob inside a partial data line, and per-chunk
// usage where a text-less chunk's tokens carry over to the next chunk with text.
import { describe, expect, it } from 'vitest';
import { OpenAIStreamState } from '../../src/client/openai-stream.js';

const chunk = (content: string, usage?: number): string =>
  JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }], ...(usage !== undefined ? { usage: { prompt_tokens: 5, completion_tokens: usage, total_tokens: 5 + usage } } : {}) });

describe('OpenAIStreamState', () => {
  it("classifies production-stack's error blob glued to a partial data line as a server error, not a parse error", () => {
    const s = new OpenAIStreamState(0n);
    s.onEvent(chunk('hi'), 1_000_000n);
    s.onEvent('{"choices":[{"delta":{"content":"par{"error": {"message": "decoder failed: CUDA out of memory", "code": 500}}', 2_000_000n);
    expect(s.error?.errorClass).toBe('stream_error');
    expect(s.error?.message).toContain('decoder failed: CUDA out of memory');
  });

  it('keeps parse_error for JSON that is simply broken', () => {
    const s = new OpenAIStreamState(0n);
    s.onEvent('{"choices": [', 1_000_000n);
    expect(s.error?.errorClass).toBe('parse_error');
  });

  it('per-chunk usage: tokens of a chunk without text are attributed to the next chunk with text', () => {
    const s = new OpenAIStreamState(0n);
    s.onEvent(chunk('', 0), 1_000_000n);
    s.onEvent(chunk('a', 1), 2_000_000n);
    s.onEvent(chunk('', 2), 3_000_000n); // vLLM holding back half of a multi-byte character
    s.onEvent(chunk('€', 3), 4_000_000n);
    expect(s.completionTokens).toBe(3);
    expect(s.perChunkUsage).toBe(true);
    expect(s.chunkTokens).toEqual([1, 2]);
  });
});
