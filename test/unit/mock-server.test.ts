import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MOCK_CLOCK_PATH, MockOpenAIServer, countMockTokens, startMock } from '../helpers/mock-openai.js';
import type { MockKnobs, MockPerRequest, MockRequestInfo, StartedMock } from '../helpers/mock-openai.js';

let mock: StartedMock | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

async function start(knobs?: Partial<MockKnobs>, perRequest?: MockPerRequest): Promise<StartedMock> {
  mock = await startMock(knobs, perRequest);
  return mock;
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

interface Read {
  text: string;
  reads: number;
  error: unknown;
  /** ms from `t0` to the first read whose bytes contain a content/reasoning delta */
  firstTokenMs: number | undefined;
}

async function readAll(res: Response, t0: number): Promise<Read> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  let reads = 0;
  let firstTokenMs: number | undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      reads++;
      text += dec.decode(value, { stream: true });
      if (firstTokenMs === undefined && /"(content|reasoning_content|text)":"[^"]/.test(text)) {
        firstTokenMs = performance.now() - t0;
      }
    }
  } catch (error) {
    return { text, reads, error, firstTokenMs };
  }
  return { text, reads, error: undefined, firstTokenMs };
}

/** SSE data payloads, in order; tolerant of CRLF and comment lines like a real parser must be. */
function dataEvents(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .flatMap((block) => block.split(/\r?\n/))
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6));
}

type Chunk = {
  object: string;
  choices: { delta?: Record<string, unknown>; text?: string; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details?: { cached_tokens: number } };
};
const chunks = (text: string): Chunk[] =>
  dataEvents(text).filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as Chunk);

const chat = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: 'mock-model',
  messages: [{ role: 'user', content }],
  stream: true,
  ...extra,
});

