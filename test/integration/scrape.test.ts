// The scraper over real loopback sockets: a hand-made Prometheus endpoint whose counters move by a known amount
// per scrape (series times, deltas, rates, resets, derived figures, the final scrape at stop), the simulated PD
// stack's engines and router (counter deltas equal the tokens served), every kind of failed scrape, a slow
// endpoint that must never see two scrapes at once, and `--scrape role=URL` validation.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { DERIVED_KEYS, SCRAPE_JITTER, Scraper, parseScrapeTarget, parseScrapeTargets, redactUrl, scrapeGapMs, startScraper } from '../../src/scrape/scraper.js';
import type { ScrapeRoleResult } from '../../src/scrape/types.js';
import { startStack, type RunningStack } from '../../src/sim/stack.js';

const servers: Server[] = [];
const stacks: RunningStack[] = [];
const scrapers: Scraper[] = [];
afterEach(async () => {
  await Promise.all(scrapers.splice(0).map((s) => s.stop()));
  await Promise.all(stacks.splice(0).map((s) => s.close()));
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/metrics`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Waits for what the scraper or a server reports (checked every 10 ms); the timeout is only a safety net. */
async function until(cond: () => boolean, what = 'condition', timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not reached within ${timeoutMs / 1000} s`);
    await sleep(10);
  }
}
const nowS = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;
const role = (roles: ScrapeRoleResult[], name: string): ScrapeRoleResult => {
  const r = roles.find((x) => x.role === name);
  if (!r) throw new Error(`no role ${name}`);
  return r;
};

/** Page number n (1-based): every value is a known function of n. */
function page(n: number): string {
  const lines = [
    '# HELP app:requests_total Requests.',
    '# TYPE app:requests_total counter',
    `app:requests_total{shard="a"} ${60 * n}`,
    `app:requests_total{shard="b"} ${40 * n}`,
    '# TYPE vllm:prefix_cache_hits_total counter',
    `vllm:prefix_cache_hits_total{engine="0"} ${30 * n}`,
    '# TYPE vllm:prefix_cache_queries_total counter',
    `vllm:prefix_cache_queries_total{engine="0"} ${100 * n}`,
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running{engine="0"} ${n}`,
    '# TYPE vllm:time_to_first_token_seconds histogram',
    `vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1"} ${n}`,
    `vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf"} ${n}`,
    `vllm:time_to_first_token_seconds_sum{engine="0"} ${0.05 * n}`,
    `vllm:time_to_first_token_seconds_count{engine="0"} ${n}`,
    // A server restart between scrapes 2 and 3: 50, 100, then 10, 20, 30, ...
    '# TYPE resetting_total counter',
    `resetting_total ${n <= 2 ? 50 * n : 10 * (n - 2)}`,
  ];
  // A counter created during the run (e.g. a new label set): absent from the first page.
  if (n >= 2) lines.push('# TYPE late_total counter', `late_total ${7 * n}`);
  return lines.join('\n') + '\n';
}

describe('scrape timing', () => {
  // A fixed period aliases with multi-round pacing's regular send grid: every scrape lands at the same phase of a
  // step, and a momentary queue of one reads as a queue that never drains (a false saturation verdict).
  it('draws each gap from interval x (1 +- SCRAPE_JITTER), averaging the interval', () => {
    expect(scrapeGapMs(2, 0)).toBeCloseTo(2000 * (1 - SCRAPE_JITTER), 9);
    expect(scrapeGapMs(2, 1)).toBeCloseTo(2000 * (1 + SCRAPE_JITTER), 9);
    expect(scrapeGapMs(2, 0.5)).toBeCloseTo(2000, 9);
    const n = 1000;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += scrapeGapMs(1, (i + 0.5) / n);
    expect(sum / n).toBeCloseTo(1000, 6);
  });
});

