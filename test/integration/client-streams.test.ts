// TargetClient against the mock OpenAI server over real loopback sockets: what it stamps (TTFB, TTFT, per-chunk
// arrival times), what it counts (usage, per-chunk usage, labelled fallback) and how it classifies every way a
// stream can go wrong. The mock runs in this process, so its send stamps (process.hrtime.bigint) and the client's
// arrival stamps share one clock: "stamped on arrival" is checked against when the server actually wrote the
// bytes, not against wall-clock speed. Timing assertions are orderings ("at least the configured delay", "not
// before the server sent it") or bounds derived from this process's own event-loop delay while the request ran,
// never a fixed allowance for speed: the suite must pass on a machine whose cores are busy with other work.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TargetClient, type ClientOptions, type TurnRequest } from '../../src/client/target-client.js';
import type { RequestRecord } from '../../src/result/record.js';
import { measureLoopDelay } from '../helpers/loop-delay.js';
import { startMock, type MockKnobs, type MockPerRequest, type MockRequestInfo, type StartedMock } from '../helpers/mock-openai.js';

const mocks: StartedMock[] = [];
const clients: TargetClient[] = [];
const rawServers: Server[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(mocks.splice(0).map((m) => m.close()));
  await Promise.all(
    rawServers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

async function mock(knobs: Partial<MockKnobs> = {}, perRequest?: MockPerRequest): Promise<StartedMock> {
  const m = await startMock(knobs, perRequest);
  mocks.push(m);
  return m;
}

function client(baseUrl: string, o: Partial<ClientOptions> = {}): TargetClient {
  const c = new TargetClient({
    baseUrl,
    apiKey: undefined,
    endpoint: 'chat',
    connections: 4,
    requestTimeoutMs: 20_000,
    userIdHeader: 'x-user-id',
    t0: process.hrtime.bigint(),
    ...o,
  });
  clients.push(c);
  return c;
}

let nextId = 1;
interface TurnOptions {
  maxTokens?: number;
  includeUsage?: boolean;
  continuous?: boolean;
  content?: string;
  model?: string;
  userId?: number;
  estimate?: number;
}
function turn(o: TurnOptions = {}): TurnRequest {
  const streamOptions: Record<string, boolean> = {};
  if (o.includeUsage !== false) streamOptions.include_usage = true;
  if (o.continuous) streamOptions.continuous_usage_stats = true;
  const body = JSON.stringify({
    model: o.model ?? 'mock-model',
    messages: [{ role: 'user', content: o.content ?? 'What is the capital of France? Please answer briefly.' }],
    stream: true,
    stream_options: streamOptions,
    temperature: 0,
    max_tokens: o.maxTokens ?? 8,
  });
  const id = nextId++;
  return { id, phase: 'measure', userId: o.userId ?? 7, round: 1, intendedMs: 0, late: false, body, promptTokensEstimate: o.estimate ?? 11 };
}

/** The mock's answer for max_tokens n: ' alpha bravo ...' (one word per token). */
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
const answer = (n: number): string => WORDS.slice(0, n).map((w) => ` ${w}`).join('');

const chatRequests = (m: StartedMock): MockRequestInfo[] => m.server.requests.filter((r) => r.path === '/v1/chat/completions');
/** Client stamp (ms since the client's t0) -> absolute hrtime ns, comparable with the mock's stamps. */
const absNs = (c: TargetClient, ms: number): bigint => c.options.t0 + BigInt(Math.round(ms * 1e6));
const nsToMs = (ns: bigint): number => Number(ns) / 1e6;

function expectOk(r: RequestRecord): void {
  expect(r.errorMessage, `unexpected failure: ${r.errorClass} ${r.errorMessage}`).toBeUndefined();
  expect(r.outcome).toBe('ok');
  expect(r.errorClass).toBeUndefined();
}

describe('TargetClient timing against the mock', () => {
  it('stamps TTFT at the first content chunk and every chunk on arrival (at least the configured TTFT/ITL)', async () => {
    const TTFT = 80;
    const ITL = 15;
    const N = 8;
    const m = await mock({ ttftMs: TTFT, itlMs: ITL });
    const c = client(m.url);
    const { value: r, maxIntervalMs } = await measureLoopDelay(() => c.send(turn({ maxTokens: N })));
    expectOk(r);
    const info = chatRequests(m)[0] as MockRequestInfo;

    // TTFB: headers come with the immediate role chunk, long before the first token.
    expect(r.headersMs).toBeDefined();
    const ttfb = (r.headersMs as number) - r.sentMs;
    const ttft = (r.firstTokenMs as number) - r.sentMs;
    expect(ttfb).toBeGreaterThanOrEqual(0);
    expect(ttfb).toBeLessThan(ttft);

    // TTFT: at least the configured delay. (No upper bound: how late the mock's timer fires is the machine's
    // speed; that the client adds nothing of its own is the arrival check below.)
    expect(ttft).toBeGreaterThanOrEqual(TTFT);

    // One stamp per content chunk, in order, each at least ttft + j * itl after sending (the mock never sends a
    // chunk before its due time). The gaps themselves are not bounded: a mock that runs late catches up in a burst.
    expect(r.chunkTimesMs).toHaveLength(N);
    expect(r.chunkTokens).toEqual(new Array(N).fill(1));
    r.chunkTimesMs.forEach((t, j) => expect(t - r.sentMs).toBeGreaterThanOrEqual(TTFT + j * ITL));
    r.chunkTimesMs.forEach((t, j) => j > 0 && expect(t).toBeGreaterThanOrEqual(r.chunkTimesMs[j - 1] as number));

    // Stamped on arrival: each client stamp is after the mock wrote that chunk, and no later than this process's
    // event loop let it be. Mock and client share this loop: a chunk written in one turn is read in the next poll,
    // so between write and stamp lie at most two intervals of the loop monitor (a tick can fall between them); the
    // longest interval it saw is this machine's worst stall during the request, measured, not assumed.
    expect(info.chunkSendNs).toHaveLength(N);
    r.chunkTimesMs.forEach((t, j) => {
      const lagMs = nsToMs(absNs(c, t) - (info.chunkSendNs[j] as bigint));
      expect(lagMs).toBeGreaterThanOrEqual(-0.01);
      expect(lagMs, `chunk ${j}: stamped ${lagMs.toFixed(2)} ms after the mock sent it; the loop's longest interval was ${maxIntervalMs.toFixed(2)} ms`).toBeLessThanOrEqual(2 * maxIntervalMs + 0.01);
    });
    // The request was handed to the pool before the mock received it.
    expect(nsToMs(info.receivedNs - absNs(c, r.sentMs))).toBeGreaterThanOrEqual(-0.01);
    expect(r.firstTokenMs).toBe(r.chunkTimesMs[0]);
    expect(r.endMs).toBeGreaterThanOrEqual(r.chunkTimesMs[N - 1] as number);
    expect(r.text).toBe(answer(N));
    expect(r.finishReason).toBe('length');
    expect(r.httpStatus).toBe(200);
  });

  it.each([
    ['empty', 'delta {role, content: ""} (vLLM)'],
    ['null', 'delta {role, content: null} (llama.cpp)'],
    ['none', 'no role chunk at all'],
  ] as const)('role chunk %s: %s is not the first token', async (roleChunk, _what) => {
    const TTFT = 100;
    const m = await mock({ ttftMs: TTFT, itlMs: 5, roleChunk });
    const c = client(m.url);
    const r = await c.send(turn({ maxTokens: 4 }));
    expectOk(r);
    const info = chatRequests(m)[0] as MockRequestInfo;
    // The role chunk goes out at once; the first token arrives only after the mock sent the first content chunk.
    expect(absNs(c, r.firstTokenMs as number)).toBeGreaterThanOrEqual(info.chunkSendNs[0] as bigint);
    expect((r.firstTokenMs as number) - r.sentMs).toBeGreaterThanOrEqual(TTFT);
    expect(r.chunkTimesMs).toHaveLength(4);
    expect(r.text).toBe(answer(4));
    expect(r.completionTokens).toBe(4);
  });

  it('reasoning_content counts as output: TTFT is the first reasoning token, not the first content token', async () => {
    const TTFT = 50;
    const ITL = 30;
    const m = await mock({ ttftMs: TTFT, itlMs: ITL, reasoningTokens: 3 });
    const c = client(m.url);
    const r = await c.send(turn({ maxTokens: 6 }));
    expectOk(r);
    const info = chatRequests(m)[0] as MockRequestInfo;
    expect(info.chunkSendNs).toHaveLength(6);
    // Every output chunk is stamped, the 3 reasoning ones first; TTFT is the first of them. (Formerly also "before
    // the mock sent chunk 3" and "< TTFT + 2 ITL + 200 ms": both assume the mock is not running late and sends the
    // chunks apart, which a busy machine does not give; the stamp identity below does not depend on it.)
    expect(r.chunkTimesMs).toHaveLength(6);
    expect(r.firstTokenMs).toBe(r.chunkTimesMs[0]);
    const first = absNs(c, r.firstTokenMs as number);
    expect(first).toBeGreaterThanOrEqual(info.chunkSendNs[0] as bigint);
    expect((r.firstTokenMs as number) - r.sentMs).toBeGreaterThanOrEqual(TTFT);
    expect(r.text).toBe(answer(6));
    expect(r.completionTokens).toBe(6);
  });
});

describe('TargetClient token counts', () => {
  it('takes prompt, completion and cached tokens from the usage chunk', async () => {
    const m = await mock({ ttftMs: 5, itlMs: 1 });
    const c = client(m.url);
    // 40 words: long enough for a 16-token prefix-cache block on the repeat.
    const content = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const a = await c.send(turn({ maxTokens: 5, content, estimate: 999 }));
    const b = await c.send(turn({ maxTokens: 5, content, estimate: 999 }));
    expectOk(a);
    expectOk(b);
    const [ia, ib] = chatRequests(m) as [MockRequestInfo, MockRequestInfo];
    expect(ia.promptTokens).toBeGreaterThan(32);
    expect(a.tokenSource).toBe('usage');
    expect(a.promptTokens).toBe(ia.promptTokens); // the server's count, not the estimate of 999
    expect(a.completionTokens).toBe(5);
    expect(a.cachedTokens).toBe(0);
    expect(b.promptTokens).toBe(ib.promptTokens);
    expect(b.cachedTokens).toBe(Math.floor(ib.promptTokens / 16) * 16);
    expect(a.perChunkUsage).toBe(false);
  });

  it('per-chunk usage (continuous_usage_stats) gives each multi-token chunk its token count', async () => {
    const m = await mock({ ttftMs: 5, itlMs: 5, tokensPerChunk: 3, usage: 'continuous' });
    const c = client(m.url);
    const r = await c.send(turn({ maxTokens: 9, continuous: true }));
    expectOk(r);
    expect(r.perChunkUsage).toBe(true);
    expect(r.chunkTimesMs).toHaveLength(3);
    expect(r.chunkTokens).toEqual([3, 3, 3]);
    expect(r.completionTokens).toBe(9);
    expect(r.tokenSource).toBe('usage');
    expect(r.text).toBe(answer(9));
  });

  it('without per-chunk usage, multi-token chunks count 1 each but the total comes from the usage chunk', async () => {
    const m = await mock({ ttftMs: 5, itlMs: 5, tokensPerChunk: 3, usage: 'continuous' });
    const c = client(m.url);
    const r = await c.send(turn({ maxTokens: 9, continuous: false }));
    expectOk(r);
    expect(r.perChunkUsage).toBe(false);
    expect(r.chunkTokens).toEqual([1, 1, 1]);
    expect(r.completionTokens).toBe(9);
  });

  it.each([
    ['the server sends no usage', { usage: 'none' } as Partial<MockKnobs>, true],
    ['the request did not ask for usage', {} as Partial<MockKnobs>, false],
  ])('labels fallback counts when %s', async (_label, knobs, includeUsage) => {
    const m = await mock({ ttftMs: 5, itlMs: 1, tokensPerChunk: 2, ...knobs });
    const c = client(m.url);
    const r = await c.send(turn({ maxTokens: 6, includeUsage, estimate: 42 }));
    expectOk(r);
    expect(r.tokenSource).toBe('fallback');
    // Fallback: completion = counted content chunks (3 chunks of 2 tokens), prompt = pd-bench's estimate.
    expect(r.completionTokens).toBe(3);
    expect(r.promptTokens).toBe(42);
    expect(r.promptTokensEstimate).toBe(42);
    expect(r.cachedTokens).toBeUndefined();
  });
});

describe('TargetClient stream framing', () => {
  const framings: Array<[string, Partial<MockKnobs>]> = [
    [': comment lines (keep-alives) between events', { commentEvery: 1 }],
    ['CRLF line endings', { crlf: true }],
    ['CRLF plus comments plus split writes', { crlf: true, commentEvery: 2, splitWrites: true }],
    ['events split across reads (inside "data:" and mid-JSON)', { splitWrites: true }],
    ['streamed as content-type application/json (production-stack PD router)', { contentType: 'application/json' }],
  ];
  it.each(framings)('handles %s', async (_label, knobs) => {
    const N = 6;
    const m = await mock({ ttftMs: 5, itlMs: 2, ...knobs });
    const c = client(m.url);
    const r = await c.send(turn({ maxTokens: N }));
    expectOk(r);
    expect(r.text).toBe(answer(N));
    expect(r.chunkTimesMs).toHaveLength(N);
    expect(r.completionTokens).toBe(N);
    expect(r.tokenSource).toBe('usage');
    expect(r.finishReason).toBe('length');
    const info = chatRequests(m)[0] as MockRequestInfo;
    expect(r.promptTokens).toBe(info.promptTokens);
    // An event is stamped when its last byte arrives: never before the mock started writing it.
    r.chunkTimesMs.forEach((t, j) => expect(absNs(c, t)).toBeGreaterThanOrEqual(info.chunkSendNs[j] as bigint));
  });

  it('several events in one read share that read\'s arrival stamp', async () => {
    const m = await mock({ ttftMs: 5, itlMs: 20, coalesce: 4 });
    const c = client(m.url);
    const { value: r, maxIntervalMs } = await measureLoopDelay(() => c.send(turn({ maxTokens: 8 })));
    expectOk(r);
    expect(r.chunkTimesMs).toHaveLength(8);
    expect(r.text).toBe(answer(8));
    const t = r.chunkTimesMs;
    const info = chatRequests(m)[0] as MockRequestInfo;
    // Groups of 4 frames went out in one write each: stamps are per read.
    expect(new Set(t.slice(0, 4)).size).toBe(1);
    expect(new Set(t.slice(4, 8)).size).toBe(1);
    // Each group is stamped when it arrived: not before its write, and the first one no later than this loop let
    // it be (as in the first test), i.e. not when the second group came. The second write is due 4 ITLs after the
    // first; was "stamps >= 72 ms apart", which fails when a late mock sends both groups at once.
    expect(absNs(c, t[4] as number)).toBeGreaterThanOrEqual(info.chunkSendNs[4] as bigint);
    expect(info.chunkSendNs[4] as bigint).toBeGreaterThanOrEqual(info.receivedNs + BigInt((5 + 7 * 20) * 1e6));
    const lag0 = nsToMs(absNs(c, t[0] as number) - (info.chunkSendNs[0] as bigint));
    expect(lag0).toBeGreaterThanOrEqual(-0.01);
    expect(lag0, `longest loop interval ${maxIntervalMs.toFixed(2)} ms`).toBeLessThanOrEqual(2 * maxIntervalMs + 0.01);
  });

  it('parses a content event of more than 1 MB', async () => {
    const HUGE = 1_500_000;
    const m = await mock({ ttftMs: 5, itlMs: 1, hugeChunkBytes: HUGE });
    const c = client(m.url);
    const r = await c.send(turn({ maxTokens: 4 }));
    expectOk(r);
    expect(r.chunkTimesMs).toHaveLength(4);
    expect(r.text.length).toBeGreaterThanOrEqual(HUGE);
    expect(r.text.startsWith(' alpha')).toBe(true);
    expect(r.text.endsWith(' bravo charlie delta')).toBe(true);
    expect(r.completionTokens).toBe(4);
  });
});

/** A raw server for byte sequences the mock has no knob for. */
async function rawServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  rawServers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1`;
}

const ev = (o: unknown): string => `data: ${typeof o === 'string' ? o : JSON.stringify(o)}\n\n`;
const contentChunk = (text: string, finish: string | null = null): unknown => ({
  id: 'x',
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: { content: text }, finish_reason: finish }],
});

describe('TargetClient stream endings', () => {
  it('[DONE] alone ends a stream properly (no finish_reason)', async () => {
    const url = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(ev(contentChunk(' a')) + ev(contentChunk(' b')) + ev('[DONE]'));
    });
    const r = await client(url).send(turn());
    expectOk(r);
    expect(r.finishReason).toBeUndefined();
    expect(r.text).toBe(' a b');
  });

  it('finish_reason alone ends a stream properly (no [DONE])', async () => {
    const url = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(ev(contentChunk(' a')) + ev(contentChunk(' b', 'stop')));
    });
    const r = await client(url).send(turn());
    expectOk(r);
    expect(r.finishReason).toBe('stop');
  });

  it('a stream that ends without finish_reason or [DONE] fails as incomplete_stream, keeping its chunks', async () => {
    const m = await mock({ ttftMs: 5, itlMs: 1, endWithoutDone: true });
    const r = await client(m.url).send(turn({ maxTokens: 5 }));
    expect(r.outcome).toBe('failed');
    expect(r.errorClass).toBe('incomplete_stream');
    expect(r.errorMessage).toMatch(/finish_reason|\[DONE\]/);
    expect(r.chunkTimesMs).toHaveLength(5);
    expect(r.firstTokenMs).toBeDefined();
  });

  it('an error blob appended mid-stream (production-stack router) fails as stream_error with the server text', async () => {
    const m = await mock({ ttftMs: 5, itlMs: 1, midStreamErrorAfterTokens: 3, contentType: 'application/json' });
    const r = await client(m.url).send(turn({ maxTokens: 8 }));
    expect(r.outcome).toBe('failed');
    expect(r.errorClass).toBe('stream_error');
    expect(r.errorMessage).toContain('mock mid-stream error after 3 tokens');
    expect(r.chunkTimesMs).toHaveLength(3);
  });

  it('an invalid JSON event fails as parse_error', async () => {
    const url = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(ev(contentChunk(' a')) + 'data: {"choices": [oops\n\n' + ev('[DONE]'));
    });
    const r = await client(url).send(turn());
    expect(r.outcome).toBe('failed');
    expect(r.errorClass).toBe('parse_error');
    expect(r.errorMessage).toContain('oops');
  });
});

describe('TargetClient other response shapes', () => {
  it('a non-streamed JSON body (a router that honours stream:false) is one event: ok, with usage', async () => {
    const url = await rawServer((_req, res) => {
      const body = JSON.stringify(
        {
          id: 'c',
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content: ' one two three' }, finish_reason: 'length' }],
          usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
        },
        null,
        2, // pretty-printed over many lines
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const r = await client(url).send(turn());
    expectOk(r);
    expect(r.text).toBe(' one two three');
    expect(r.chunkTimesMs).toHaveLength(1);
    expect(r.completionTokens).toBe(3);
    expect(r.promptTokens).toBe(12);
    expect(r.tokenSource).toBe('usage');
  });

  it('keeps llama.cpp timings from the final chunk as server-side ground truth', async () => {
    const url = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(ev({ choices: [{ index: 0, delta: { role: 'assistant', content: null }, finish_reason: null }] }));
      res.write(ev(contentChunk(' a')));
      res.write(ev(contentChunk(' b', 'length')));
      res.end(
        ev({
          choices: [],
          usage: { prompt_tokens: 9, completion_tokens: 2 },
          timings: { prompt_n: 9, prompt_ms: 12.5, predicted_n: 2, predicted_ms: 7.25, cache_n: 4 },
        }) + ev('[DONE]'),
      );
    });
    const r = await client(url).send(turn());
    expectOk(r);
    expect(r.serverTimings).toEqual({ promptN: 9, promptMs: 12.5, predictedN: 2, predictedMs: 7.25, cacheN: 4 });
    expect(r.completionTokens).toBe(2);
    expect(r.text).toBe(' a b');
  });
});

describe('TargetClient failures', () => {
  it.each([400, 404, 429, 500, 503])('HTTP %i is recorded as http_error with the status and the server\'s error body', async (status) => {
    const m = await mock({ failStatus: status });
    const r = await client(m.url).send(turn());
    expect(r.outcome).toBe('failed');
    expect(r.errorClass).toBe('http_error');
    expect(r.httpStatus).toBe(status);
    expect(r.errorMessage).toContain(`HTTP ${status}`);
    expect(r.errorMessage).toContain(`mock failure (failStatus=${status})`);
    expect(r.firstTokenMs).toBeUndefined();
    expect(r.chunkTimesMs).toHaveLength(0);
  });

  it('an unknown model (HTTP 404 from the server) keeps the server\'s message', async () => {
    const m = await mock({});
    const r = await client(m.url).send(turn({ model: 'no-such-model' }));
    expect(r.errorClass).toBe('http_error');
    expect(r.httpStatus).toBe(404);
    expect(r.errorMessage).toContain('The model `no-such-model` does not exist.');
  });

  it('a connection reset mid-stream fails as connection_reset and keeps the chunks received before it', async () => {
    const m = await mock({ ttftMs: 5, itlMs: 5, resetAfterTokens: 3 });
    const r = await client(m.url).send(turn({ maxTokens: 8 }));
    expect(r.outcome).toBe('failed');
    expect(r.errorClass).toBe('connection_reset');
    expect(r.httpStatus).toBe(200);
    expect(r.chunkTimesMs).toHaveLength(3);
    expect(r.text).toBe(answer(3));
    expect(r.firstTokenMs).toBeDefined();
  });

  it('the client keeps working on the pool after a reset', async () => {
    const m = await mock({ ttftMs: 5, itlMs: 2 }, (info) => (info.index === 0 ? { resetAfterTokens: 1 } : undefined));
    const c = client(m.url, { connections: 1 });
    const a = await c.send(turn({ maxTokens: 4 }));
    const b = await c.send(turn({ maxTokens: 4 }));
    expect(a.errorClass).toBe('connection_reset');
    expectOk(b);
    expect(b.text).toBe(answer(4));
  });

  it('a request still running after the request timeout fails as timeout, on time', async () => {
    const TIMEOUT = 300;
    const m = await mock({ ttftMs: 10_000 });
    const c = client(m.url, { requestTimeoutMs: TIMEOUT });
    const started = Date.now();
    const r = await c.send(turn());
    expect(r.outcome).toBe('failed');
    expect(r.errorClass).toBe('timeout');
    expect(r.errorMessage).toMatch(/request-timeout/);
    const e2el = r.endMs - r.sentMs;
    expect(e2el).toBeGreaterThanOrEqual(TIMEOUT - 5);
    expect(e2el).toBeLessThan(TIMEOUT + 1500);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.headersMs).toBeDefined(); // the role chunk came; the tokens did not
    expect(r.firstTokenMs).toBeUndefined();
  });

  it('a server that never answers (no headers) still fails as timeout', async () => {
    const url = await rawServer(() => {
      // never respond
    });
    const r = await client(url, { requestTimeoutMs: 250 }).send(turn());
    expect(r.outcome).toBe('failed');
    expect(r.errorClass).toBe('timeout');
    expect(r.headersMs).toBeUndefined();
    expect(r.endMs - r.sentMs).toBeGreaterThanOrEqual(245);
    expect(r.endMs - r.sentMs).toBeLessThan(2000);
  });

  it('a signal aborted before sending records cancelled without contacting the server', async () => {
    const m = await mock({});
    const ac = new AbortController();
    ac.abort('already stopped');
    const r = await client(m.url).send(turn(), ac.signal);
    expect(r.outcome).toBe('cancelled');
    expect(r.errorClass).toBe('cancelled');
    expect(m.server.requests).toHaveLength(0);
  });

  it('an abort signal records the in-flight request as cancelled', async () => {
    const TTFT = 10_000;
    const ac = new AbortController();
    // Abort once the mock has the request (an event, not a guess at when it is in flight).
    const m = await mock({ ttftMs: TTFT }, (info) => {
      if (info.path === '/v1/chat/completions') setImmediate(() => ac.abort('test stop'));
      return undefined;
    });
    const c = client(m.url);
    const r = await c.send(turn(), ac.signal);
    expect(r.outcome).toBe('cancelled');
    expect(r.errorClass).toBe('cancelled');
    expect(r.errorMessage).toContain('test stop');
    // Ended by the abort, not by the answer: before the mock's first token could have come.
    expect(r.firstTokenMs).toBeUndefined();
    expect(r.endMs - r.sentMs).toBeLessThan(TTFT);
  });

  it('a closed port fails as connect_error', async () => {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const r = await client(`http://127.0.0.1:${port}/v1`).send(turn());
    expect(r.outcome).toBe('failed');
    expect(r.errorClass).toBe('connect_error');
    expect(r.errorMessage).toContain('ECONNREFUSED');
    expect(r.headersMs).toBeUndefined();
  });

  it('a connection dropped before any response headers fails as connection_reset', async () => {
    const url = await rawServer((req) => (req.socket as Socket).destroy());
    const r = await client(url).send(turn());
    expect(r.outcome).toBe('failed');
    expect(r.errorClass).toBe('connection_reset');
    expect(r.headersMs).toBeUndefined();
  });
});

