// `pd-bench sweep` with no target: starts the demo's two simulated stacks (colocated with 2 replicas, PD 1P1D:
// 2 GPUs each) in their own processes and searches each one's largest QPS meeting Dynamo's short-context SLO on
// the run-pd workload, then prints capacity per GPU and PD's against colocated. Short runs and a coarse precision
// keep it within about three minutes; every flag can be overridden. Stops the simulators on every exit path.
import { join, resolve } from 'node:path';
import { spawnServer, type SpawnedServer } from '../sim/spawn-server.js';
import { DEMO_SLO, DEMO_STACKS, engineScrapes } from './demo-command.js';
import { defaultRunId } from './run-command.js';
import { planSweep, sweepCommand, type SweepCommandOptions, type SweepCommandResult, type SweepFlags } from './sweep-command.js';

/** Per run: with a 1 s cool-down and the search's 6-7 probes per stack (from 8 QPS, where a run already judges enough requests to decide at 0.95) the demo takes about two minutes. */
export const SWEEP_DEMO_TIME_S = 6;
export const SWEEP_DEMO_FLAGS: Readonly<Record<string, unknown>> = { time: SWEEP_DEMO_TIME_S, qps: '8:128', 'drain-timeout': 10 };
export const SWEEP_DEMO_SWEEP: Readonly<SweepFlags> = { find: 'max-qps', slo: DEMO_SLO, attainment: '0.95', precision: '15%', cooldown: '1', maxProbes: '2' };

function demoSweepFlags(stacks: readonly Pick<SpawnedServer, 'url' | 'ready'>[], user: SweepFlags): SweepFlags {
  const defined = Object.fromEntries(Object.entries(user).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0) && v !== false));
  return {
    ...SWEEP_DEMO_SWEEP,
    target: DEMO_STACKS.map((s, i) => `${s.name}=${stacks[i]?.url}${stacks[i]?.ready.gpus !== undefined ? `,gpus=${String(stacks[i]?.ready.gpus)}` : ''}`),
    baseline: 'colocated',
    scrape: DEMO_STACKS.flatMap((s, i) => engineScrapes(s.name, stacks[i]?.ready.engines)),
    scrapeInterval: '2',
    ...defined,
  };
}

export async function sweepDemo(o: SweepCommandOptions): Promise<SweepCommandResult> {
  const stderr = o.stderr ?? process.stderr;
  const scenario = o.scenario ?? 'run-pd';
  const runId = o.runId ?? defaultRunId(`sweep-demo-${scenario}`);
  const flags = { ...SWEEP_DEMO_FLAGS, ...o.flags };
  // Every flag is checked before a simulator starts, with placeholder URLs where the stacks' will go.
  planSweep({ ...o, scenario, flags, sweep: demoSweepFlags(DEMO_STACKS.map(() => ({ url: 'http://127.0.0.1:1/v1', ready: {} })), o.sweep) });
  const servers: SpawnedServer[] = [];
  try {
    servers.push(...(await Promise.all(DEMO_STACKS.map((s) => spawnServer('sim-main', [...s.args])))));
    stderr.write(
      `pd-bench sweep demo: no target, so two simulated stacks (${String(servers[0]?.ready.model)}, preset ${String(servers[0]?.ready.preset)}) run on this machine:\n` +
        DEMO_STACKS.map((s, i) => `  ${s.name}: ${servers[i]?.url} (${String(servers[i]?.ready.gpus)} GPUs)`).join('\n') +
        `\neach is searched for the largest QPS of the ${scenario} workload meeting ${DEMO_SLO}. Against your stacks:\n` +
        `  npx pd-bench sweep --target pd=URL,gpus=N --target colocated=URL,gpus=N --scenario run-pd --find max-qps --qps 0.5:32 --slo ${DEMO_SLO}\n`,
    );
    return await sweepCommand({ ...o, scenario, flags, runId, outputDir: resolve(o.outputDir ?? join('results', runId)), sweep: demoSweepFlags(servers, o.sweep) });
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}
