// Property-based tests (fast-check) of the streamed-response path: SseParser framing and OpenAIStreamState's
// reading of each event. The hand-written cases in sse-parser.test.ts pin known shapes; these generate streams
// (random line endings, comments, fields, multi-line data, bare JSON, random bytes) and random read boundaries,
// because TCP may cut a stream anywhere: inside a multi-byte character, between the \r and \n of a CRLF. Two
// kinds of property: any split yields exactly the events (and arrival stamps) of the unsplit stream, and no input
// makes the parser or the stream state throw; every stream ends in an outcome the client can record.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpenAIStreamState, streamOutcome } from '../../src/client/openai-stream.js';
import { SseOverflowError, SseParser } from '../../src/client/sse-parser.js';
import type { ErrorClass } from '../../src/result/record.js';

type Ev = [data: string, stamp: bigint];

interface Fed {
  events: Ev[];
  /** What push() threw, if anything (the client stops reading the stream there). */
  threw: unknown;
}

/** Feeds `reads` as network reads stamped 1n, 2n, ...; end() gets the next stamp unless a push threw. */
function feed(reads: readonly Buffer[], maxEventBytes?: number): Fed {
  const events: Ev[] = [];
  const parser = new SseParser((d, ns) => events.push([d, ns]), maxEventBytes === undefined ? undefined : { maxEventBytes });
  let ns = 0n;
  try {
    for (const r of reads) parser.push(r, ++ns);
    parser.end(++ns);
  } catch (err) {
    return { events, threw: err };
  }
  return { events, threw: undefined };
}

/** The reads a stream arrives in when cut at `cuts` (sorted, may repeat: a repeat is an empty read). */
function cutAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const bounds = [0, ...cuts, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i] as number, end));
}

/**
 * The reference: one byte per read, byte i stamped i and end() stamped -1, so each event's stamp is the index of the
 * byte that completed it. Under any other split an event must carry the stamp of the read holding that same byte.
 */
function byteByByte(bytes: Buffer, maxEventBytes?: number): Fed {
  const events: Ev[] = [];
  const parser = new SseParser((d, ns) => events.push([d, ns]), maxEventBytes === undefined ? undefined : { maxEventBytes });
  try {
    for (let i = 0; i < bytes.length; i++) parser.push(bytes.subarray(i, i + 1), BigInt(i));
    parser.end(-1n);
  } catch (err) {
    return { events, threw: err };
  }
  return { events, threw: undefined };
}

/** The stamp `cutAt(bytes, cuts)` read numbering gives the byte at `index` (-1: end(), numbered after the reads). */
function readStampOf(index: bigint, cuts: readonly number[]): bigint {
  if (index < 0n) return BigInt(cuts.length + 2);
  const b = Number(index);
  const bounds = [...cuts, Number.POSITIVE_INFINITY];
  return BigInt(bounds.findIndex((end) => b < end) + 1);
}

/**
 * Cut points for a stream: random ones plus a random subset of the awkward ones (right after a CR, so a CRLF
 * is split; before a UTF-8 continuation byte, so a character is split).
 */
function cutsFor(bytes: Buffer): fc.Arbitrary<number[]> {
  const awkward: number[] = [];
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (bytes[i - 1] === 0x0d || (b & 0xc0) === 0x80) awkward.push(i);
  }
  return fc
    .tuple(fc.subarray(awkward), fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }))
    .map(([a, r]) => [...a, ...r].sort((x, y) => x - y));
}

// ---------------------------------------------------------------------------------------------------------
// Generators

type Eol = '\n' | '\r\n' | '\r';
const eol: fc.Arbitrary<Eol> = fc.constantFrom<Eol>('\n', '\r\n', '\r');

/** Field text: anything but CR and LF, weighted towards what breaks parsers (multi-byte, colons, braces, NEL, LS). */
const fieldText: fc.Arbitrary<string> = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('a', ' ', ':', '{', '}', '"', '\\', '日', '🎉', 'é', '\t', '\u0085', '\u2028', '\ufeff', '\u0000'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 12,
  })
  .map((s) => s.replace(/[\r\n]/g, '_'));

/** One line of an SSE event and the data value it contributes (undefined: not a data line). */
interface ModelLine {
  text: string;
  data: string | undefined;
}

const dataLine: fc.Arbitrary<ModelLine> = fc.oneof(
  fieldText.map((v) => ({ text: `data: ${v}`, data: v })),
  // Without the space the value keeps its own leading space but one (the spec strips exactly one).
  fieldText.map((v) => ({ text: `data:${v}`, data: v.startsWith(' ') ? v.slice(1) : v })),
  fc.constant({ text: 'data', data: '' }),
);