describe('TargetClient request', () => {
  it('sends the body as given to {base}/chat/completions with the session header and the bearer token', async () => {
    const m = await mock({ ttftMs: 1, itlMs: 1 });
    const c = client(m.url, { userIdHeader: 'x-session-id', apiKey: 'sk-test-123' });
    const t = turn({ userId: 4242 });
    const r = await c.send(t);
    expectOk(r);
    const info = chatRequests(m)[0] as MockRequestInfo;
    expect(info.method).toBe('POST');
    expect(info.headers['x-session-id']).toBe('4242');
    expect(info.headers['x-user-id']).toBeUndefined();
    expect(info.headers.authorization).toBe('Bearer sk-test-123');
    expect(JSON.stringify(info.body)).toBe(t.body);
  });

  it('the completions endpoint streams text chunks from {base}/completions', async () => {
    const m = await mock({ ttftMs: 5, itlMs: 1 });
    const c = client(m.url, { endpoint: 'completions' });
    const body = JSON.stringify({ model: 'mock-model', prompt: 'Once upon a time', stream: true, stream_options: { include_usage: true }, max_tokens: 5 });
    const r = await c.send({ ...turn(), body });
    expectOk(r);
    expect(m.server.requests.some((q) => q.path === '/v1/completions')).toBe(true);
    expect(r.text).toBe(answer(5));
    expect(r.completionTokens).toBe(5);
  });
});
