// Live progress on stderr: a cli-progress bar on a TTY, a plain line every 10 s otherwise (CI logs).
import { createRequire } from 'node:module';
import type { RunProgress } from '../run/options.js';

// cli-progress is loaded only for a bar on a TTY (~0.03 CPU-s at start-up otherwise spent for nothing in CI,
// worker threads and pods).
type CliProgress = typeof import('cli-progress');
const loadCliProgress = (): CliProgress => createRequire(import.meta.url)('cli-progress') as CliProgress;

export interface ProgressView {
  update(p: RunProgress): void;
  /** Print a line without breaking the bar. */
  log(line: string): void;
  stop(): void;
}

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr, plainEveryS = 10): ProgressView {
  if (stream.isTTY && !process.env.CI) {
    const cliProgress = loadCliProgress();
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {elapsed}/{window}s | {phase} | done {done}/{launched} | in flight {inFlight} | errors {errors}`,
        hideCursor: true,
        clearOnComplete: true,
        barsize: 24,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const payload = { elapsed: p.elapsedS.toFixed(0), window: p.launchWindowS.toFixed(0), phase: p.phase, done: p.done, launched: p.launched, inFlight: p.inFlight, errors: p.errors };
        if (!started) {
          bar.start(Math.max(p.launchWindowS, 1), 0, payload);
          started = true;
        }
        bar.update(Math.min(p.elapsedS, p.launchWindowS), payload);
      },
      log(line) {
        if (started) {
          stream.write('\r\x1b[2K' + line + '\n');
          bar.render();
        } else stream.write(line + '\n');
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = -Infinity;
  return {
    update(p) {
      if (p.elapsedS - last < plainEveryS) return;
      last = p.elapsedS;
      stream.write(`${label} ${p.phase} ${p.elapsedS.toFixed(0)}/${p.launchWindowS.toFixed(0)}s: done ${p.done}/${p.launched}, in flight ${p.inFlight}, errors ${p.errors}\n`);
    },
    log(line) {
      stream.write(line + '\n');
    },
    stop() {},
  };
}
