// HTTPS targets over real loopback sockets: the mock OpenAI server behind a TLS-terminating proxy whose certificate
// is signed by a throw-away CA, generated here with openssl for each run of this file (nothing secret is committed;
// the CA lives in a temp directory and is gone afterwards). Without --ca-file or --insecure the preflight refuses the
// certificate (exit 4, naming the cause and both remedies); --ca-file trusts it for the run's pool, worker threads,
// the preflight, the metrics scraper and compare's targets; --insecure skips verification with one warning; a bad
// --ca-file stops before any traffic (exit 2). The API key never appears in any output.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, rootCertificates, type Server as TlsServer } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ServerTokenizer } from '../../src/client/server-tokenizer.js';
import { TargetClient, type TurnRequest } from '../../src/client/target-client.js';
import { TargetError } from '../../src/errors.js';
import { parseScrapeTargets, Scraper } from '../../src/scrape/scraper.js';
import { tlsSettings, trustedCas } from '../../src/util/tls.js';
import { ROOT, ensureBuilt } from '../helpers/build.js';
import { startMock, type StartedMock } from '../helpers/mock-openai.js';

const BIN = join(ROOT, 'bin', 'pd-bench.js');
const KEY = 'sk-tls-test-SECRET-4b1d';
const SMALL = ['--num-users', '2', '--num-rounds', '2', '--qps', '4', '--time', '1', '--answer-len', '4', '--shared-system-prompt', '10', '--user-history-prompt', '20'];

let dir: string;
let caFile: string;
let otherCaFile: string;
let key: string;
let cert: string;

