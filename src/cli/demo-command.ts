// `pd-bench` with no target: starts two simulated stacks of the same GPU count in their own processes — a
// 1P1D PD-disaggregated one and a colocated one with 2 replicas — runs the same run-pd workload (same seed,
// same users, same schedule) against each in turn through `compare`: paired statistics, SLO goodput, the
// verdict, comparison.csv and report.html. Stops the simulators on every exit path.
import { join, resolve } from 'node:path';
import { spawnServer, type SpawnedServer } from '../sim/spawn-server.js';
import { compareCommand, planCompare, type CompareFlags } from './compare-command.js';
import { defaultRunId, type RunCommandOptions, type RunCommandResult } from './run-command.js';

/** Short enough that both runs, start-up and drain finish within two minutes. */
export const DEMO_TIME_S = 40;
export const DEMO_COOLDOWN_S = 2;
/** NVIDIA Dynamo's short-context goodput recipe (TTFT 2 s, ITL 25 ms): tight enough that ITL tails matter. */
export const DEMO_SLO = 'dynamo-short';

export const DEMO_STACKS = [
  { name: 'colocated', args: ['--topology', 'colocated', '--replicas', '2'] },
  { name: 'pd', args: ['--topology', 'pd', '--prefill', '1', '--decode', '1'] },
] as const;

/** `stack:role=URL` for each engine a simulated stack reported (role-N when a role has several). */
export function engineScrapes(stack: string, engines: unknown): string[] {
  if (!engines || typeof engines !== 'object') return [];
  return Object.entries(engines as Record<string, unknown>).flatMap(([role, urls]) =>
    Array.isArray(urls) ? urls.map((u, i) => `${stack}:${urls.length > 1 ? `${role}-${i}` : role}=${String(u)}`) : [],
  );
}

/** The comparison the demo runs over its stacks (one per DEMO_STACKS entry, in order). */
function demoCompareFlags(stacks: readonly Pick<SpawnedServer, 'url' | 'ready'>[]): CompareFlags {
  return {
    target: DEMO_STACKS.map((s, i) => `${s.name}=${stacks[i]?.url}${stacks[i]?.ready.gpus !== undefined ? `,gpus=${String(stacks[i]?.ready.gpus)}` : ''}`),
    baseline: 'colocated',
    cooldown: String(DEMO_COOLDOWN_S),
    slo: DEMO_SLO,
    // Every engine's /metrics, so the report shows queues, KV usage and prefix-cache hits per role.
    scrape: DEMO_STACKS.flatMap((s, i) => engineScrapes(s.name, stacks[i]?.ready.engines)),
    scrapeInterval: '2',
  };
}

export async function demoCommand(o: Omit<RunCommandOptions, 'scenario'> & { scenario?: string | undefined }): Promise<RunCommandResult> {
  const stderr = o.stderr ?? process.stderr;
  const stdout = o.stdout ?? process.stdout;
  const scenario = o.scenario ?? 'run-pd';
  const runId = o.runId ?? defaultRunId(`demo-${scenario}`);
  const outputDir = resolve(o.outputDir ?? join('results', runId));
  // Every flag is checked before a simulator starts: the plan of the comparison the demo will run, with
  // placeholder URLs where the stacks' addresses will go.
  // --threshold and --slo reach the demo's comparison (its SLO is dynamo-short unless --slo names another).
  const threshold = { ...(o.thresholds?.length ? { threshold: o.thresholds } : {}), ...(o.slo !== undefined ? { slo: o.slo } : {}) };
  planCompare({ scenario, flags: { time: DEMO_TIME_S, ...o.flags }, compare: { ...demoCompareFlags(DEMO_STACKS.map(() => ({ url: 'http://127.0.0.1:1/v1', ready: {} }))), ...threshold }, dirs: [], ...(o.env ? { env: o.env } : {}) });
  const servers: SpawnedServer[] = [];
  try {
    const started = await Promise.all(DEMO_STACKS.map((s) => spawnServer('sim-main', [...s.args])));
    servers.push(...started);
    stderr.write(
      `pd-bench demo: no --base-url, so two simulated stacks (${String(started[0]?.ready.model)}, preset ${String(started[0]?.ready.preset)}) run on this machine:\n` +
        DEMO_STACKS.map((s, i) => `  ${s.name}: ${started[i]?.url} (${String(started[i]?.ready.gpus)} GPUs)`).join('\n') +
        `\nthe ${scenario} workload runs against each in turn. Against your router:\n` +
        `  npx pd-bench run --base-url http://localhost:30080/v1 --scenario run-pd\n`,
    );
    const r = await compareCommand({
      scenario,
      flags: { time: DEMO_TIME_S, ...o.flags },
      compare: { ...demoCompareFlags(started), ...threshold },
      dirs: [],
      outputDir,
      runId,
      ...(o.env ? { env: o.env } : {}),
      ...(o.stdout ? { stdout: o.stdout } : {}),
      ...(o.stderr ? { stderr: o.stderr } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (r.report && r.report.targets.length > 1) {
      stdout.write(
        '\npd: the decode engine reports the KV it received from the prefill engine as cached prompt tokens, as vLLM does;\n' +
          'pd TTFT includes the prefill leg, the KV transfer and a second hop through the router.\n' +
          `open ${join(r.outputDir, 'report.html')} for the CDFs, the per-round view and the server metrics.\n`,
      );
    }
    // Thresholds are judged per target here (its runs pooled), one list per target.
    return { exitCode: r.exitCode, outputDir: r.outputDir, results: r.report?.targets.flatMap((t) => t.runs) ?? [], thresholds: r.thresholds.map((t) => t.outcomes) };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}
