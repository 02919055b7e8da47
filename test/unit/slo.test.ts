// SLOs: the --slo parser (units, presets, overrides, every error as ConfigError on --slo), the per-request
// check order, and attainment / goodput / per-GPU numbers on hand-made samples with exactly known answers.
import { describe, expect, it } from 'vitest';
import type { RequestSample, SloSpec } from '../../src/compare/types.js';
import { ConfigError } from '../../src/errors.js';
import { evaluateSlo, formatSlo, itlStatOf, parseSlo, requestMeetsSlo, SLO_PRESETS } from '../../src/metrics/slo.js';
import { okSample } from '../helpers/records.js';

/** An ok request: TTFT 100 ms, gaps 10/20/30 ms, TPOT 20 ms, E2EL 160 ms, 4 output tokens. */
const req = okSample;

const none: SloSpec = { preset: null, ttftMs: null, itlMs: null, itlStat: 'max', tpotMs: null, e2elMs: null };

describe('parseSlo', () => {
  it('reads keys with us, ms and s units; a bare number is ms', () => {
    expect(parseSlo('ttft=2s,itl=25ms')).toEqual({ ...none, ttftMs: 2000, itlMs: 25 });
    expect(parseSlo('ttft=0.5s, tpot=250us, e2el=40')).toEqual({ ...none, ttftMs: 500, tpotMs: 0.25, e2elMs: 40 });
    expect(parseSlo('TTFT=1.5e3MS').ttftMs).toBe(1500);
    expect(parseSlo('ttft=.5s').ttftMs).toBe(500);
  });

  it('reads the within-request ITL statistic (default max)', () => {
    expect(parseSlo('itl@p99=50ms')).toEqual({ ...none, itlMs: 50, itlStat: 'p99' });
    expect(parseSlo('itl@mean=20').itlStat).toBe('mean');
    expect(parseSlo('itl@max=20').itlStat).toBe('max');
    for (const s of ['p50', 'p90', 'p95'] as const) expect(parseSlo(`itl@${s}=1s`).itlStat).toBe(s);
  });

  it('expands presets, and later keys override them (the result then names no preset)', () => {
    expect(parseSlo('chatbot')).toEqual({ ...none, preset: 'chatbot', ttftMs: 250, tpotMs: 100 });
    expect(parseSlo('code')).toEqual({ ...none, preset: 'code', ttftMs: 125, tpotMs: 200 });
    expect(parseSlo('summarization')).toEqual({ ...none, preset: 'summarization', ttftMs: 15_000, tpotMs: 150 });
    expect(parseSlo('dynamo-short')).toEqual({ ...none, preset: 'dynamo-short', ttftMs: 2000, itlMs: 25, itlStat: 'mean' });
    expect(parseSlo('dynamo-long')).toEqual({ ...none, preset: 'dynamo-long', ttftMs: 20_000, itlMs: 50, itlStat: 'mean' });
    expect(parseSlo('chatbot,itl=30ms')).toEqual({ ...none, ttftMs: 250, tpotMs: 100, itlMs: 30 });
    expect(parseSlo('dynamo-long,ttft=10s')).toEqual({ ...none, ttftMs: 10_000, itlMs: 50, itlStat: 'mean' });
    expect(Object.keys(SLO_PRESETS)).toEqual(['chatbot', 'code', 'summarization', 'dynamo-short', 'dynamo-long']);
    // The presets are not shared objects that a caller could change by accident.
    const p = parseSlo('chatbot');
    p.ttftMs = 1;
    expect(SLO_PRESETS.chatbot?.ttftMs).toBe(250);
  });

  it.each([
    ['', 'empty'],
    ['  ', 'empty'],
    ['ttft', 'key without a value'],
    ['nosuchpreset', 'unknown preset'],
    ['foo=1ms', 'unknown key'],
    ['ttft=0', 'zero'],
    ['ttft=-5ms', 'negative'],
    ['ttft=1e999', 'not finite'],
    ['ttft=Infinity', 'not a number'],
    ['ttft=NaN', 'not a number'],
    ['ttft=abc', 'not a number'],
    ['ttft=5min', 'unknown unit'],
    ['ttft=', 'no value'],
    ['ttft=1s,ttft=2s', 'duplicate key'],
    ['itl=1ms,itl@p99=2ms', 'duplicate key with another statistic'],
    ['ttft@p99=1s', 'statistic on a key that takes none'],
    ['itl@p42=1ms', 'unknown statistic'],
    ['ttft=1s,chatbot', 'preset not first'],
    ['ttft=1s,,itl=2ms', 'empty item'],
    ['chatbot,', 'trailing comma'],
  ])('rejects %j (%s) with ConfigError on --slo', (text) => {
    let err: unknown;
    try {
      parseSlo(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issue = (err as ConfigError).issues[0];
    expect(issue?.field).toBe('--slo');
    expect(typeof issue?.value).toBe('string');
    for (const word of ['ttft', 'itl@max|mean|p50|p90|p95|p99', 'tpot', 'e2el', 'us, ms or s', 'chatbot', 'dynamo-long']) {
      expect(issue?.allowed).toContain(word);
    }
    expect((err as ConfigError).code).toBe('PDB_CONFIG');
  });

  it('lists every problem at once', () => {
    try {
      parseSlo('foo=1,ttft=0,itl=2ms');
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).issues.map((i) => i.value)).toEqual(['foo=1', 'ttft=0']);
    }
  });
});