describe('Scraper against a plain Prometheus endpoint', () => {
  it('records series times, before/after, deltas (with a reset), rates, derived figures, and a final scrape at stop', async () => {
    let n = 0;
    let lastServedS = 0;
    const t0 = process.hrtime.bigint();
    const url = await serve((_req, res) => {
      n++;
      lastServedS = nowS(t0);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(page(n));
    });
    const scraper = startScraper({ targets: [{ role: 'engine', url }], intervalS: 0.05 }, t0);
    scrapers.push(scraper);
    await until(() => n >= 5, '5 scrapes served');
    const stopAtS = nowS(t0);
    const res = await scraper.stop();
    const N = n;
    expect(res.intervalS).toBe(0.05);
    const r = role(res.roles, 'engine');
    expect(r.url).toBe(url);
    expect(r.failures).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.scrapes).toBe(N);
    expect(r.timesS).toHaveLength(N);
    for (let i = 1; i < N; i++) expect(r.timesS[i] as number).toBeGreaterThan(r.timesS[i - 1] as number);
    expect(r.timesS[0] as number).toBeGreaterThanOrEqual(0);
    // The last point is the scrape stop() made after it was called.
    expect(r.timesS[N - 1] as number).toBeGreaterThanOrEqual(stopAtS);
    expect(lastServedS).toBeGreaterThanOrEqual(stopAtS);

    expect(r.before['app:requests_total']).toBe(100);
    expect(r.after['app:requests_total']).toBe(100 * N);
    expect(r.deltas['app:requests_total']).toBe(100 * (N - 1));
    expect(r.deltas['resetting_total']).toBe(10 * N + 30);
    expect(r.before).not.toHaveProperty('late_total');
    expect(r.deltas['late_total']).toBe(7 * N);
    expect(r.after['vllm:num_requests_running']).toBe(N);
    expect(r.deltas).not.toHaveProperty('vllm:num_requests_running');
    expect(r.deltas['vllm:time_to_first_token_seconds_count']).toBe(N - 1);
    expect(Object.keys(r.after).some((k) => k.endsWith('_bucket'))).toBe(false);

    // Key metrics only: app:requests_total is not one.
    expect(Object.keys(r.series).sort()).toEqual([
      'vllm:num_requests_running',
      'vllm:prefix_cache_hits_total',
      'vllm:prefix_cache_hits_total:rate',
      'vllm:prefix_cache_queries_total',
      'vllm:prefix_cache_queries_total:rate',
      'vllm:time_to_first_token_seconds:mean',
    ]);
    for (const xs of Object.values(r.series)) expect(xs).toHaveLength(N);
    expect(r.series['vllm:num_requests_running']).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    const rate = r.series['vllm:prefix_cache_hits_total:rate'] as (number | null)[];
    expect(rate[0]).toBeNull();
    for (let i = 1; i < N; i++) expect((rate[i] as number) * ((r.timesS[i] as number) - (r.timesS[i - 1] as number))).toBeCloseTo(30, 6);
    const ttft = r.series['vllm:time_to_first_token_seconds:mean'] as (number | null)[];
    expect(ttft[0]).toBeNull();
    for (let i = 1; i < N; i++) expect(ttft[i] as number).toBeCloseTo(0.05, 9);

    expect(Object.keys(r.derived).sort()).toEqual([...DERIVED_KEYS].sort());
    expect(r.derived.prefixCacheHitRate).toBeCloseTo(0.3, 9);
    expect(r.derived.ttftMeanMs).toBeCloseTo(50, 6);
    expect(r.derived.runningMean).toBeCloseTo((N + 1) / 2, 9);
    expect(r.derived.runningMax).toBe(N);
    expect(r.derived.itlMeanMs).toBeNull();
    expect(r.derived.kvUsagePeak).toBeNull();
    expect(r.derived.scrapeMalformedLines).toBe(0);
    // stop() is idempotent.
    expect(await scraper.stop()).toBe(res);
  });

  it('sends user:password from a programmatic URL as basic auth and never stores it', async () => {
    let auth: string | undefined;
    const url = await serve((req, res) => {
      auth = req.headers.authorization;
      res.end('x 1\n');
    });
    const withCreds = url.replace('http://', 'http://scraper:s3cret@');
    const scraper = new Scraper({ targets: [{ role: 'r', url: withCreds }], intervalS: 10 });
    scrapers.push(scraper);
    const res = await scraper.stop();
    const r = role(res.roles, 'r');
    expect(r.scrapes).toBe(1);
    expect(auth).toBe(`Basic ${Buffer.from('scraper:s3cret').toString('base64')}`);
    expect(r.url).toBe(url);
    expect(JSON.stringify(res)).not.toContain('s3cret');
    expect(redactUrl(withCreds)).toBe(url);
  });
});

