// Stand-alone mock server process for demos and benchmarks: one flag per MockKnobs field (kebab-case),
// prints exactly one {"event":"ready","port":N} line on stdout once listening, exits cleanly on signals.
// With --send-log PATH it writes the server's own timing truth for every request as NDJSON (the benchmark
// suite compares pd-bench's stamps with it); it keeps no per-request state itself, so memory stays flat.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { DEFAULT_MOCK_KNOBS, MockOpenAIServer } from './mock-server.js';
import type { MockKnobs, MockRequestInfo } from './mock-server.js';
import { BatchedFile } from '../util/batched-file.js';
import { watchParent } from '../util/parent-watch.js';

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

// Flags derive from the defaults table so a new knob is a new flag without touching this file.
const options: NonNullable<ParseArgsConfig['options']> = {
  port: { type: 'string', default: '0' },
  host: { type: 'string', default: '127.0.0.1' },
  'exit-on-stdin-close': { type: 'boolean', default: false },
  'send-log': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
};
for (const [key, def] of Object.entries(DEFAULT_MOCK_KNOBS)) {
  options[kebab(key)] = { type: typeof def === 'boolean' ? 'boolean' : 'string' };
}

function usage(): string {
  const lines = [
    'usage: mock-main [--port N] [--host H] [--exit-on-stdin-close] [--send-log PATH] [knob flags]',
    '  --send-log PATH  one JSON line per request when its response closes: {"i","path","user","status","recv","wait","send","tokens"};',
    '                   recv is process.hrtime.bigint() when the body was read (a decimal string, ns), wait the ns from recv',
    '                   to its service start (> 0 only when it queued for --max-concurrency; null if never served), send',
    '                   the ns from recv to each content chunk\'s write; a last {"event":"summary"} line has the loop delay and CPU',
    'knob flags (default; write negative values as --flag=-1):',
  ];
  for (const [key, def] of Object.entries(DEFAULT_MOCK_KNOBS)) lines.push(`  --${kebab(key)}  (${String(def)})`);
  return lines.join('\n') + '\n';
}

function parseKnobs(values: Record<string, unknown>): Partial<MockKnobs> {
  const knobs: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(DEFAULT_MOCK_KNOBS)) {
    const v = values[kebab(key)];
    if (v === undefined) continue;
    if (typeof def === 'number') {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
      if (!Number.isFinite(n)) throw new RangeError(`--${kebab(key)}: expected a number, got ${JSON.stringify(v)}`);
      knobs[key] = n;
    } else knobs[key] = v;
  }
  return knobs as Partial<MockKnobs>; // the server validates every value
}

async function main(): Promise<void> {
  let values: Record<string, unknown>;
  let server: MockOpenAIServer;
  let port: number;
  let log: BatchedFile | undefined;
  try {
    values = parseArgs({ options, strict: true, allowPositionals: false }).values;
    if (values.help === true) {
      process.stdout.write(usage());
      return;
    }
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`--port: expected 0-65535, got ${String(values.port)}`);
    const path = values['send-log'];
    log = typeof path === 'string' && path !== '' ? new BatchedFile(path) : undefined;
    const logger = log;
    server = new MockOpenAIServer(parseKnobs(values), undefined, { retainRequests: false, onDone: logger ? (info) => logger.write(sendLine(info)) : undefined });
  } catch (err) {
    process.stderr.write(`mock-main: ${err instanceof Error ? err.message : String(err)}\n${usage()}`);
    process.exitCode = 2;
    return;
  }

  const bound = await server.listen(port, String(values.host));
  const loop = log ? monitorEventLoopDelay({ resolution: 1 }) : undefined;
  loop?.enable();
  const wall0 = process.hrtime.bigint();
  const finishLog = (done: () => void): void => {
    if (!log) {
      done();
      return;
    }
    const cpu = process.cpuUsage(); // the whole process life, all threads
    const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3;
    const summary = {
      event: 'summary',
      wall_s: Number(process.hrtime.bigint() - wall0) / 1e9,
      cpu_s: (cpu.user + cpu.system) / 1e6,
      max_rss_bytes: process.resourceUsage().maxRSS * 1024,
      // monitorEventLoopDelay records whole sampling intervals: the 1 ms resolution itself is not delay.
      loop_delay_ms: loop && loop.count > 0 ? { p50: ms(loop.percentile(50) - 1e6), p99: ms(loop.percentile(99) - 1e6), max: ms(loop.max - 1e6) } : null,
    };
    log.write(`${JSON.stringify(summary)}\n`);
    log.close();
    done();
  };
  let stopping = false;
  const stop = (fromSignal: boolean): void => {
    if (stopping) {
      if (fromSignal) process.exit(1); // a second signal means the user is done waiting
      return;
    }
    stopping = true;
    server.close().then(
      () => finishLog(() => process.exit(0)),
      () => finishLog(() => process.exit(1)),
    );
  };
  process.on('SIGTERM', () => stop(true));
  process.on('SIGINT', () => stop(true));
  // A parent that dies without signalling still closes our stdin, so the mock never outlives it; the parent check
  // also covers a pipe some other process still holds.
  if (values['exit-on-stdin-close'] === true) {
    process.stdin.on('end', () => stop(false));
    process.stdin.on('close', () => stop(false));
    process.stdin.resume();
    watchParent(() => stop(false));
  }
  process.stdout.write(`${JSON.stringify({ event: 'ready', port: bound })}\n`);
}

/**
 * One NDJSON line per closed request; stamps of the chunks as ns after `recv` keep the lines short. `wait` splits a
 * queued request's time (--max-concurrency) from its service, whose TTFT counts from its start.
 */
function sendLine(info: MockRequestInfo): string {
  const recv = info.receivedNs;
  const wait = info.admittedNs > 0n ? String(info.admittedNs - recv) : 'null';
  let send = '';
  for (const t of info.chunkSendNs) send += (send ? ',' : '') + String(t - recv);
  const user = info.headers['x-user-id'];
  return (
    `{"i":${info.index},"path":${JSON.stringify(info.path)},"user":${JSON.stringify(typeof user === 'string' ? user : null)},` +
    `"status":${info.status},"recv":"${recv}","wait":${wait},"send":[${send}],"tokens":${info.outputTokens}}\n`
  );
}


main().catch((err: unknown) => {
  process.stderr.write(`mock-main: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