describe('mock OpenAI server', () => {
  it('serves /health, /v1/models and 404s unknown paths', async () => {
    const { url } = await start({ model: 'm1' });
    expect((await fetch(url.replace('/v1', '/health'))).status).toBe(200);
    const models = (await (await fetch(`${url}/models`)).json()) as { object: string; data: { id: string; owned_by: string }[] };
    expect(models.object).toBe('list');
    expect(models.data[0]).toMatchObject({ id: 'm1', object: 'model', owned_by: 'pd-bench' });
    const nf = await fetch(`${url}/nope`);
    expect(nf.status).toBe(404);
  });

  it('streams a vLLM-shaped chat response honouring TTFT, max_tokens and include_usage', async () => {
    const { url, server } = await start({ ttftMs: 60, itlMs: 5 });
    const prompt = 'Hello, world! How are you?';
    const t0 = performance.now();
    const res = await post(`${url}/chat/completions`, chat(prompt, { max_tokens: 5, stream_options: { include_usage: true } }), {
      'x-user-id': 'user-7',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const r = await readAll(res, t0);
    expect(r.error).toBeUndefined();
    expect(r.firstTokenMs).toBeGreaterThanOrEqual(60);

    const events = dataEvents(r.text);
    expect(events[events.length - 1]).toBe('[DONE]');
    const cs = chunks(r.text);
    expect(cs[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const content = cs.slice(1, -1);
    expect(content).toHaveLength(5);
    const answer = content.map((c) => c.choices[0]!.delta!.content).join('');
    expect(countMockTokens(answer)).toBe(5);
    expect(content.map((c) => c.choices[0]!.finish_reason)).toEqual([null, null, null, null, 'length']);
    const usage = cs[cs.length - 1]!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toEqual({
      prompt_tokens: countMockTokens(prompt),
      total_tokens: countMockTokens(prompt) + 5,
      completion_tokens: 5,
      prompt_tokens_details: { cached_tokens: 0 },
    });

    const info = server.requests[0]!;
    expect(info.headers['x-user-id']).toBe('user-7');
    expect(info.promptTokens).toBe(8);
    expect(info.outputTokens).toBe(5);
    expect(info.chunkSendNs).toHaveLength(5);
    expect(info.chunkSendNs[0]! - info.receivedNs).toBeGreaterThanOrEqual(60_000_000n);
    for (let i = 1; i < 5; i++) expect(info.chunkSendNs[i]! - info.chunkSendNs[i - 1]!).toBeGreaterThanOrEqual(0n);
    expect(info.chunkSendNs[4]! - info.receivedNs).toBeGreaterThanOrEqual(60_000_000n + 4n * 5_000_000n);
  });

  it('groups tokens per chunk, streams reasoning first and reports continuous usage', async () => {
    const { url } = await start({ ttftMs: 0, itlMs: 0, tokensPerChunk: 3, reasoningTokens: 4, usage: 'continuous', roleChunk: 'null' });
    const body = chat('hi', { max_tokens: 10, stream_options: { include_usage: true, continuous_usage_stats: true } });
    const cs = chunks((await readAll(await post(`${url}/chat/completions`, body), 0)).text);
    expect(cs[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: null });
    const deltas = cs.slice(1, -1).map((c) => c.choices[0]!.delta!);
    expect(deltas.map((d) => Object.keys(d)[0])).toEqual(['reasoning_content', 'reasoning_content', 'content', 'content']);
    expect(deltas.map((d) => countMockTokens(String(Object.values(d)[0])))).toEqual([3, 1, 3, 3]);
    expect(cs.slice(0, -1).map((c) => c.usage?.completion_tokens)).toEqual([0, 3, 4, 7, 10]);
    expect(cs[cs.length - 1]!.usage).toMatchObject({ completion_tokens: 10, total_tokens: 11 });
  });

  it('serves /v1/completions streaming and non-streaming chat', async () => {
    const { url } = await start({ ttftMs: 0, itlMs: 0, usage: 'none' });
    const r = await readAll(await post(`${url}/completions`, { prompt: 'a b c', max_tokens: 3, stream: true, stream_options: { include_usage: true } }), 0);
    const cs = chunks(r.text);
    expect(cs).toHaveLength(3); // usage 'none': no usage chunk even when asked
    expect(cs.every((c) => c.object === 'text_completion' && c.usage === undefined)).toBe(true);
    expect(countMockTokens(cs.map((c) => c.choices[0]!.text).join(''))).toBe(3);

    const res = await post(`${url}/chat/completions`, chat('x', { stream: false, max_tokens: 4 }));
    expect(res.headers.get('content-type')).toBe('application/json');
    const json = (await res.json()) as { object: string; choices: { message: { content: string }; finish_reason: string }[]; usage?: unknown };
    expect(json.object).toBe('chat.completion');
    expect(countMockTokens(json.choices[0]!.message.content)).toBe(4);
    expect(json.choices[0]!.finish_reason).toBe('length');
    expect(json.usage).toBeUndefined();
  });

  it('rejects bad requests like vLLM and fails on demand', async () => {
    const { url, server } = await start({}, (req) => (req.headers['x-user-id'] === 'doomed' ? { failStatus: 503 } : undefined));
    const shape = { message: expect.any(String), type: 'BadRequestError', param: null, code: 400 };
    const noMsgs = await post(`${url}/chat/completions`, { model: 'mock-model' });
    expect(noMsgs.status).toBe(400);
    expect(await noMsgs.json()).toEqual({ error: shape });
    expect((await post(`${url}/chat/completions`, chat('x', { max_tokens: 0 }))).status).toBe(400);
    const nf = await post(`${url}/chat/completions`, chat('x', { model: 'other' }));
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ error: { message: expect.any(String), type: 'NotFoundError', param: null, code: 404 } });
    const failed = await post(`${url}/chat/completions`, chat('x'), { 'x-user-id': 'doomed' });
    expect(failed.status).toBe(503);
    expect(((await failed.json()) as { error: { code: number } }).error.code).toBe(503);
    expect(server.requests.map((r) => r.status)).toEqual([400, 400, 404, 503]);
  });

  it('awkward framing still carries the same events', async () => {
    const { url } = await start({
      ttftMs: 0,
      itlMs: 1,
      crlf: true,
      splitWrites: true,
      commentEvery: 2,
      coalesce: 3,
      contentType: 'application/json',
      hugeChunkBytes: 5000,
    });
    const res = await post(`${url}/chat/completions`, chat('x', { max_tokens: 6, stream_options: { include_usage: true } }));
    expect(res.headers.get('content-type')).toBe('application/json');
    const r = await readAll(res, 0);
    expect(r.text).not.toMatch(/[^\r]\n/);
    expect(r.text.match(/: ping\r\n\r\n/g)).toHaveLength(3);
    const cs = chunks(r.text);
    const content = cs.slice(1, -1).map((c) => String(c.choices[0]!.delta!.content));
    expect(content).toHaveLength(6);
    expect(content[0]!.length).toBe(5000);
    expect(countMockTokens(content.join(''))).toBe(6);
    expect(dataEvents(r.text).at(-1)).toBe('[DONE]');
  });

  it('failure modes: reset, bare error blob, end without [DONE]', async () => {
    const { url, server } = await start({ ttftMs: 0, itlMs: 1, resetAfterTokens: 3 });
    const reset = await readAll(await post(`${url}/chat/completions`, chat('x', { max_tokens: 8 })), 0);
    expect(reset.error).toBeDefined();
    expect(chunks(reset.text).slice(1).map((c) => c.choices[0]!.delta!.content)).toHaveLength(3);

    server.setKnobs({ resetAfterTokens: -1, midStreamErrorAfterTokens: 2, tokensPerChunk: 4 });
    const err = await readAll(await post(`${url}/chat/completions`, chat('x', { max_tokens: 8 })), 0);
    expect(err.error).toBeUndefined();
    const lines = err.text.trimEnd().split('\n');
    expect(JSON.parse(lines[lines.length - 1]!)).toEqual({ error: { message: expect.any(String), code: 500 } });
    expect(countMockTokens(String(chunks(err.text)[1]!.choices[0]!.delta!.content))).toBe(2);
    expect(err.text).not.toContain('[DONE]');

    server.setKnobs({ midStreamErrorAfterTokens: -1, endWithoutDone: true, tokensPerChunk: 1 });
    const cut = await readAll(await post(`${url}/chat/completions`, chat('x', { max_tokens: 4 })), 0);
    expect(cut.error).toBeUndefined();
    expect(cut.text).not.toContain('[DONE]');
    expect(chunks(cut.text).every((c) => c.choices[0]!.finish_reason === null)).toBe(true);
  });

  it('reports prefix-cached tokens in 16-token blocks', async () => {
    const { url, server } = await start({ ttftMs: 0, itlMs: 0 });
    const cachedOf = async (prompt: string): Promise<number | undefined> => {
      const body = chat(prompt, { max_tokens: 1, stream_options: { include_usage: true } });
      const cs = chunks((await readAll(await post(`${url}/chat/completions`, body), 0)).text);
      return cs[cs.length - 1]!.usage!.prompt_tokens_details?.cached_tokens;
    };
    const base = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    expect(await cachedOf(base)).toBe(0);
    expect(await cachedOf(`${base} and more`)).toBe(32);
    expect(await cachedOf(`other ${base}`)).toBe(0);
    server.setKnobs({ cachedTokens: 'none' });
    expect(await cachedOf(base)).toBeUndefined();
  });

  it('close() ends in-flight streams instead of hanging', async () => {
    const { url } = await start({ ttftMs: 0, itlMs: 10_000 });
    const res = await post(`${url}/chat/completions`, chat('x', { max_tokens: 100 }));
    const reading = readAll(res, 0);
    await mock!.close();
    mock = undefined;
    expect((await reading).error).toBeDefined();
  });
});

describe('mock OpenAI server as a timing reference (bench/)', () => {
  let server: MockOpenAIServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('GET /mock/clock answers process.hrtime.bigint(), the clock every stamp uses', async () => {
    server = new MockOpenAIServer();
    await server.listen(0);
    const before = process.hrtime.bigint();
    const body = (await (await fetch(server.url.replace('/v1', MOCK_CLOCK_PATH))).json()) as { monotonic_ns: string };
    const after = process.hrtime.bigint();
    const ns = BigInt(body.monotonic_ns);
    expect(ns).toBeGreaterThanOrEqual(before);
    expect(ns).toBeLessThanOrEqual(after);
  });

  it('without retaining requests, hands every closed request with its own send stamps to onDone', async () => {
    const done: MockRequestInfo[] = [];
    let closed: () => void = () => undefined;
    const allClosed = new Promise<void>((resolve) => (closed = resolve));
    server = new MockOpenAIServer({ ttftMs: 20, itlMs: 5, cachedTokens: 'none' }, undefined, {
      retainRequests: false,
      onDone: (info) => {
        done.push(info);
        if (done.length === 2) closed();
      },
    });
    await server.listen(0);
    const url = server.url;
    const before = process.hrtime.bigint();
    const r = await readAll(await post(`${url}/chat/completions`, chat('one two three', { max_tokens: 4, stream_options: { include_usage: true } }), { 'x-user-id': '42' }), 0);
    expect(r.error).toBeUndefined();
    expect(await (await fetch(`${url}/models`)).json()).toMatchObject({ object: 'list' });
    await allClosed;
    expect(server.requests).toHaveLength(0);
    const gen = done.find((d) => d.path === '/v1/chat/completions')!;
    expect(gen.index).toBe(0);
    expect(done.find((d) => d.path === '/v1/models')!.index).toBe(1);
    expect(gen.headers['x-user-id']).toBe('42');
    expect(gen.status).toBe(200);
    expect(gen.outputTokens).toBe(4);
    // One stamp per content chunk, in order, each no earlier than its schedule (body read + TTFT + j * ITL).
    expect(gen.chunkSendNs).toHaveLength(4);
    expect(gen.receivedNs).toBeGreaterThan(before);
    gen.chunkSendNs.forEach((t, j) => {
      expect(t - gen.receivedNs).toBeGreaterThanOrEqual(20_000_000n + BigInt(j) * 5_000_000n);
      if (j > 0) expect(t).toBeGreaterThanOrEqual(gen.chunkSendNs[j - 1]!);
    });
    // cachedTokens 'none' keeps no prefix cache and reports none.
    const usage = chunks(r.text).at(-1)!.usage!;
    expect(usage.prompt_tokens_details).toBeUndefined();
  });

  it('mock-main --send-log writes one line per request with its truth, then a summary line on exit', async () => {
    const root = join(import.meta.dirname, '..', '..');
    if (!existsSync(join(root, 'dist', 'sim', 'spawn-server.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root });
    const { spawnServer } = (await import(join(root, 'dist', 'sim', 'spawn-server.js'))) as typeof import('../../src/sim/spawn-server.js');
    const dir = mkdtempSync(join(tmpdir(), 'mock-send-log-'));
    const log = join(dir, 'send.ndjson');
    const mockProc = await spawnServer('mock-main', ['--ttft-ms', '10', '--itl-ms', '2', '--send-log', log]);
    const before = process.hrtime.bigint();
    try {
      const r = await readAll(await post(`${mockProc.url}/chat/completions`, chat('hello there', { max_tokens: 3 }), { 'x-user-id': '7' }), 0);
      expect(r.error).toBeUndefined();
      // No wait for the request's close event (was a fixed 50 ms): the mock ends the response and its 'close'
      // follows in the same turn of its event loop, before it can handle the stop (a signal, stdin closing), and
      // stop() resolves only once the process has exited after writing its log.
    } finally {
      await mockProc.stop();
    }
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    rmSync(dir, { recursive: true, force: true });
    expect(lines).toHaveLength(2);
    const [req, summary] = lines as [Record<string, unknown>, Record<string, unknown>];
    expect(req).toMatchObject({ i: 0, path: '/v1/chat/completions', user: '7', status: 200, tokens: 3 });
    // recv is the mock's process.hrtime.bigint(): CLOCK_MONOTONIC, the same clock as this process's.
    expect(BigInt(req.recv as string)).toBeGreaterThan(before);
    const send = req.send as number[];
    expect(send).toHaveLength(3);
    send.forEach((d, j) => expect(d).toBeGreaterThanOrEqual(10e6 + j * 2e6));
    expect(summary).toMatchObject({ event: 'summary' });
    expect(summary.cpu_s).toBeGreaterThan(0);
    expect((summary.loop_delay_ms as { p99: number }).p99).toBeGreaterThanOrEqual(0);
  });
});