describe('Scraper against the simulated PD stack', () => {
  it('prefill/decode/router counter deltas equal the tokens served, and the derived figures are sane', async () => {
    const stack = await startStack({ topology: 'pd', replicas: 1, prefill: 1, decode: 1, preset: 'mistral-7b-h100', link: 'rdma-400g', seed: 3, timeScale: 1, faults: {}, pdJsonContentType: false });
    stacks.push(stack);
    const prefillUrl = stack.engines.prefill?.[0];
    const decodeUrl = stack.engines.decode?.[0];
    if (!prefillUrl || !decodeUrl) throw new Error('stack without prefill/decode engines');
    const t0 = process.hrtime.bigint();
    // Engine and router URLs are API roots (/v1): the scraper reads their /metrics.
    const scraper = startScraper({ targets: [{ role: 'prefill', url: prefillUrl }, { role: 'decode', url: decodeUrl }, { role: 'router', url: stack.routerUrl }], intervalS: 0.05 }, t0);
    scrapers.push(scraper);
    await until(() => scraper.progress().every((p) => p.scrapes >= 1), 'a first scrape of every role');

    const N = 4;
    const maxTokens = 32;
    const answers = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const words = Array.from({ length: 200 + 40 * i }, (_, k) => `w${i}x${k}`).join(' ');
        const resp = await fetch(`${stack.routerUrl}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user-id': String(i) },
          body: JSON.stringify({ model: stack.servedModel, messages: [{ role: 'user', content: words }], max_tokens: maxTokens, stream: false }),
        });
        expect(resp.status).toBe(200);
        return (await resp.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
      }),
    );
    const prompt = answers.reduce((a, x) => a + x.usage.prompt_tokens, 0);
    const completion = answers.reduce((a, x) => a + x.usage.completion_tokens, 0);
    expect(completion).toBe(N * maxTokens);
    // One more periodic scrape of every role after the answers (was a fixed 120 ms sleep hoping for it), then
    // stop() takes the final one: at least 3 per role on any machine.
    const seen = scraper.progress().map((p) => p.scrapes);
    await until(() => scraper.progress().every((p, i) => p.scrapes > (seen[i] as number)), 'a scrape of every role after the answers');
    const res = await scraper.stop();

    const pre = role(res.roles, 'prefill');
    const dec = role(res.roles, 'decode');
    const rtr = role(res.roles, 'router');
    for (const r of [pre, dec, rtr]) {
      expect(r.failures, JSON.stringify(r.errors)).toBe(0);
      expect(r.scrapes).toBeGreaterThanOrEqual(3);
      expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    }
    // Prefill: every prompt token is queried; each is either computed or a prefix-cache hit; one token out.
    expect(pre.deltas['vllm:prefix_cache_queries_total']).toBe(prompt);
    expect((pre.deltas['vllm:prompt_tokens_total'] as number) + (pre.deltas['vllm:prefix_cache_hits_total'] as number)).toBe(prompt);
    expect(pre.deltas['vllm:generation_tokens_total']).toBe(N);
    expect(pre.deltas['vllm:request_success_total']).toBe(N);
    expect(pre.derived.generationTokens).toBe(N);
    // Decode: the whole answer; the transferred KV is not a prefix-cache query, only the last prompt token is recomputed.
    expect(dec.deltas['vllm:generation_tokens_total']).toBe(completion);
    expect(dec.derived.generationTokens).toBe(completion);
    expect(dec.deltas['vllm:prompt_tokens_total']).toBe(N);
    expect(dec.deltas['pdbench_sim:kv_transfers_total']).toBe(N);
    expect(dec.derived.prefixCacheHitRate).toBeNull();
    // The router's page shows both engines: its sums over label sets are the two engines together.
    expect(rtr.derived.generationTokens).toBe(N + completion);
    expect(rtr.derived.requestsSucceeded).toBe(2 * N);

    const hit = pre.derived.prefixCacheHitRate as number;
    expect(hit).toBeGreaterThanOrEqual(0);
    expect(hit).toBeLessThan(0.5);
    for (const r of [pre, dec]) {
      // One TTFT observation per request on each engine. (Its value is not asserted positive: when the machine
      // is so busy that the simulated engine runs behind real time, a step's nominal end can precede a
      // request's arrival stamp and the simulator records a negative TTFT.)
      expect(r.deltas['vllm:time_to_first_token_seconds_count']).toBe(N);
      expect(r.derived.ttftMeanMs).toBeCloseTo((1000 * (r.deltas['vllm:time_to_first_token_seconds_sum'] as number)) / N, 9);
      expect(Math.abs(r.derived.ttftMeanMs as number)).toBeLessThan(10_000);
      expect(r.derived.kvUsagePeak as number).toBeGreaterThanOrEqual(0);
      expect(r.derived.kvUsagePeak as number).toBeLessThanOrEqual(1);
      expect(r.derived.runningMean as number).toBeGreaterThanOrEqual(0);
      expect(r.derived.runningMax as number).toBeLessThanOrEqual(N);
      expect(r.derived.waitingMean as number).toBeGreaterThanOrEqual(0);
      expect(r.derived.promptTokensPerS as number).toBeGreaterThan(0);
      expect(r.series['vllm:generation_tokens_total']).toHaveLength(r.scrapes);
      // The stack is idle after the run: the final scrape sees nothing running.
      expect(r.after['vllm:num_requests_running']).toBe(0);
    }
    // ITL is observed on the engine that streams the answer: one gap per token after the first.
    expect(dec.deltas['vllm:inter_token_latency_seconds_count']).toBe(completion - N);
    expect(dec.derived.itlMeanMs as number).toBeGreaterThan(0);
    expect(pre.derived.itlMeanMs).toBeNull();
    expect(dec.derived.runningMax as number).toBeGreaterThanOrEqual(1);
    // The decode rate series integrates back to the tokens it generated.
    const rate = dec.series['vllm:generation_tokens_total:rate'] as (number | null)[];
    let integrated = 0;
    for (let i = 1; i < dec.timesS.length; i++) integrated += (rate[i] ?? 0) * ((dec.timesS[i] as number) - (dec.timesS[i - 1] as number));
    expect(integrated).toBeCloseTo(completion, 6);
  });
});

describe('Scraper failures', () => {
  it('counts refused connections, HTTP errors, timeouts, oversized and unparseable pages with their causes; stop() resolves', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const err500 = await serve((_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('boom: engine dead\n'));
    const hang = await serve(() => {
      // Never answers.
    });
    const big = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // Chunked, no content-length: the limit must hold while reading.
      for (let i = 0; i < 200; i++) res.write(`big_metric{i="${i}"} ${'1'.repeat(500)}\n`);
      res.end();
    });
    const html = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>\n<body>login</body>\n</html>\n'));
    const ok = await serve((_req, res) => res.end('# TYPE up gauge\nup 1\n'));
    // A generous timeout for the endpoints that answer (a busy CI machine must not turn them into timeouts);
    // the one that never answers gets its own scraper with a short one.
    const scraper = startScraper({
      targets: [
        { role: 'refused', url: `http://127.0.0.1:${deadPort}/metrics` },
        { role: 'err500', url: err500 },
        { role: 'big', url: big },
        { role: 'html', url: html },
        { role: 'ok', url: ok },
      ],
      intervalS: 0.05,
      timeoutMs: 2_000,
      maxBodyBytes: 64 * 1024,
    });
    const hanging = startScraper({ targets: [{ role: 'hang', url: hang }], intervalS: 0.05, timeoutMs: 200 });
    scrapers.push(scraper, hanging);
    // Until every failing role has failed twice and the good one has been scraped twice (was a fixed 300 ms sleep).
    await until(
      () => scraper.progress().every((p) => (p.role === 'ok' ? p.scrapes : p.failures) >= 2) && hanging.progress().every((p) => p.failures >= 2),
      'two failures of each failing role and two scrapes of the good one',
    );
    const [res, resHang] = await Promise.all([scraper.stop(), hanging.stop()]);
    const expectFailing = (name: string, cause: RegExp): void => {
      const r = role([...res.roles, ...resHang.roles], name);
      expect(r.scrapes, name).toBe(0);
      expect(r.failures, name).toBeGreaterThanOrEqual(2);
      expect(r.errors.reduce((a, e) => a + e.count, 0), name).toBe(r.failures);
      expect(r.errors[0]?.message, name).toMatch(cause);
      expect(r.timesS).toEqual([]);
      expect(r.before).toEqual({});
      expect(r.after).toEqual({});
      expect(r.derived.prefixCacheHitRate).toBeNull();
    };
    expectFailing('refused', /^connect error: .*ECONNREFUSED/);
    expectFailing('err500', /^HTTP 500: boom: engine dead$/);
    expectFailing('hang', /^timeout: no complete response within 200 ms$/);
    expectFailing('big', /^response body over 64 KiB: cut off$/);
    expectFailing('html', /^unparseable: 3 malformed lines and no samples/);
    const good = role(res.roles, 'ok');
    expect(good.failures).toBe(0);
    expect(good.scrapes).toBeGreaterThanOrEqual(2);
    expect(good.after).toEqual({ up: 1 });
  });
});

