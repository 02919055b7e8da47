// Declarations for mistral-tokenizer-js, which ships no types: Mistral-7B's SentencePiece vocabulary and
// BPE merges in plain JS (used to size prompt text; see src/workload/text.ts).
declare module 'mistral-tokenizer-js' {
  interface MistralTokenizer {
    encode(prompt: string, addBosToken?: boolean, addPrecedingSpace?: boolean, logPerformance?: boolean): number[];
    decode(tokenIds: number[], addBosToken?: boolean, addPrecedingSpace?: boolean): string;
    /** Token strings by id ('▁' for a space, '<0xNN>' for byte fallbacks). */
    vocabById: string[];
    vocabByString: Map<string, number>;
    /** Merge priority (lower first) by "left right" token strings. */
    merges: Map<string, number>;
  }
  const mistralTokenizer: MistralTokenizer;
  export default mistralTokenizer;
}
