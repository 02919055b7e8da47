// `pd-bench` with no target: starts two simulated stacks of the same GPU count in their own processes — a
// 1P1D PD-disaggregated one and a colocated one with 2 replicas — runs the same run-pd workload (same seed,
// same users, same schedule) against each in turn, prints both summaries side by side, writes the results
// and stops the simulators.
import { join, resolve } from 'node:path';
import { writeSummaryCsv } from '../report/files.js';
import { formatSideBySide, type NamedResult } from '../report/side-by-side.js';
import { spawnServer, type SpawnedServer } from '../sim/spawn-server.js';
import { defaultRunId, runCommand, type RunCommandOptions, type RunCommandResult } from './run-command.js';

/** Short enough that both runs, start-up and drain finish within two minutes. */
export const DEMO_TIME_S = 40;

export const DEMO_STACKS = [
  { name: 'colocated', args: ['--topology', 'colocated', '--replicas', '2'] },
  { name: 'pd', args: ['--topology', 'pd', '--prefill', '1', '--decode', '1'] },
] as const;

export async function demoCommand(o: Omit<RunCommandOptions, 'scenario'> & { scenario?: string | undefined }): Promise<RunCommandResult> {
  const stderr = o.stderr ?? process.stderr;
  const stdout = o.stdout ?? process.stdout;
  const scenario = o.scenario ?? 'run-pd';
  const runId = o.runId ?? defaultRunId(`demo-${scenario}`);
  const outputDir = resolve(o.outputDir ?? join('results', runId));
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
    const named: NamedResult[] = [];
    let last: RunCommandResult | undefined;
    for (let i = 0; i < DEMO_STACKS.length; i++) {
      const s = DEMO_STACKS[i] as (typeof DEMO_STACKS)[number];
      const srv = started[i] as SpawnedServer;
      if (o.signal?.aborted) break;
      last = await runCommand({
        ...o,
        scenario,
        runId,
        outputDir: join(outputDir, s.name),
        flags: { time: DEMO_TIME_S, ...o.flags, 'base-url': srv.url },
        label: s.name,
      });
      const result = last.results[0];
      if (result) named.push({ name: s.name, result, gpus: Number(srv.ready.gpus) || undefined });
    }
    if (named.length > 0) {
      writeSummaryCsv(outputDir, named.map((n) => n.result));
      stdout.write(`\n== side by side: ${scenario} on ${named.map((n) => n.name).join(' vs ')}\n${formatSideBySide(named)}\n`);
      stdout.write(
        'pd: the decode engine reports the KV it received from the prefill engine as cached prompt tokens, as vLLM does;\n' +
          'pd TTFT includes the prefill leg, the KV transfer and a second hop through the router.\n',
      );
      stderr.write(`results: ${outputDir}/{${named.map((n) => n.name).join(',')}}/ and ${outputDir}/summary.csv\n`);
    }
    return { exitCode: last?.exitCode ?? 0, outputDir, results: named.map((n) => n.result) };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}
