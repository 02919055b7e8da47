// The mock's maxConcurrency knob over real sockets: a server of C slots and a fixed service time has a capacity
// known by construction (C / S), which is what proves that a capacity search finds it. Asserted here are the
// behaviours that claim rests on (never more than C served at once, FIFO, every answer whole, a client that leaves
// the queue never takes a slot, 0 = unlimited), never speeds: the machine is shared and busy. Where a request must
// stay in service for as long as a check needs, it is held by a one-minute TTFT and its client cut, not by timing.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { MockOpenAIServer, countMockTokens, startMock, validateMockKnobs } from '../helpers/mock-openai.js';
import type { MockKnobs, MockPerRequest, MockRequestInfo, StartedMock } from '../helpers/mock-openai.js';

let mock: StartedMock | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

async function start(knobs: Partial<MockKnobs>, perRequest?: MockPerRequest): Promise<StartedMock> {
  mock = await startMock(knobs, perRequest);
  return mock;
}

interface Answer {
  status: number;
  text: string;
  error?: Error;
}

interface Call {
  done: Promise<Answer>;
  /** Whether any response (even its headers) reached the client. */
  responded(): boolean;
  /** Cuts the connection, as a client giving up does. */
  abort(): void;
}

/** A POST on its own connection (no pool, so one cut reaches exactly one request); never rejects. */
function post(base: string, path: string, body: unknown): Call {
  const u = new URL(`${base}${path}`);
  let responded = false;
  const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false, headers: { 'content-type': 'application/json' } });
  const done = new Promise<Answer>((resolve) => {
    req.on('response', (res) => {
      responded = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', (error) => resolve({ status: res.statusCode ?? 0, text, error }));
    });
    req.on('error', (error) => resolve({ status: 0, text: '', error }));
  });
  req.end(JSON.stringify(body));
  return { done, responded: () => responded, abort: () => req.destroy() };
}

const chat = (content: string, maxTokens: number, stream = true): Record<string, unknown> => ({
  model: 'mock-model',
  messages: [{ role: 'user', content }],
  max_tokens: maxTokens,
  stream,
});

/** Answer tokens of an SSE chat stream, and whether it ended with [DONE]. */
function streamed(text: string): { tokens: number; done: boolean } {
  const data = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
  let tokens = 0;
  for (const d of data) {
    if (d === '[DONE]') continue;
    const c = JSON.parse(d) as { choices: { delta?: { content?: string | null } }[] };
    tokens += countMockTokens(c.choices[0]?.delta?.content ?? '');
  }
  return { tokens, done: data.at(-1) === '[DONE]' };
}

