// `pd-bench` with no target: starts an embedded OpenAI-compatible server in its own process, runs the run-pd
// workload against it for a short time, prints the summary, writes results and stops the server.
// (The calibrated PD vs colocated simulator replaces the mock here once it exists.)
import { spawnServer } from '../sim/spawn-server.js';
import { runCommand, type RunCommandOptions, type RunCommandResult } from './run-command.js';

export const DEMO_DEFAULTS = { time: 20, ttftMs: 50, itlMs: 10 } as const;

export async function demoCommand(o: Omit<RunCommandOptions, 'scenario'> & { scenario?: string }): Promise<RunCommandResult> {
  const stderr = o.stderr ?? process.stderr;
  const server = await spawnServer('mock-main', ['--ttft-ms', String(DEMO_DEFAULTS.ttftMs), '--itl-ms', String(DEMO_DEFAULTS.itlMs), '--model', 'demo-model']);
  stderr.write(
    `pd-bench demo: no --base-url given, so an embedded mock server (TTFT ${DEMO_DEFAULTS.ttftMs} ms, ITL ${DEMO_DEFAULTS.itlMs} ms) runs at ${server.url}\n` +
      `point pd-bench at your router with: npx pd-bench run --base-url http://localhost:30080/v1 --scenario run-pd\n`,
  );
  try {
    return await runCommand({
      ...o,
      scenario: o.scenario ?? 'run-pd',
      flags: { time: DEMO_DEFAULTS.time, ...o.flags, 'base-url': server.url },
      label: 'demo',
    });
  } finally {
    await server.stop();
  }
}