describe('Scraper pacing', () => {
  it('never overlaps two scrapes of a slow endpoint: ticks are skipped instead', async () => {
    let active = 0;
    let maxActive = 0;
    let requests = 0;
    const url = await serve((_req, res) => {
      requests++;
      active++;
      maxActive = Math.max(maxActive, active);
      res.on('close', () => active--);
      setTimeout(() => res.end(`# TYPE slow_total counter\nslow_total ${requests}\n`), 250);
    });
    const scraper = startScraper({ targets: [{ role: 'slow', url }], intervalS: 0.05, timeoutMs: 2_000 });
    scrapers.push(scraper);
    // Until the endpoint has answered twice and ticks were skipped meanwhile (was a fixed 1 s sleep, then a count
    // of 3..7 scrapes, which is how many 250 ms answers fit in that second on this machine).
    await until(() => requests >= 3 && (scraper.progress()[0]?.skippedTicks ?? 0) >= 5, 'three scrapes and five skipped ticks');
    const res = await scraper.stop();
    const r = role(res.roles, 'slow');
    expect(maxActive).toBe(1);
    expect(r.failures).toBe(0);
    expect(r.scrapes).toBe(requests);
    expect(r.scrapes).toBeGreaterThanOrEqual(3);
    // One at a time, each answer >= 250 ms: consecutive scrapes lie at least that far apart.
    for (let i = 1; i < r.timesS.length; i++) expect((r.timesS[i] as number) - (r.timesS[i - 1] as number)).toBeGreaterThan(0.2);
    expect(r.derived.scrapeSkippedTicks as number).toBeGreaterThanOrEqual(5);
  });
});

