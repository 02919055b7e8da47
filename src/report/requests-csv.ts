// One requests.csv row per request. The first 8 columns are exactly multi-round-qa.py's (seconds; launch and
// finish as epoch seconds) so existing spreadsheets and plot scripts keep working; pd-bench's own follow. Pure.
import { derive, forEachTokenGap } from '../metrics/derive.js';
import type { RequestRecord } from '../result/record.js';

export const MULTI_ROUND_QA_COLUMNS = [
  'prompt_tokens',
  'generation_tokens',
  'ttft',
  'generation_time',
  'user_id',
  'question_id',
  'launch_time',
  'finish_time',
] as const;

export const REQUEST_COLUMNS = [
  ...MULTI_ROUND_QA_COLUMNS,
  'request_id',
  'phase',
  'outcome',
  'error_class',
  'http_status',
  'error_message',
  'intended_time',
  'schedule_lag_ms',
  'late',
  'ttfb_ms',
  'ttft_ms',
  'ttst_ms',
  'tpot_ms',
  'itl_mean_ms',
  'itl_max_ms',
  'e2el_ms',
  'ttft_from_intended_ms',
  'cached_tokens',
  'token_source',
  'prompt_tokens_estimate',
  'content_chunks',
  'finish_reason',
  'server_prompt_ms',
  'server_predicted_ms',
  // Added after the others so earlier columns keep their positions: schedule_lag_ms = wait_ms + sender_lag_ms.
  'wait_ms',
  'sender_lag_ms',
  'connect_wait_ms',
] as const;

type Cell = string | number | undefined;

const ms = (v: number | undefined): Cell => (v === undefined ? undefined : round(v, 3));
const s = (v: number | undefined): Cell => (v === undefined ? undefined : round(v / 1000, 6));

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function requestRow(r: RequestRecord, wallStartMs: number): Cell[] {
  const d = derive(r);
  let itlSum = 0;
  let itlCount = 0;
  let itlMax: number | undefined;
  forEachTokenGap(r, (gap, count) => {
    itlSum += gap * count;
    itlCount += count;
    if (itlMax === undefined || gap > itlMax) itlMax = gap;
  });
  return [
    r.promptTokens,
    r.completionTokens,
    s(d.ttftMs),
    s(d.generationTimeMs),
    r.userId,
    r.round,
    round((wallStartMs + r.sentMs) / 1000, 6),
    round((wallStartMs + r.endMs) / 1000, 6),
    r.id,
    r.phase,
    r.outcome,
    r.errorClass,
    r.httpStatus,
    r.errorMessage,
    round((wallStartMs + r.intendedMs) / 1000, 6),
    ms(d.scheduleLagMs),
    r.late ? 1 : 0,
    ms(d.ttfbMs),
    ms(d.ttftMs),
    ms(d.ttstMs),
    ms(d.tpotMs),
    itlCount > 0 ? ms(itlSum / itlCount) : undefined,
    ms(itlMax),
    ms(d.e2elMs),
    ms(d.ttftFromIntendedMs),
    r.cachedTokens,
    r.tokenSource,
    r.promptTokensEstimate,
    r.chunkTimesMs.length,
    r.finishReason,
    ms(r.serverTimings?.promptMs),
    ms(r.serverTimings?.predictedMs),
    ms(d.waitMs),
    ms(d.senderLagMs),
    ms(d.connectWaitMs),
  ];
}
