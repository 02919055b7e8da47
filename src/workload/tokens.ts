// The whole-prompt estimate behind `prompt_tokens_estimate`: tokens ≈ characters / charsPerToken (default 4).
// Measured on pd-bench's generated English text: 3.97 chars/token with the Mistral-7B SPM vocabulary and
// 3.80 with Llama-2's (test/unit/workload.test.ts). Prompt text itself is sized by reference token counts
// (src/workload/text.ts); real counts always come from the server's `usage`.

export const DEFAULT_CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string, charsPerToken = DEFAULT_CHARS_PER_TOKEN): number {
  return Math.round(text.length / charsPerToken);
}
