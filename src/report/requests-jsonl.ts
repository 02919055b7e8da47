// requests.jsonl: one raw RequestRecord per line (times in ms since the run's origin, rounded to the µs; chunk
// arrival times included; the answer text left out), and its reader. Saved runs are re-derived from it with the
// same formulas (metrics/derive.ts) by compare and report. Pure.
import type { ErrorClass, Outcome, Phase, RequestRecord, TokenSource } from '../result/record.js';

const us = (v: number): number => Math.round(v * 1000) / 1000;
const usOpt = (v: number | undefined): number | undefined => (v === undefined ? undefined : us(v));

export function recordLine(r: RequestRecord): string {
  const line: Omit<RequestRecord, 'text'> = {
    id: r.id,
    phase: r.phase,
    userId: r.userId,
    round: r.round,
    intendedMs: us(r.intendedMs),
    readyMs: usOpt(r.readyMs),
    dispatchMs: usOpt(r.dispatchMs),
    sentMs: us(r.sentMs),
    late: r.late,
    headersMs: usOpt(r.headersMs),
    firstTokenMs: usOpt(r.firstTokenMs),
    endMs: us(r.endMs),
    chunkTimesMs: r.chunkTimesMs.map(us),
    chunkTokens: r.chunkTokens,
    perChunkUsage: r.perChunkUsage,
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
    cachedTokens: r.cachedTokens,
    tokenSource: r.tokenSource,
    promptTokensEstimate: r.promptTokensEstimate,
    httpStatus: r.httpStatus,
    finishReason: r.finishReason,
    outcome: r.outcome,
    errorClass: r.errorClass,
    errorMessage: r.errorMessage,
    serverTimings: r.serverTimings,
  };
  return JSON.stringify(line) + '\n';
}

const OUTCOMES: readonly Outcome[] = ['ok', 'failed', 'cancelled'];
const PHASES: readonly Phase[] = ['warmup', 'measure'];

/** Parses requests.jsonl; a line that is not a record throws with its line number (a truncated last line is skipped: an interrupted write). */
export function parseRecordLines(text: string, source: string): RequestRecord[] {
  const out: RequestRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line.trim()) continue;
    let x: Partial<RequestRecord>;
    try {
      x = JSON.parse(line) as Partial<RequestRecord>;
    } catch (err) {
      if (i >= lines.length - 2) break; // the last line of a file cut off mid-write
      throw new Error(`${source} line ${i + 1}: not JSON (${(err as Error).message})`);
    }
    if (
      typeof x.id !== 'number' || typeof x.userId !== 'number' || typeof x.round !== 'number' ||
      typeof x.sentMs !== 'number' || typeof x.endMs !== 'number' || typeof x.intendedMs !== 'number' ||
      !OUTCOMES.includes(x.outcome as Outcome) || !PHASES.includes(x.phase as Phase) ||
      !Array.isArray(x.chunkTimesMs) || !Array.isArray(x.chunkTokens)
    ) {
      throw new Error(`${source} line ${i + 1}: not a pd-bench request record`);
    }
    out.push({
      id: x.id,
      phase: x.phase as Phase,
      userId: x.userId,
      round: x.round,
      intendedMs: x.intendedMs,
      ...(typeof x.readyMs === 'number' ? { readyMs: x.readyMs } : {}),
      ...(typeof x.dispatchMs === 'number' ? { dispatchMs: x.dispatchMs } : {}),
      sentMs: x.sentMs,
      late: x.late === true,
      headersMs: x.headersMs,
      firstTokenMs: x.firstTokenMs,
      endMs: x.endMs,
      chunkTimesMs: x.chunkTimesMs,
      chunkTokens: x.chunkTokens,
      perChunkUsage: x.perChunkUsage === true,
      promptTokens: x.promptTokens,
      completionTokens: x.completionTokens,
      cachedTokens: x.cachedTokens,
      tokenSource: (x.tokenSource ?? 'fallback') as TokenSource,
      promptTokensEstimate: x.promptTokensEstimate ?? 0,
      httpStatus: x.httpStatus,
      finishReason: x.finishReason,
      outcome: x.outcome as Outcome,
      errorClass: x.errorClass as ErrorClass | undefined,
      errorMessage: x.errorMessage,
      serverTimings: x.serverTimings,
      text: '',
    });
  }
  return out;
}