describe('formatSlo', () => {
  it('prints thresholds in ms in check order', () => {
    expect(formatSlo(parseSlo('itl=25ms,ttft=2s'))).toBe('ttft<=2000ms, itl(max)<=25ms');
    expect(formatSlo(parseSlo('dynamo-short'))).toBe('ttft<=2000ms, itl(mean)<=25ms');
    expect(formatSlo(parseSlo('chatbot,e2el=250us'))).toBe('ttft<=250ms, tpot<=100ms, e2el<=0.25ms');
    expect(formatSlo(none)).toBe('no objective');
  });
});

describe('requestMeetsSlo', () => {
  const all = parseSlo('ttft=150ms,itl=40ms,tpot=25ms,e2el=200ms');

  it('passes a request within every threshold (thresholds are inclusive)', () => {
    expect(requestMeetsSlo(req(), all)).toEqual({ met: true, missed: null });
    expect(requestMeetsSlo(req(), parseSlo('ttft=100ms,itl=30ms,tpot=20ms,e2el=160ms'))).toEqual({ met: true, missed: null });
  });

  it('reports the first failed check in the order error, ttft, itl, tpot, e2el', () => {
    const slow = { ttftMs: 500, itlMs: [100], tpotMs: 100, e2elMs: 1000 };
    expect(requestMeetsSlo(req({ ...slow, outcome: 'failed', errorClass: 'http_error' }), all).missed).toBe('error');
    expect(requestMeetsSlo(req(slow), all).missed).toBe('ttft');
    expect(requestMeetsSlo(req({ ...slow, ttftMs: 100 }), all).missed).toBe('itl');
    expect(requestMeetsSlo(req({ ...slow, ttftMs: 100, itlMs: [10] }), all).missed).toBe('tpot');
    expect(requestMeetsSlo(req({ ...slow, ttftMs: 100, itlMs: [10], tpotMs: 10 }), all).missed).toBe('e2el');
  });

  it('judges ITL by the chosen within-request statistic', () => {
    const gaps = req({ itlMs: [10, 10, 10, 10, 10, 10, 10, 10, 10, 100] });
    expect(requestMeetsSlo(gaps, parseSlo('itl=50ms')).missed).toBe('itl'); // max 100
    expect(requestMeetsSlo(gaps, parseSlo('itl@mean=20ms')).met).toBe(true); // mean 19
    expect(requestMeetsSlo(gaps, parseSlo('itl@p90=10ms')).met).toBe(true); // 9th of 10
    expect(requestMeetsSlo(gaps, parseSlo('itl@p95=50ms')).missed).toBe('itl'); // 10th of 10
    expect(itlStatOf([3, 1, 2], 'p50')).toBe(2);
    expect(itlStatOf([], 'max')).toBeUndefined();
  });

  it('passes a check the request has no value for: nothing to violate', () => {
    const oneToken = req({ outputTokens: 1, tpotMs: undefined, itlMs: [] });
    expect(requestMeetsSlo(oneToken, parseSlo('itl=1us,tpot=1us'))).toEqual({ met: true, missed: null });
    expect(requestMeetsSlo(req({ ttftMs: undefined }), parseSlo('ttft=1us')).met).toBe(true);
  });

  it('does not judge a cancelled request', () => {
    expect(requestMeetsSlo(req({ outcome: 'cancelled', errorClass: 'cancelled' }), all)).toEqual({ met: false, missed: null });
  });
});

describe('evaluateSlo', () => {
  const slo = parseSlo('ttft=150ms');
  // Session (0,1): two requests that meet it. Session (0,2): one that meets it and one that failed.
  // Session (1,1): one too slow and one cancelled. Session (1,3): only cancelled, so not a judged session.
  const samples: RequestSample[] = [
    req({ rep: 0, userId: 1, round: 1, outputTokens: 10 }),
    req({ rep: 0, userId: 1, round: 2, outputTokens: 20 }),
    req({ rep: 0, userId: 2, round: 1, outputTokens: 30 }),
    req({ rep: 0, userId: 2, round: 2, outcome: 'failed', errorClass: 'timeout', outputTokens: 7 }),
    req({ rep: 1, userId: 1, round: 1, ttftMs: 151, outputTokens: 40 }),
    req({ rep: 1, userId: 1, round: 2, outcome: 'cancelled', errorClass: 'cancelled', outputTokens: 999 }),
    req({ rep: 1, userId: 3, round: 1, outcome: 'cancelled', errorClass: 'cancelled', ttftMs: 1, outputTokens: 999 }),
  ];

  it('gives attainment, misses by reason, session goodput and per-GPU numbers', () => {
    expect(evaluateSlo(samples, slo, 10, 2)).toEqual({
      spec: slo,
      requests: 5,
      met: 3,
      attainment: 0.6,
      missedBy: { error: 1, ttft: 1, itl: 0, tpot: 0, e2el: 0 },
      sessions: 3,
      sessionsMet: 1,
      sessionAttainment: 1 / 3,
      requestGoodput: 0.3,
      sessionGoodput: 0.1,
      requestGoodputPerGpu: 0.15,
      outputThroughputPerGpu: 5, // (10 + 20 + 30 + 40) tokens / 10 s / 2 GPUs: ok requests only
    });
  });

  it('leaves per-GPU numbers null without a GPU count, and is empty without judged requests', () => {
    const r = evaluateSlo(samples, slo, 10, null);
    expect(r.requestGoodputPerGpu).toBeNull();
    expect(r.outputThroughputPerGpu).toBeNull();
    const empty = evaluateSlo(samples.slice(5), slo, 10, 2);
    expect(empty).toMatchObject({ requests: 0, met: 0, attainment: null, sessions: 0, sessionAttainment: null, requestGoodput: 0 });
    expect(evaluateSlo(samples, slo, 0, 2).requestGoodput).toBe(0);
  });
});