// Names chosen so that none is a data field ("data-x", "dataset" start like one) and none opens a bare JSON line.
const otherLine: fc.Arbitrary<ModelLine> = fc.oneof(
  fc.tuple(fc.constantFrom('event', 'id', 'data-x', 'dataset', 'x'), fc.constantFrom(':', ': '), fieldText).map(([n, c, v]) => ({ text: `${n}${c}${v}`, data: undefined })),
  fc.nat({ max: 100_000 }).map((n) => ({ text: `retry: ${n}`, data: undefined })),
  fieldText.map((v) => ({ text: `:${v}`, data: undefined })),
  fc.constant({ text: 'event', data: undefined }),
);

interface ModelEvent {
  lines: ModelLine[];
  eols: Eol[];
  /** The blank line's ending (absent: the stream ends before it, so end() flushes the event). */
  blank: Eol | undefined;
}

const modelEvent = (terminated: boolean): fc.Arbitrary<ModelEvent> =>
  fc
    .array(fc.tuple(fc.oneof(dataLine, otherLine), eol), { maxLength: 5 })
    .chain((ls) => fc.record({ lines: fc.constant(ls.map((l) => l[0])), eols: fc.constant(ls.map((l) => l[1])), blank: terminated ? eol : fc.constant(undefined) }));

interface ModelStream {
  bytes: Buffer;
  /** The data of every event, as the SSE spec (and the parser's flush of an unterminated last event) gives it. */
  expected: string[];
}

/** Renders events to bytes. A CR followed by a blank line's LF would read as one CRLF, so that LF becomes CRLF. */
function render(events: readonly ModelEvent[], bom: boolean, lastEol: boolean): ModelStream {
  let text = bom ? '\ufeff' : '';
  let prevEol: Eol | undefined;
  const expected: string[] = [];
  const lineOut = (line: string, end: Eol | ''): void => {
    const e = line === '' && prevEol === '\r' && end === '\n' ? '\r\n' : end;
    text += line + e;
    prevEol = e === '' ? undefined : e;
  };
  events.forEach((ev, k) => {
    const last = k === events.length - 1 && ev.blank === undefined;
    ev.lines.forEach((l, i) => lineOut(l.text, last && i === ev.lines.length - 1 && !lastEol ? '' : (ev.eols[i] as Eol)));
    if (ev.blank !== undefined) lineOut('', ev.blank);
    const data = ev.lines.filter((l) => l.data !== undefined).map((l) => l.data as string);
    if (data.length > 0) expected.push(data.join('\n'));
  });
  return { bytes: Buffer.from(text, 'utf8'), expected };
}

const modelStream: fc.Arbitrary<ModelStream> = fc
  .tuple(fc.array(modelEvent(true), { maxLength: 6 }), fc.option(modelEvent(false), { nil: undefined }), fc.boolean(), fc.boolean())
  .map(([done, tail, bom, lastEol]) => render(tail ? [...done, tail] : done, bom, lastEol));

/** Lines outside the SSE model too: bare and pretty-printed JSON, NDJSON, brace garbage, anything. */
const anyLine: fc.Arbitrary<string> = fc.oneof(
  dataLine.map((l) => l.text),
  otherLine.map((l) => l.text),
  fc.constant(''),
  fc.json({ maxDepth: 2 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v, null, 2) ?? 'null'),
  fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', ' ', 'a', ':'), maxLength: 10 }),
  fieldText,
);

const mixedStream: fc.Arbitrary<Buffer> = fc
  .tuple(fc.array(fc.tuple(anyLine, eol), { maxLength: 12 }), fc.boolean())
  .map(([ls, lastEol]) => Buffer.from(ls.map(([l, e], i) => l + (i === ls.length - 1 && !lastEol ? '' : e)).join(''), 'utf8'));

const randomBytes: fc.Arbitrary<Buffer> = fc
  .uint8Array({ maxLength: 300 })
  .map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/** A chunk-shaped object whose every field may hold any JSON value: what a buggy or hostile server may send. */
