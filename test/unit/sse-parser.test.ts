import { describe, expect, it, vi } from 'vitest';
import { SseParser, SseOverflowError, type SseParserOptions } from '../../src/client/sse-parser.js';

type Ev = [data: string, arrivalNs: bigint];

function collector(options?: SseParserOptions): { parser: SseParser; events: Ev[] } {
  const events: Ev[] = [];
  const parser = new SseParser((data, ns) => events.push([data, ns]), options);
  return { parser, events };
}

/** Feeds `reads` as consecutive network reads stamped 1n, 2n, ...; end() gets the next stamp. */
function feed(reads: (string | Buffer)[], options?: SseParserOptions & { end?: boolean }): Ev[] {
  const { parser, events } = collector(options);
  let ns = 0n;
  for (const r of reads) parser.push(typeof r === 'string' ? Buffer.from(r, 'utf8') : r, ++ns);
  if (options?.end !== false) parser.end(++ns);
  expect(parser.eventCount).toBe(events.length);
  return events;
}

const chunk = (content: string): string =>
  `data: {"id":"cmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}}}]}\n\n`;

const VLLM_STREAM = chunk('Hello') + chunk(' 日本 🎉') + 'data: [DONE]\n\n';
const VLLM_PAYLOADS = VLLM_STREAM.split('\n\n')
  .filter((s) => s !== '')
  .map((s) => s.slice('data: '.length));