/** Polls `cond` on this event loop; the bound only turns a hang into a clear failure, it is not a speed claim. */
async function until(cond: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const generations = (s: MockOpenAIServer): MockRequestInfo[] => s.requests.filter((r) => r.path === '/v1/chat/completions');
const promptOf = (info: MockRequestInfo): string => (info.body as { messages: { content: string }[] }).messages[0]?.content ?? '';
/** A request whose prompt says 'hold' stays before its first token for a minute: in service until its client leaves. */
const holdLong: MockPerRequest = (info) => (promptOf(info).startsWith('hold') ? { ttftMs: 60_000 } : undefined);

describe('mock maxConcurrency', () => {
  it('serves at most C at once, in FIFO order of arrival, every answer whole', async () => {
    // S = 100 + 4 * 10 = 140 ms nominal; arrivals ~10 ms apart, so later ones queue unless the machine stalls for S.
    const { url, server } = await start({ ttftMs: 100, itlMs: 10, maxConcurrency: 2 });
    const calls: Call[] = [];
    for (let i = 0; i < 6; i++) {
      calls.push(post(url, '/chat/completions', chat(`request ${i}`, 5)));
      // Each is read by the server before the next is sent, so arrival order is known; the gap keeps the due
      // times of first tokens apart by more than a timer's granularity.
      await until(() => generations(server).filter((r) => r.receivedNs > 0n).length === i + 1, `request ${i} to arrive`);
      await sleep(10);
    }
    const answers = await Promise.all(calls.map((c) => c.done));
    for (const a of answers) {
      expect(a.error).toBeUndefined();
      expect(a.status).toBe(200);
      expect(streamed(a.text)).toEqual({ tokens: 5, done: true });
    }
    await until(() => server.load().serving === 0, 'every slot to free');
    expect(server.load()).toEqual({ serving: 0, queued: 0, maxServing: 2, served: 6 });

    const infos = generations(server);
    expect(infos.map(promptOf)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `request ${i}`));
    for (const info of infos) {
      expect(info.chunkSendNs).toHaveLength(5);
      expect(info.outputTokens).toBe(5);
      expect(info.admittedNs).toBeGreaterThanOrEqual(info.receivedNs);
      // TTFT counts from the service start, not from arrival.
      expect(info.chunkSendNs[0]).toBeGreaterThanOrEqual(info.admittedNs + 100_000_000n);
    }
    for (let i = 1; i < infos.length; i++) {
      const [prev, cur] = [infos[i - 1] as MockRequestInfo, infos[i] as MockRequestInfo];
      expect(cur.receivedNs).toBeGreaterThan(prev.receivedNs);
      expect(cur.admittedNs).toBeGreaterThanOrEqual(prev.admittedNs);
      expect(cur.chunkSendNs[0]).toBeGreaterThan(prev.chunkSendNs[0] as bigint); // first tokens in arrival order
    }
    // The first two had free slots; a later one waited (the queue was used, so the checks above mean something).
    expect(infos.slice(0, 2).every((r) => r.admittedNs === r.receivedNs)).toBe(true);
    expect(infos.slice(2).some((r) => r.admittedNs > r.receivedNs)).toBe(true);
  });

  it('a queued request whose client leaves gives up its place and never takes a slot', async () => {
    const { url, server } = await start({ ttftMs: 20, itlMs: 1, maxConcurrency: 1 }, holdLong);
    const a = post(url, '/chat/completions', chat('hold a', 3));
    await until(() => server.load().serving === 1, 'A in service');
    const b = post(url, '/chat/completions', chat('b', 3));
    await until(() => server.load().queued === 1, 'B queued');
    const c = post(url, '/chat/completions', chat('c', 3));
    await until(() => server.load().queued === 2, 'C queued');
    expect(server.load()).toEqual({ serving: 1, queued: 2, maxServing: 1, served: 1 });

    b.abort();
    await until(() => server.load().queued === 1, 'B to leave the queue');
    expect(server.load()).toMatchObject({ serving: 1, served: 1 });
    expect(c.responded()).toBe(false); // queued: connection accepted, nothing sent, not even headers

    a.abort(); // frees the only slot: C, not B, takes it
    const answer = await c.done;
    expect(answer.status).toBe(200);
    expect(streamed(answer.text)).toEqual({ tokens: 3, done: true });
    await until(() => server.load().serving === 0, 'the slot to free');
    expect(server.load()).toEqual({ serving: 0, queued: 0, maxServing: 1, served: 2 });

    expect(b.responded()).toBe(false);
    expect((await b.done).error).toBeDefined();
    const [ia, ib, ic] = generations(server) as [MockRequestInfo, MockRequestInfo, MockRequestInfo];
    expect(ia.admittedNs).toBe(ia.receivedNs);
    expect(ib).toMatchObject({ admittedNs: 0n, status: 0, outputTokens: 0, chunkSendNs: [] });
    expect(ic.admittedNs).toBeGreaterThan(ic.receivedNs);
    expect(ic.outputTokens).toBe(3);
  });

  it('raising maxConcurrency with setKnobs serves the waiting requests at once; stream: false queues too', async () => {
    const { url, server } = await start({ ttftMs: 10, itlMs: 1, maxConcurrency: 1 }, holdLong);
    const a = post(url, '/chat/completions', chat('hold a', 2));
    await until(() => server.load().serving === 1, 'A in service');
    const b = post(url, '/chat/completions', chat('b', 4, false));
    await until(() => server.load().queued === 1, 'B queued');
    server.setKnobs({ maxConcurrency: 2 });
    expect(server.load()).toMatchObject({ serving: 2, queued: 0, served: 2 });
    const answer = await b.done;
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text) as { choices: { message: { content: string } }[]; usage: { completion_tokens: number } };
    expect(body.usage.completion_tokens).toBe(4);
    expect(countMockTokens(body.choices[0]?.message.content ?? '')).toBe(4);
    a.abort();
    await until(() => server.load().serving === 0, 'A to leave');
    expect(server.load()).toEqual({ serving: 0, queued: 0, maxServing: 2, served: 2 });
  });

  it('maxConcurrency 0 (the default) serves every request on arrival, as before', async () => {
    const { url, server } = await start({ ttftMs: 20, itlMs: 2 }, holdLong);
    // Six held at once: all in service together, none queued.
    const held = [0, 1, 2, 3, 4, 5].map((i) => post(url, '/chat/completions', chat(`hold ${i}`, 2)));
    await until(() => server.load().serving === 6, 'all six in service');
    expect(server.load()).toEqual({ serving: 6, queued: 0, maxServing: 6, served: 6 });
    await until(() => held.every((c) => c.responded()), 'headers of all six'); // each got its headers at once
    for (const c of held) c.abort();
    await until(() => server.load().serving === 0, 'the held ones to leave');

    const answers = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => post(url, '/chat/completions', chat(`free ${i}`, 4)).done));
    for (const a of answers) expect(streamed(a.text)).toEqual({ tokens: 4, done: true });
    for (const info of generations(server)) expect(info.admittedNs).toBe(info.receivedNs);
    for (const info of generations(server).slice(6)) expect(info.chunkSendNs[0]).toBeGreaterThanOrEqual(info.receivedNs + 20_000_000n);
    expect(server.load()).toMatchObject({ queued: 0, served: 12 });
  });

  it('rejects a maxConcurrency that is not an integer >= 0, and any per-request override of it', async () => {
    for (const bad of [-1, 1.5, 'x'] as unknown as number[]) {
      expect(() => validateMockKnobs({ maxConcurrency: bad })).toThrow(`mock knob maxConcurrency=${JSON.stringify(bad)}: expected an integer >= 0`);
      expect(() => new MockOpenAIServer({ maxConcurrency: bad })).toThrow(RangeError);
    }
    expect(validateMockKnobs({ maxConcurrency: 0 })).toEqual({ maxConcurrency: 0 });
    const { url, server } = await start({ maxConcurrency: 1 }, () => ({ maxConcurrency: 3 }));
    expect(() => server.setKnobs({ maxConcurrency: -1 })).toThrow(/expected an integer >= 0/);
    const answer = await post(url, '/chat/completions', chat('hi', 2)).done;
    expect(answer.status).toBe(500);
    expect(answer.text).toMatch(/maxConcurrency is server-wide/);
    expect(server.load()).toMatchObject({ served: 0, queued: 0 });
  });
});