const anyJson = fc.jsonValue({ maxDepth: 2 });
const chunkLike: fc.Arbitrary<unknown> = fc.record(
  {
    choices: fc.oneof(
      fc.array(
        fc.record(
          {
            delta: fc.oneof(fc.record({ role: anyJson, content: fc.oneof(fc.string(), anyJson), reasoning_content: fc.oneof(fc.string(), anyJson), reasoning: anyJson }, { requiredKeys: [] }), anyJson),
            text: fc.oneof(fc.string(), anyJson),
            message: fc.oneof(fc.record({ content: fc.oneof(fc.string(), anyJson) }, { requiredKeys: [] }), anyJson),
            finish_reason: fc.oneof(fc.constantFrom('stop', 'length', null), anyJson),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 2 },
      ),
      anyJson,
    ),
    usage: fc.oneof(
      fc.record({ prompt_tokens: fc.oneof(fc.nat(), anyJson), completion_tokens: fc.oneof(fc.nat(), anyJson), prompt_tokens_details: fc.oneof(fc.record({ cached_tokens: anyJson }), anyJson) }, { requiredKeys: [] }),
      anyJson,
    ),
    error: anyJson,
    timings: fc.oneof(fc.record({ prompt_n: anyJson, prompt_ms: fc.oneof(fc.double(), anyJson), predicted_n: anyJson, predicted_ms: anyJson, cache_n: anyJson }, { requiredKeys: [] }), anyJson),
    object: anyJson,
  },
  { requiredKeys: [] },
);

const garbageStream: fc.Arbitrary<Buffer> = fc
  .array(
    fc.oneof(
      chunkLike.map((c) => `data: ${JSON.stringify(c)}\n\n`),
      fc.constantFrom('data: [DONE]\n\n', 'data: [DONE', 'data: {"error"', '{"error":{"message":"x"}}\n', ': ping\r\n\r\n', '\r', '\n'),
      anyLine.map((l) => `${l}\n`),
    ),
    { maxLength: 8 },
  )
  .map((parts) => Buffer.from(parts.join(''), 'utf8'));

// ---------------------------------------------------------------------------------------------------------
// (a) Any split yields the events of the unsplit stream

const withCuts = (a: fc.Arbitrary<Buffer>): fc.Arbitrary<{ bytes: Buffer; cuts: number[] }> =>
  a.chain((bytes) => cutsFor(bytes).map((cuts) => ({ bytes, cuts })));

/** Whole, byte by byte and cut at `cuts`: the same events, each stamped by the read that completed it. */
function expectSplitInvariant(bytes: Buffer, cuts: readonly number[], maxEventBytes?: number): Ev[] {
  const whole = feed([bytes], maxEventBytes);
  const bytewise = byteByByte(bytes, maxEventBytes);
  const split = feed(cutAt(bytes, cuts), maxEventBytes);
  const data = (f: Fed): string[] => f.events.map((e) => e[0]);
  expect(data(bytewise)).toEqual(data(whole));
  expect(split.events).toEqual(bytewise.events.map(([d, at]): Ev => [d, readStampOf(at, cuts)]));
  // Too large an event is too large however it arrives; its error is the only thing a push may throw.
  expect(split.threw === undefined).toBe(whole.threw === undefined);
  expect(bytewise.threw === undefined).toBe(whole.threw === undefined);
  for (const t of [whole.threw, bytewise.threw, split.threw]) if (t !== undefined) expect(t).toBeInstanceOf(SseOverflowError);
  return whole.events;
}

describe('SseParser under random read boundaries (fast-check)', () => {
  it('a valid SSE stream yields the spec\'s events, the same for every split', () => {
    fc.assert(
      fc.property(
        modelStream.chain((m) => cutsFor(m.bytes).map((cuts) => ({ m, cuts }))),
        ({ m, cuts }) => {
          const events = expectSplitInvariant(m.bytes, cuts);
          expect(events.map((e) => e[0])).toEqual(m.expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('bare JSON, NDJSON, garbage lines and random bytes split anywhere give the events of the whole stream', () => {
    fc.assert(fc.property(withCuts(fc.oneof(mixedStream, randomBytes, garbageStream)), ({ bytes, cuts }) => void expectSplitInvariant(bytes, cuts)), { numRuns: 400 });
  });

  it('the maxEventBytes limit trips however the stream is split, after the same events', () => {
    fc.assert(
      fc.property(withCuts(fc.oneof(mixedStream, garbageStream)), fc.integer({ min: 1, max: 64 }), ({ bytes, cuts }, max) => void expectSplitInvariant(bytes, cuts, max)),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// (b) Nothing throws out of the stream handling; every stream ends classified

const CLASSES: readonly (ErrorClass | 'ok')[] = ['ok', 'parse_error', 'stream_error', 'incomplete_stream'];

const isOptNumber = (v: unknown): boolean => v === undefined || (typeof v === 'number' && !Number.isNaN(v));

/**
 * What TargetClient does with a 200 response's body: every read into the parser, every event into the stream state,
 * the outcome at the end. An oversized event is the parser's one error, and the client records it as parse_error.
 */
function consume(reads: readonly Buffer[], maxEventBytes?: number): { cls: ErrorClass | 'ok'; state: OpenAIStreamState } {
  const t0 = 0n;
  const state = new OpenAIStreamState(t0);
  const parser = new SseParser((d, at) => state.onEvent(d, at), maxEventBytes === undefined ? undefined : { maxEventBytes });
  let ns = 1_000_000n;
  try {
    for (const r of reads) parser.push(r, (ns += 1_000_000n));
    parser.end((ns += 1_000_000n));
  } catch (err) {
    if (err instanceof SseOverflowError) return { cls: 'parse_error', state };
    throw err;
  }
  return { cls: streamOutcome(state)?.errorClass ?? 'ok', state };
}

/** The stream state feeds a RequestRecord: each field must have its declared type whatever the server sent. */
function expectWellTyped(s: OpenAIStreamState): void {
  expect(typeof s.text).toBe('string');
  expect(s.finishReason === undefined || typeof s.finishReason === 'string', `finishReason ${JSON.stringify(s.finishReason)}`).toBe(true);
  for (const v of [s.firstTokenMs, s.promptTokens, s.completionTokens, s.cachedTokens, s.lastEventMs]) expect(isOptNumber(v), `${String(v)}`).toBe(true);
  expect(s.chunkTimesMs.every((v) => typeof v === 'number')).toBe(true);
  expect(s.chunkTokens.every((k) => Number.isInteger(k) && k >= 1)).toBe(true);
  expect(s.chunkTokens).toHaveLength(s.chunkTimesMs.length);
  const t = s.serverTimings;
  if (t) for (const v of [t.promptN, t.promptMs, t.predictedN, t.predictedMs, t.cacheN]) expect(isOptNumber(v), `serverTimings ${JSON.stringify(t)}`).toBe(true);
  if (s.error) expect(typeof s.error.message).toBe('string');
}

describe('the client\'s stream handling under random input (fast-check)', () => {
  it('random bytes, garbage lines and ill-typed chunks never throw, and end classified and well typed', () => {
    fc.assert(
      fc.property(withCuts(fc.oneof(randomBytes, mixedStream, garbageStream)), fc.option(fc.integer({ min: 1, max: 256 }), { nil: undefined }), ({ bytes, cuts }, max) => {
        const { cls, state } = consume(cutAt(bytes, cuts), max);
        expect(CLASSES).toContain(cls);
        expectWellTyped(state);
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Regression examples found by the properties above, kept as plain cases

describe('fuzzing finds, kept as examples', () => {
  const one = (events: string[]): OpenAIStreamState => {
    const s = new OpenAIStreamState(0n);
    events.forEach((e, i) => s.onEvent(e, BigInt(i + 1) * 1_000_000n));
    return s;
  };

  it('a non-string content or reasoning delta is not output text (it used to become "[object Object]" and a token)', () => {
    const s = one(['{"choices":[{"delta":{"content":{}}}]}', '{"choices":[{"delta":{"content":5,"reasoning_content":[1]}}]}', '{"choices":[{"text":7}]}', '[DONE]']);
    expect(s.text).toBe('');
    expect(s.firstTokenMs).toBeUndefined();
    expect(s.chunkTimesMs).toEqual([]);
    expectWellTyped(s);
  });

  it('a non-string finish_reason does not end the stream as if it were one', () => {
    const s = one(['{"choices":[{"delta":{"content":"a"},"finish_reason":{"x":1}}]}']);
    expect(s.finishReason).toBeUndefined();
    expect(streamOutcome(s)?.errorClass).toBe('incomplete_stream');
    expect(s.text).toBe('a');
  });

  it('non-numeric llama.cpp timings are dropped, numeric ones kept', () => {
    const s = one(['{"choices":[],"timings":{"prompt_n":"12","prompt_ms":3.5,"predicted_n":null,"predicted_ms":{},"cache_n":4}}']);
    expect(s.serverTimings).toEqual({ promptN: undefined, promptMs: 3.5, predictedN: undefined, predictedMs: undefined, cacheN: 4 });
    expect(one(['{"choices":[],"timings":7}']).serverTimings).toBeUndefined();
  });
});
