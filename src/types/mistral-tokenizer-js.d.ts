// Declarations for mistral-tokenizer-js, which ships no types: Mistral-7B's SentencePiece vocabulary and
// BPE merges in plain JS (used to size prompt text; see src/workload/text.ts).
declare module 'mistral-tokenizer-js' {
  interface MistralTokenizer {
    encode(prompt: string, addBosToken?: boolean, addPrecedingSpace?: boolean, logPerformance?: boolean): number[];
    decode(tokenIds: number[], addBosToken?: boolean, addPrecedingSpace?: boolean): string;
  }
  const mistralTokenizer: MistralTokenizer;
  export default mistralTokenizer;
}