describe('parseScrapeTarget', () => {
  it('reads role=URL and points API roots at /metrics', () => {
    expect(parseScrapeTarget('prefill=http://10.0.0.5:8000')).toEqual({ role: 'prefill', url: 'http://10.0.0.5:8000/metrics' });
    expect(parseScrapeTarget('decode=http://localhost:8100/v1/')).toEqual({ role: 'decode', url: 'http://localhost:8100/metrics' });
    expect(parseScrapeTarget('router=https://router.example/custom/prom')).toEqual({ role: 'router', url: 'https://router.example/custom/prom' });
    expect(parseScrapeTarget('r.1_a-B=http://h:9/metrics?x=1#frag')).toEqual({ role: 'r.1_a-B', url: 'http://h:9/metrics?x=1' });
    // Only the first '=' splits: a query may contain more.
    expect(parseScrapeTarget('p=http://h/m?a=b')).toEqual({ role: 'p', url: 'http://h/m?a=b' });
  });

  it('rejects bad roles and URLs with a ConfigError on --scrape', () => {
    for (const bad of ['no-equals-sign', '=http://h', 'bad role=http://h', 'p/q=http://h', 'p=ftp://h/metrics', 'p=http://', 'p=not a url', 'p=', 'p=file:///etc/passwd']) {
      let caught: unknown;
      try {
        parseScrapeTarget(bad);
      } catch (err) {
        caught = err;
      }
      expect(caught, bad).toBeInstanceOf(ConfigError);
      const e = caught as ConfigError;
      expect(e.code).toBe('PDB_CONFIG');
      expect(e.issues[0]?.field).toBe('--scrape');
      expect(e.issues[0]?.value).toBe(bad);
      expect(e.issues[0]?.allowed).toMatch(/ROLE=URL/);
    }
  });

  it('rejects credentials in the URL and masks the password in the error', () => {
    for (const [text, shown] of [
      ['p=http://admin:s3cret@h:8000/metrics', 'p=http://admin:***@h:8000/metrics'],
      ['p=https://tok3n@h/metrics', 'p=https://***@h/metrics'],
      ['p=http://admin:s3cret@h:99999999/metrics', 'p=http://admin:***@h:99999999/metrics'],
      ['p=http://admin:s3=cret@h/metrics', 'p=http://admin:***@h/metrics'],
      ['http://admin:s3cret@h/m?a=b', 'http://admin:***@h/m?a=b'],
    ] as const) {
      let caught: unknown;
      try {
        parseScrapeTarget(text);
      } catch (err) {
        caught = err;
      }
      expect(caught, text).toBeInstanceOf(ConfigError);
      const e = caught as ConfigError;
      expect(e.issues[0]?.value).toBe(shown);
      expect(e.message).not.toMatch(/s3cret|tok3n/);
    }
  });

  it('parseScrapeTargets reports every problem at once, including a repeated role', () => {
    expect(parseScrapeTargets(['a=http://h:1', 'b=http://h:2'])).toHaveLength(2);
    let caught: unknown;
    try {
      parseScrapeTargets(['a=http://h:1', 'a=http://h:2', 'bad', 'c=ftp://x']);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const issues = (caught as ConfigError).issues;
    expect(issues).toHaveLength(3);
    expect(issues[0]?.allowed).toMatch(/"a" is repeated/);
  });

  it('Scraper rejects a bad interval', () => {
    expect(() => new Scraper({ targets: [], intervalS: 0 })).toThrow(ConfigError);
    expect(() => new Scraper({ targets: [], intervalS: Number.NaN })).toThrow(/--scrape-interval/);
  });
});
