// Tests that run compiled code (the CLI as a child process, worker threads) rebuild dist/ when it is missing or
// older than src/, so they never check stale code. tsc exits non-zero on type errors elsewhere in src/ but still
// emits; only the output file matters here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

const stale = (file: string): boolean => !existsSync(file) || statSync(file).mtimeMs < newestMtime(join(ROOT, 'src'));

/**
 * Rebuilds dist/ if `file` (a path under dist/) is missing or older than any source; returns whether it exists.
 * Test files run in parallel: a lock directory keeps two of them from rewriting dist/ under each other's feet.
 */
export function ensureBuilt(file: string): boolean {
  if (!stale(file)) return true;
  const lock = join(ROOT, 'dist', '.build-lock');
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 110_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test file is building: wait for it (a lock older than 2 minutes is left over from a crash).
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (stale(file)) spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return existsSync(file);
}