/** A CA and a server certificate for 127.0.0.1 signed by it (EC keys: generated in milliseconds). */
function makeCertificates(into: string): void {
  const run = (args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: into, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=pd-bench test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(into, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext']);
  // A CA that signed nothing here: trusting it alone must not make the server trusted.
  run(['req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=pd-bench other CA', '-addext', 'basicConstraints=critical,CA:TRUE']);
}

beforeAll(() => {
  expect(spawnSync('openssl', ['version']).status, 'the test CA is generated with openssl, which must be on PATH').toBe(0);
  dir = mkdtempSync(join(tmpdir(), 'pd-bench-tls-'));
  makeCertificates(dir);
  caFile = join(dir, 'ca.pem');
  otherCaFile = join(dir, 'other-ca.pem');
  key = readFileSync(join(dir, 'server.key'), 'utf8');
  cert = readFileSync(join(dir, 'server.pem'), 'utf8');
  expect(ensureBuilt(join(ROOT, 'dist', 'cli', 'main.js')), 'dist/cli/main.js: build with npx tsc -p tsconfig.build.json').toBe(true);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cleanups: (() => Promise<void>)[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

function listening(server: TlsServer | HttpsServer, sockets: Set<Socket>): Promise<number> {
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** The mock behind a TLS-terminating proxy (the mock speaks plain HTTP): its https:// /v1 URL. */
async function httpsMock(): Promise<{ url: string; mock: StartedMock }> {
  const mock = await startMock({ ttftMs: 5, itlMs: 1 });
  cleanups.push(() => mock.close());
  const upstream = Number(new URL(mock.url).port);
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key, cert }, (down) => {
    const up = connect(upstream, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      // One side gone: the other goes too (the client may reset, the mock may close).
      s.on('error', () => (down.destroy(), up.destroy()));
    }
    down.pipe(up).pipe(down);
  });
  // A client that refuses the certificate aborts the handshake: expected here, not an error of the test.
  server.on('tlsClientError', () => {});
  const port = await listening(server, sockets);
  return { url: `https://127.0.0.1:${port}/v1`, mock };
}

/** An HTTPS server (the test certificate) answering /metrics with a Prometheus page and vLLM's /tokenize. */
async function httpsAux(): Promise<{ origin: string; hits: string[] }> {
  const hits: string[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpsServer({ key, cert }, (req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end('# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name="m"} 1\n');
      return;
    }
    let body = '';
    req.setEncoding('utf8').on('data', (s: string) => (body += s));
    req.on('end', () => {
      const text = String((JSON.parse(body) as { prompt?: unknown }).prompt ?? '');
      const tokens = text.split(/\s+/).filter((w) => w !== '').map((_, i) => i + 1);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ count: tokens.length, tokens, max_model_len: 4096 }));
    });
  });
  server.on('connection', (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  server.on('tlsClientError', () => {});
  const port = await listening(server, sockets);
  return { origin: `https://127.0.0.1:${port}`, hits };
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI in a child process; no NODE_EXTRA_CA_CERTS, the API key in OPENAI_API_KEY. */
function cli(args: string[], timeoutMs = 45_000): Promise<Exit> {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENAI_API_KEY: KEY };
  delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

function outDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pd-bench-tls-out-'));
  cleanups.push(async () => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Every file under `d`, read as text, must not contain the API key. */
function expectNoKeyIn(d: string): void {
  for (const e of readdirSync(d, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) expect(readFileSync(join(e.parentPath, e.name), 'utf8'), e.name).not.toContain(KEY);
  }
}

const generated = (m: StartedMock): number => m.server.requests.filter((r) => r.path !== '/v1/models').length;
/** Each recorded request's outcome ('ok', or the failure with its message), from requests.jsonl. */
const outcomes = (d: string): string[] =>
  readFileSync(join(d, 'requests.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { outcome: string; errorClass?: string; errorMessage?: string })
    .map((r) => (r.outcome === 'ok' ? 'ok' : `${r.outcome} ${r.errorClass ?? ''} ${r.errorMessage ?? ''}`));

describe('pd-bench run against an HTTPS target with a private CA', () => {
  it('without --ca-file or --insecure the preflight fails on the certificate: exit 4, the cause and both remedies', async () => {
    const { url, mock } = await httpsMock();
    const r = await cli(['run', '--base-url', url, ...SMALL, '--output-dir', outDir()]);
    expect(r.code, r.stderr).toBe(4);
    const line = r.stderr.split('\n').find((l) => l.startsWith('pd-bench: ')) ?? '';
    expect(line).toContain(`${url}/models`);
    expect(line).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
    expect(line).toContain('--ca-file');
    expect(line).toContain('--insecure');
    expect(line).toContain('NODE_EXTRA_CA_CERTS');
    expect(mock.server.requests).toHaveLength(0);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it('--ca-file trusts the CA for the preflight, the run over worker threads and an https:// --scrape endpoint', async () => {
    const { url, mock } = await httpsMock();
    const aux = await httpsAux();
    const out = outDir();
    const r = await cli(['run', '--base-url', url, ...SMALL, '--ca-file', caFile, '--workers', '2', '--scrape', `engine=${aux.origin}/metrics`, '--scrape-interval', '0.2', '--output-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('--insecure');
    const rows = outcomes(out);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((o) => o === 'ok'), rows.join('\n')).toBe(true);
    expect(generated(mock)).toBe(rows.length + 1); // and the preflight's short request
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      config: { caFile: string; insecure: boolean };
      server: { roles: { scrapes: number; failures: number; errors: { message: string }[] }[] } | null;
    };
    expect(summary.config).toMatchObject({ caFile, insecure: false });
    const role = summary.server?.roles[0];
    expect(role?.failures, JSON.stringify(role?.errors)).toBe(0);
    expect(role?.scrapes).toBeGreaterThanOrEqual(2);
    expect(r.stdout + r.stderr).not.toContain(KEY);
    expectNoKeyIn(out);
  });

  it('--insecure skips verification and says so, once', async () => {
    const { url, mock } = await httpsMock();
    const out = outDir();
    const r = await cli(['run', '--base-url', url, ...SMALL, '--insecure', '--output-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.includes('--insecure'))).toEqual([expect.stringMatching(/^warning: --insecure: TLS certificates are not verified/)]);
    expect(outcomes(out).every((o) => o === 'ok')).toBe(true);
    expect(generated(mock)).toBeGreaterThan(1);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it('a missing or non-PEM --ca-file is one line, exit 2, and nothing is sent', async () => {
    const { url, mock } = await httpsMock();
    const notPem = join(dir, 'not-a-cert.pem');
    writeFileSync(notPem, 'hello\n');
    const garbled = join(dir, 'garbled.pem');
    writeFileSync(garbled, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    for (const [path, why] of [
      [join(dir, 'missing.pem'), 'no such file'],
      [notPem, 'no PEM certificate'],
      [garbled, 'does not parse'],
      [dir, 'directory'],
    ] as const) {
      const r = await cli(['run', '--base-url', url, ...SMALL, '--ca-file', path, '--output-dir', outDir()]);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toContain('--ca-file');
      expect(lines[0]).toContain(why);
    }
    expect(mock.server.requests).toHaveLength(0);
  });
});

describe('pd-bench compare against HTTPS targets', () => {
  it('--ca-file is honoured for every target', async () => {
    const a = await httpsMock();
    const b = await httpsMock();
    const out = outDir();
    const r = await cli(['compare', '--target', `a=${a.url}`, '--target', `b=${b.url}`, ...SMALL, '--cooldown', '0', '--ca-file', caFile, '--output-dir', out], 90_000);
    expect(r.code, r.stderr).toBe(0);
    for (const t of ['a', 'b']) expect(outcomes(join(out, t)).every((o) => o === 'ok')).toBe(true);
    expect(generated(a.mock)).toBeGreaterThan(1);
    expect(generated(b.mock)).toBeGreaterThan(1);
    expectNoKeyIn(out);
  });

  it('without it, the first target fails the preflight on its certificate', async () => {
    const a = await httpsMock();
    const b = await httpsMock();
    const r = await cli(['compare', '--target', `a=${a.url}`, '--target', `b=${b.url}`, ...SMALL, '--cooldown', '0', '--output-dir', outDir()]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain('--ca-file');
    expect(a.mock.server.requests).toHaveLength(0);
  });
});

describe('each HTTPS client in-process', () => {
  const turn: TurnRequest = {
    id: 1,
    phase: 'measure',
    userId: 1,
    round: 1,
    intendedMs: 0,
    late: false,
    body: JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true }, max_tokens: 3 }),
    promptTokensEstimate: 1,
  };
  const client = (baseUrl: string, tls: ReturnType<typeof tlsSettings>): TargetClient => {
    const c = new TargetClient({ baseUrl, apiKey: KEY, endpoint: 'chat', connections: 2, requestTimeoutMs: 20_000, userIdHeader: 'x-user-id', t0: process.hrtime.bigint(), tls });
    cleanups.push(() => c.close());
    return c;
  };

  it('TargetClient: an unverifiable certificate is a connect_error naming it; with the CA the request is ok', async () => {
    const { url } = await httpsMock();
    const refused = await client(url, undefined).send(turn);
    expect(refused.outcome).toBe('failed');
    expect(refused.errorClass).toBe('connect_error');
    expect(refused.errorMessage).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
    expect((await client(url, tlsSettings({ caFile }, {})).send(turn)).outcome).toBe('ok');
    expect((await client(url, tlsSettings({ insecure: true }, {})).send(turn)).outcome).toBe('ok');
  });

  it('ServerTokenizer (/tokenize): refused with the remedies without trust, served with --ca-file', async () => {
    const aux = await httpsAux();
    const baseUrl = `${aux.origin}/v1`;
    const err = await ServerTokenizer.connect({ baseUrl, model: 'm', apiKey: KEY }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as Error).message).toContain('--ca-file');
    expect((err as Error).message).not.toContain(KEY);
    const tok = await ServerTokenizer.connect({ baseUrl, model: 'm', apiKey: KEY, tls: tlsSettings({ caFile }, {}) });
    try {
      expect(await tok.tokenize('one two three')).toEqual([1, 2, 3]);
    } finally {
      await tok.close();
    }
  });

  it('Scraper: an https:// endpoint fails with the remedy without trust, and is scraped with it', async () => {
    const aux = await httpsAux();
    const targets = parseScrapeTargets([`engine=${aux.origin}/metrics`]);
    const refused = await new Scraper({ targets, intervalS: 60 }).stop();
    expect(refused.roles[0]?.scrapes).toBe(0);
    expect(refused.roles[0]?.errors[0]?.message).toContain('--ca-file');
    const trusted = await new Scraper({ targets, intervalS: 60, tls: tlsSettings({ caFile }, {}) }).stop();
    expect(trusted.roles[0]?.failures).toBe(0);
    expect(trusted.roles[0]?.scrapes).toBe(1);
  });

  it('--ca-file adds to the trusted CAs: Node\'s bundled roots and NODE_EXTRA_CA_CERTS stay trusted', async () => {
    const { url } = await httpsMock();
    // Another CA in --ca-file, the server's CA only in NODE_EXTRA_CA_CERTS: still trusted.
    expect((await client(url, tlsSettings({ caFile: otherCaFile }, { NODE_EXTRA_CA_CERTS: caFile })).send(turn)).outcome).toBe('ok');
    const refused = await client(url, tlsSettings({ caFile: otherCaFile }, {})).send(turn);
    expect(refused.errorClass).toBe('connect_error');
    const cas = trustedCas(otherCaFile, {});
    expect(cas.slice(0, rootCertificates.length)).toEqual(rootCertificates);
    expect(cas.at(-1)?.trim()).toBe(readFileSync(otherCaFile, 'utf8').trim());
    expect(tlsSettings({ insecure: true }, {})).toEqual({ rejectUnauthorized: false });
    expect(tlsSettings({}, {})).toBeUndefined();
  });
});
