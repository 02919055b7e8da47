// The note that says a run's token counts are not all the server's own: one wording for a single run and for a
// run merged from workers or clients, so a merged result's note follows its merged token source rather than
// repeating what one part saw ("no response carried usage" from one worker is wrong once another had usage).
import type { RunResult } from '../result/schema.js';

type TokenSource = RunResult['tokens']['source'];

const NONE = 'no response carried usage: completion tokens are counted content chunks and prompt tokens are pd-bench estimates';
const SOME = 'some responses carried no usage: their completion tokens are counted content chunks and their prompt tokens are pd-bench estimates';

/** The note for a token source; none when every response carried usage (or none was counted). */
export function tokenSourceNote(source: TokenSource): string | undefined {
  return source === 'fallback' ? NONE : source === 'mixed' ? SOME : undefined;
}

/** Whether a note is one of tokenSourceNote's. */
export function isTokenSourceNote(note: string): boolean {
  return note === NONE || note === SOME;
}
