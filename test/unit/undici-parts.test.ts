// src/util/undici.ts loads undici file by file to keep start-up cheap: these pin that the parts are undici's own
// classes and that request() sends what undici's request() would, over a real socket.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as undici from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, Pool, request, undiciLoadedFrom } from '../../src/util/undici.js';

let server: Server;
let base: string;
const seen: { method?: string; url?: string; body: string; auth?: string }[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body, auth: req.headers.authorization });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ echo: body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('undici, loaded in parts', () => {
  it('loads the parts, not the whole package (a failure here means undici moved its files: update src/util/undici.ts)', () => {
    expect(undiciLoadedFrom).toBe('parts');
  });

  it('gives undici’s own classes', () => {
    expect(Pool).toBe(undici.Pool);
    expect(Agent).toBe(undici.Agent);
  });

  it('request() sends method, path with query, headers and body on the global agent', async () => {
    const res = await request(`${base}/v1/tokenize?x=1`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: '{"a":1}' });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ echo: '{"a":1}' });
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/v1/tokenize?x=1', body: '{"a":1}', auth: 'Bearer k' });
  });

  it('request() uses the dispatcher it is given, and a Pool has the request API', async () => {
    const agent = new Agent({ connections: 1 });
    const pool = new Pool(base, { connections: 1 });
    try {
      const viaAgent = await request(new URL(`${base}/metrics`), { method: 'GET', dispatcher: agent });
      await viaAgent.body.text();
      const viaPool = await pool.request({ path: '/models', method: 'GET' });
      await viaPool.body.text();
      expect(seen.slice(-2).map((s) => `${s.method} ${s.url}`)).toEqual(['GET /metrics', 'GET /models']);
    } finally {
      await agent.close();
      await pool.close();
    }
  });
});