describe('SseParser', () => {
  it('dispatches one event per read with that read\'s stamp', () => {
    expect(feed([chunk('a'), chunk('b'), 'data: [DONE]\n\n'])).toEqual([
      [chunk('a').slice(6, -2), 1n],
      [chunk('b').slice(6, -2), 2n],
      ['[DONE]', 3n],
    ]);
  });

  it('dispatches several events from one read, all with that read\'s stamp', () => {
    expect(feed(['data: 1\n\ndata: 2\n\ndata: 3\n\n'])).toEqual([
      ['1', 1n],
      ['2', 1n],
      ['3', 1n],
    ]);
  });

  it('gives identical events for every split point of a 3-event stream', () => {
    const bytes = Buffer.from(VLLM_STREAM, 'utf8');
    expect(VLLM_PAYLOADS).toHaveLength(3);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { parser, events } = collector();
      parser.push(bytes.subarray(0, cut), 1n);
      parser.push(bytes.subarray(cut), 2n);
      parser.end(3n);
      expect(events.map((e) => e[0])).toEqual(VLLM_PAYLOADS);
    }
  });

  it('gives identical events for every pair of split points (three reads)', () => {
    const bytes = Buffer.from('data: a\r\n\r\ndata: 日\r\ndata: b\r\n\r\n', 'utf8');
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const { parser, events } = collector();
        parser.push(bytes.subarray(0, i), 1n);
        parser.push(bytes.subarray(i, j), 2n);
        parser.push(bytes.subarray(j), 3n);
        parser.end(4n);
        expect(events.map((e) => e[0])).toEqual(['a', '日\nb']);
      }
    }
  });

  it('handles a byte-by-byte feed, stamping each event with the read of its final byte', () => {
    const bytes = Buffer.from(VLLM_STREAM, 'utf8');
    const { parser, events } = collector();
    for (let i = 0; i < bytes.length; i++) parser.push(bytes.subarray(i, i + 1), BigInt(i));
    parser.end(-1n);
    // Each event is completed by the second '\n' of its terminating blank line.
    const ends: bigint[] = [];
    let idx = -1;
    while ((idx = VLLM_STREAM.indexOf('\n\n', idx + 1)) !== -1) ends.push(BigInt(Buffer.byteLength(VLLM_STREAM.slice(0, idx + 1))));
    expect(events).toEqual(VLLM_PAYLOADS.map((p, k) => [p, ends[k]]));
  });

  it('accepts CRLF line endings, including a split between \\r and \\n', () => {
    expect(feed(['data: x\r\n\r\ndata: y\r', '\n\r', '\ndata: z\r\n\r\n'])).toEqual([
      ['x', 1n],
      ['y', 2n],
      ['z', 3n],
    ]);
  });

  it('does not mistake the \\n of a split CRLF for a blank line', () => {
    expect(feed(['data: a\r', '\ndata: b\r\n\r\n'])).toEqual([['a\nb', 2n]]);
  });

  it('accepts lone CR line endings', () => {
    expect(feed(['data: a\r\rdata: b\r\r'])).toEqual([
      ['a', 1n],
      ['b', 1n],
    ]);
  });

  it('ignores comment lines and keep-alives', () => {
    expect(feed([': ping\n\n', ':\n', 'data: a\n: mid-event comment\n\n', ': ping - 2025-01-01\r\n\r\n'])).toEqual([
      ['a', 3n],
    ]);
  });

  it('ignores event:, id: and retry: fields, and dispatches nothing for an event without data', () => {
    expect(feed(['event: message\nid: 7\nretry: 1000\n\n', 'event: delta\nid: 8\ndata: hi\n\n'])).toEqual([
      ['hi', 2n],
    ]);
  });

  it('joins multi-line data with \\n', () => {
    expect(feed(['data: line one\ndata: line two\ndata:\ndata: four\n\n'])).toEqual([['line one\nline two\n\nfour', 1n]]);
  });

  it('strips exactly one optional space after data:', () => {
    expect(feed(['data:{"a":1}\n\n', 'data:  two spaces\n\n', 'data\n\n'])).toEqual([
      ['{"a":1}', 1n],
      [' two spaces', 2n],
      ['', 3n],
    ]);
  });

  it('yields [DONE] with and without the space', () => {
    expect(feed(['data:[DONE]\n\n', 'data: [DONE]\n\n'])).toEqual([
      ['[DONE]', 1n],
      ['[DONE]', 2n],
    ]);
  });

  it('decodes multi-byte UTF-8 characters split across reads', () => {
    const bytes = Buffer.from('data: 日本🎉\n\n', 'utf8');
    const start = Buffer.byteLength('data: ');
    // Cut inside 日 (3 bytes), inside 本, and inside the 4-byte emoji.
    const cuts = [start + 1, start + 2, start + 4, start + 7, start + 8, start + 9];
    const reads: Buffer[] = [];
    let prev = 0;
    for (const c of cuts) {
      reads.push(bytes.subarray(prev, c));
      prev = c;
    }
    reads.push(bytes.subarray(prev));
    expect(feed(reads)).toEqual([['日本🎉', BigInt(reads.length)]]);
  });

  it('strips a leading UTF-8 BOM', () => {
    expect(feed([Buffer.from([0xef, 0xbb]), Buffer.from([0xbf, ...Buffer.from('data: a\n\n')])])).toEqual([['a', 2n]]);
  });

  it('stamps an event split over two reads with the second read', () => {
    expect(feed(['data: {"choices":[{"delta":', '{"content":"x"}}]}\n\n'])).toEqual([
      ['{"choices":[{"delta":{"content":"x"}}]}', 2n],
    ]);
    // Only the blank line is in the second read: that read still completes the event.
    expect(feed(['data: a\n', '\n'])).toEqual([['a', 2n]]);
  });

  it('flushes a trailing event without a blank line at end()', () => {
    expect(feed(['data: a\n\n', 'data: tail\n'])).toEqual([
      ['a', 1n],
      ['tail', 3n],
    ]);
    expect(feed(['data: no newline at all'])).toEqual([['no newline at all', 2n]]);
    expect(feed(['data: a\n\n', ': ping\n'])).toEqual([['a', 1n]]);
  });

  it('dispatches a bare JSON error blob mid-stream as its own event', () => {
    const blob = '{"error":{"message":"boom","code":500}}';
    expect(feed([chunk('a'), `${blob}\n`, 'data: [DONE]\n\n'])).toEqual([
      [chunk('a').slice(6, -2), 1n],
      [blob, 2n],
      ['[DONE]', 3n],
    ]);
    // Appended to an event that never got its blank line: the event goes out first, in stream order.
    expect(feed(['data: a\n', `${blob}\n`])).toEqual([
      ['a', 2n],
      [blob, 2n],
    ]);
  });

  it('dispatches newline-delimited JSON line by line', () => {
    expect(feed(['{"a":1}\n{"b":"}{"}\n', '  {"c":[1,2]}\n'])).toEqual([
      ['{"a":1}', 1n],
      ['{"b":"}{"}', 1n],
      ['  {"c":[1,2]}', 2n],
    ]);
  });

  it('dispatches a pretty-printed non-stream JSON body once', () => {
    const body = JSON.stringify(
      { id: 'cmpl-9', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'a {b} "c"\n' } }] },
      null,
      2,
    );
    const bytes = Buffer.from(`${body}\n`, 'utf8');
    const events = feed([bytes.subarray(0, 20), bytes.subarray(20, 61), bytes.subarray(61)]);
    expect(events).toEqual([[body, 3n]]);
    expect(JSON.parse(events[0]![0])).toMatchObject({ object: 'chat.completion' });
    // Without a final newline the body completes only at end().
    expect(feed([body])).toEqual([[body, 2n]]);
  });

  it('flushes an incomplete JSON body at end() for the consumer to reject', () => {
    expect(feed(['{\n  "error": {\n    "message": "trunc'])).toEqual([['{\n  "error": {\n    "message": "trunc', 2n]]);
  });

  it('throws SseOverflowError for an event larger than maxEventBytes', () => {
    const { parser } = collector({ maxEventBytes: 1024 });
    parser.push(Buffer.from(`data: ${'x'.repeat(1000)}\n`), 1n);
    let err: unknown;
    try {
      parser.push(Buffer.from(`data: ${'y'.repeat(100)}`), 2n);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SseOverflowError);
    expect(err).toBeInstanceOf(Error);
    expect((err as SseOverflowError).code).toBe('PDB_SSE_OVERFLOW');

    // A single unterminated line is caught while it is still arriving, before it is all buffered.
    const big = collector({ maxEventBytes: 64 * 1024 });
    big.parser.push(Buffer.from('data: '), 1n);
    const piece = Buffer.alloc(16 * 1024, 0x61);
    expect(() => {
      for (let i = 0; i < 8; i++) big.parser.push(piece, BigInt(i + 2));
    }).toThrow(SseOverflowError);

    // Events under the limit are fine, however many.
    expect(feed(Array.from({ length: 100 }, () => `data: ${'z'.repeat(900)}\n\n`), { maxEventBytes: 1024 })).toHaveLength(100);
  });

  describe('cost, without timing (speed is measured by the benchmark suite)', () => {
    it('assembles an 8 MiB data line from 64 KiB reads with one concatenation, not one per read', () => {
      const READ = 64 * 1024;
      const totalBytes = 8 * 1024 * 1024;
      const payload = Buffer.alloc(totalBytes, 0x62);
      const body = Buffer.concat([Buffer.from('data: '), payload, Buffer.from('\n\n')]);
      let got: string | undefined;
      let at: bigint | undefined;
      const parser = new SseParser((d, ns) => {
        got = d;
        at = ns;
      });
      const concat = vi.spyOn(Buffer, 'concat');
      let reads = 0;
      try {
        for (let off = 0; off < body.length; off += READ) parser.push(body.subarray(off, off + READ), BigInt(++reads));
      } finally {
        concat.mockRestore();
      }
      // Bytes copied by concatenation: quadratic buffering would copy ~reads/2 times the line.
      const copied = concat.mock.calls.reduce((sum, [list]) => sum + (list as readonly Uint8Array[]).reduce((a, b) => a + b.length, 0), 0);
      expect(copied).toBeLessThanOrEqual(totalBytes + 16);
      expect(parser.eventCount).toBe(1);
      expect(at).toBe(BigInt(reads));
      expect(got?.length).toBe(totalBytes);
      expect(got === payload.toString('latin1')).toBe(true);
    });

    it('handles thousands of small events in one read without rescanning', () => {
      const n = 20_000;
      const body = Buffer.from(chunk('tok').repeat(n), 'utf8');
      const { parser, events } = collector();
      parser.push(body, 1n);
      expect(events).toHaveLength(n);
      expect(events[n - 1]).toEqual([chunk('tok').slice(6, -2), 1n]);
    });
  });
});
