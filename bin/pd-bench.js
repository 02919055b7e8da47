#!/usr/bin/env node
// Shim: the CLI lives in the compiled TypeScript (built by `npm install` through the prepare script).
import { availableParallelism } from 'node:os';

// On one CPU (a 1-vCPU container, or pinned with taskset) V8's concurrent GC threads share the core with the event
// loop and stall it in 16-28 ms steps, which lands in the measured TTFT and ITL tails (bench/RESULTS.md, finding 4).
// `--single-threaded-gc` keeps each step short, but V8 takes it only at start-up, so pd-bench starts itself again
// with it. PD_BENCH_SINGLE_THREADED_GC=0 turns this off, =1 asks for it on any number of CPUs.
const gcMode = process.env.PD_BENCH_SINGLE_THREADED_GC;
// Not on Windows: there a detached child gets a console window of its own.
const wantSingleThreadedGc = process.platform !== 'win32' && (gcMode === '1' || (gcMode !== '0' && availableParallelism() === 1));
if (wantSingleThreadedGc && !process.execArgv.includes('--single-threaded-gc')) {
  // The launcher watches npm for the run; the relaunched run watches the launcher.
  await watchPackageRunner();
  process.exitCode = await relaunch(['--single-threaded-gc', ...process.execArgv]);
} else {
  if (process.env.PD_BENCH_LAUNCHER_IPC === '1' && process.channel) watchLauncher();
  else await watchPackageRunner();
  await runCli();
}

/**
 * In the relaunched run: if the launcher dies without passing a signal on (kill -9, the OOM killer), the IPC
 * channel closes; stop as on SIGTERM, so the run writes its results rather than going on alone in its own session.
 */
function watchLauncher() {
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

/**
 * Started by npm or npx, which do not pass a `kill` on to what they started (`kill <pid of npx>` left a
 * `pd-bench sim` serving): when npm goes, however it went, stop as on SIGTERM, as the relaunched run does when its
 * launcher goes. In the launcher the SIGTERM is passed on to the run. Started from a shell, nothing is watched.
 */
async function watchPackageRunner() {
  let watch;
  try {
    watch = await import('../dist/util/parent-watch.js');
  } catch (err) {
    // Without the build there is nothing to run either; runCli (or the relaunched run) says what is missing.
    if (err && err.code === 'ERR_MODULE_NOT_FOUND') return;
    throw err;
  }
  watch.watchPackageRunner(() => process.kill(process.pid, 'SIGTERM'));
}

async function runCli() {
  let cli;
  try {
    cli = await import('../dist/cli/main.js');
  } catch (err) {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
      process.stderr.write('pd-bench: the build output is missing; run `npm install` (or `npm run build`) first\n');
      process.exit(2);
    }
    throw err;
  }
  const code = await cli.main(process.argv);
  process.exitCode = code;
  // Everything is closed by now; if a stray handle kept the loop alive, do not hang the shell.
  setTimeout(() => process.exit(code), 2000).unref();
}

/** Runs this script again under the given node flags and resolves with its exit code. */
async function relaunch(nodeFlags) {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const { constants } = await import('node:os');
  // Its own process group, so a terminal's Ctrl-C reaches only this process, which passes each signal on once
  // (the CLI takes a second one within a second as the same interrupt, not as "force quit"). The IPC channel
  // only tells the run when this process is gone.
  const child = spawn(process.execPath, [...nodeFlags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
    env: { ...process.env, PD_BENCH_LAUNCHER_IPC: '1' },
  });
  const forward = (sig) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, forward);
  return new Promise((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`pd-bench: could not start node with ${nodeFlags.join(' ')}: ${err.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}
