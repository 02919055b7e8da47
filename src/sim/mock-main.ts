// Stand-alone mock server process for demos and benchmarks: one flag per MockKnobs field (kebab-case),
// prints exactly one {"event":"ready","port":N} line on stdout once listening, exits cleanly on signals.

import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { DEFAULT_MOCK_KNOBS, MockOpenAIServer } from './mock-server.js';
import type { MockKnobs } from './mock-server.js';

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

// Flags derive from the defaults table so a new knob is a new flag without touching this file.
const options: NonNullable<ParseArgsConfig['options']> = {
  port: { type: 'string', default: '0' },
  host: { type: 'string', default: '127.0.0.1' },
  'exit-on-stdin-close': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};
for (const [key, def] of Object.entries(DEFAULT_MOCK_KNOBS)) {
  options[kebab(key)] = { type: typeof def === 'boolean' ? 'boolean' : 'string' };
}

function usage(): string {
  const lines = ['usage: mock-main [--port N] [--host H] [--exit-on-stdin-close] [knob flags]', 'knob flags (default; write negative values as --flag=-1):'];
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
  try {
    values = parseArgs({ options, strict: true, allowPositionals: false }).values;
    if (values.help === true) {
      process.stdout.write(usage());
      return;
    }
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`--port: expected 0-65535, got ${String(values.port)}`);
    server = new MockOpenAIServer(parseKnobs(values));
  } catch (err) {
    process.stderr.write(`mock-main: ${err instanceof Error ? err.message : String(err)}\n${usage()}`);
    process.exitCode = 2;
    return;
  }

  const bound = await server.listen(port, String(values.host));
  let stopping = false;
  const stop = (fromSignal: boolean): void => {
    if (stopping) {
      if (fromSignal) process.exit(1); // a second signal means the user is done waiting
      return;
    }
    stopping = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop(true));
  process.on('SIGINT', () => stop(true));
  // A parent that dies without signalling still closes our stdin, so the mock never outlives it.
  if (values['exit-on-stdin-close'] === true) {
    process.stdin.on('end', () => stop(false));
    process.stdin.on('close', () => stop(false));
    process.stdin.resume();
  }
  process.stdout.write(`${JSON.stringify({ event: 'ready', port: bound })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`mock-main: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
