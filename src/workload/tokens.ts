// The documented prompt-length estimate: tokens ≈ characters / charsPerToken (default 4).
// Measured on pd-bench's generated English text: 3.97 chars/token with the Mistral-7B SPM vocabulary and
// 3.80 with Llama-2's (test/unit/text.test.ts checks the ±10% target against both tokenizers).
// Real counts always come from the server's `usage`; this estimate only sizes the prompts.

export const DEFAULT_CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string, charsPerToken = DEFAULT_CHARS_PER_TOKEN): number {
  return Math.round(text.length / charsPerToken);
}
