// Assembles a simulated serving stack in this process: engines (one per replica, or prefill and decode pools)
// on their own loopback ports behind a Router. Colocated: replicas with session affinity on x-user-id. PD:
// production-stack's disaggregated_prefill flow with an LMCache-like KV hand-off timed by the link preset.
import { LATE_MS, RealClock, type ClockLateness } from './clock.js';
import { Engine } from './engine.js';
import { EngineServer, MapKvHandoff, type SimFaults } from './engine-server.js';
import { LINK_PRESETS, MODEL_PRESETS, type LinkPreset, type ModelPreset } from './presets.js';
import { Router } from './router.js';
import { renderVllmMetrics } from './vllm-metrics.js';

export type Topology = 'colocated' | 'pd';

export interface StackOptions {
  topology: Topology;
  /** colocated: replicas. */
  replicas: number;
  /** pd: pool sizes. */
  prefill: number;
  decode: number;
  preset: string;
  link: string;
  seed: number;
  timeScale: number;
  faults: Partial<SimFaults>;
  /** pd: label streamed answers application/json, as production-stack's router does. */
  pdJsonContentType: boolean;
}

export interface StackInfo {
  topology: Topology;
  preset: ModelPreset;
  link: LinkPreset | undefined;
  gpus: number;
  servedModel: string;
  routerUrl: string;
  /** Per-role engine URLs (for --scrape), e.g. { prefill: [...], decode: [...] }. */
  engines: Record<string, string[]>;
}

export interface RunningStack extends StackInfo {
  router: Router;
  close(): Promise<void>;
}

export async function startStack(o: StackOptions, port = 0): Promise<RunningStack> {
  const preset = MODEL_PRESETS[o.preset];
  const link = LINK_PRESETS[o.link];
  if (!preset) throw new RangeError(`unknown preset ${o.preset}`);
  if (!link) throw new RangeError(`unknown link ${o.link}`);
  const clock = new RealClock(o.timeScale);
  const servers: EngineServer[] = [];
  const engines: Record<string, string[]> = {};
  const make = async (role: 'replica' | 'prefill' | 'decode', i: number, kv?: { handoff: MapKvHandoff; link: LinkPreset }): Promise<string> => {
    const engine = new Engine(`${role}-${i}`, preset, clock);
    const srv = new EngineServer({ engine, clock, role, servedModel: preset.servedModel, seed: o.seed + i * 7919, faults: o.faults, ...(kv ? { kv } : {}) });
    servers.push(srv);
    await srv.listen(0, '127.0.0.1');
    (engines[role] ??= []).push(srv.url);
    return srv.url;
  };
  let router: Router;
  if (o.topology === 'colocated') {
    const urls: string[] = [];
    for (let i = 0; i < o.replicas; i++) urls.push(await make('replica', i));
    router = new Router({ logic: 'session', backends: urls });
  } else {
    const handoff = new MapKvHandoff();
    const pre: string[] = [];
    const dec: string[] = [];
    for (let i = 0; i < o.prefill; i++) pre.push(await make('prefill', i, { handoff, link }));
    for (let i = 0; i < o.decode; i++) dec.push(await make('decode', i, { handoff, link }));
    router = new Router({ logic: 'disaggregated_prefill', prefill: pre, decode: dec, pdContentType: o.pdJsonContentType ? 'application/json' : 'passthrough' });
  }
  // Each engine's /metrics shows that engine (as a vLLM pod's does); the router's shows all of them, labelled
  // by engine and role, so one scrape of the stack's address sees the whole deployment.
  for (const srv of servers) srv.metricsPage = () => renderVllmMetrics([srv]);
  router.extraMetrics = () => renderVllmMetrics(servers) + clockMetrics(clock.lateness());
  await router.listen(port, '127.0.0.1');
  const gpus = (o.topology === 'colocated' ? o.replicas : o.prefill + o.decode) * preset.gpusPerReplica;
  return {
    topology: o.topology,
    preset,
    link: o.topology === 'pd' ? link : undefined,
    gpus,
    servedModel: preset.servedModel,
    routerUrl: router.url,
    engines,
    router,
    async close() {
      await router.close();
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

/**
 * The simulator's own timekeeping on the router's /metrics: events run, those run more than LATE_MS late, the
 * latest. A starved simulator (a busy machine) serves every request late, so its latencies are not the model's.
 */
function clockMetrics(l: ClockLateness): string {
  return (
    `# HELP pdbench_sim:clock_events_total Simulator events run.\n# TYPE pdbench_sim:clock_events_total counter\npdbench_sim:clock_events_total ${l.events}\n` +
    `# HELP pdbench_sim:clock_late_events_total Simulator events run more than ${LATE_MS} ms (real time) after their time.\n# TYPE pdbench_sim:clock_late_events_total counter\npdbench_sim:clock_late_events_total ${l.late}\n` +
    `# HELP pdbench_sim:clock_late_max_seconds The latest simulator event, real seconds after its time.\n# TYPE pdbench_sim:clock_late_max_seconds gauge\npdbench_sim:clock_late_max_seconds ${l.maxMs / 1000}\n`
  );
}
