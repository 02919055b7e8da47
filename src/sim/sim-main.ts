// The simulated stack as its own process (so it never shares the harness's event loop). Prints one line
// {"event":"ready","port":N,...} when serving; exits on SIGTERM/SIGINT and, with --exit-on-stdin-close, when its
// parent goes (its stdin pipe closes, or it is handed to another parent), so it cannot outlive the harness that
// started it.
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import { watchParent } from '../util/parent-watch.js';
import { SIM_FLAGS, parseSimOptions } from './sim-options.js';
import { startStack } from './stack.js';

async function main(): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { 'exit-on-stdin-close': { type: 'boolean' } };
  for (const f of SIM_FLAGS) options[f.flag] = { type: f.arg ? 'string' : 'boolean' };
  let raw: Record<string, unknown>;
  try {
    raw = parseArgs({ options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    process.stderr.write(`sim: ${(err as Error).message}\n`);
    return 2;
  }
  let opts: ReturnType<typeof parseSimOptions>;
  try {
    opts = parseSimOptions(raw);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sim: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const stack = await startStack(opts, opts.port);
  const port = Number(new URL(stack.routerUrl).port);
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    stack.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (raw['exit-on-stdin-close'] === true) {
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.resume();
    // The pipe closes when the parent dies; the parent check also covers a pipe some other process still holds.
    watchParent(stop);
  }
  process.stdout.write(
    JSON.stringify({ event: 'ready', port, topology: stack.topology, gpus: stack.gpus, model: stack.servedModel, preset: stack.preset.name, link: stack.link?.name ?? null, engines: stack.engines }) + '\n',
  );
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`sim: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
