// Preloaded (node --import) into a pd-bench process by bench/startup.mjs: notes the process's CPU time when the
// first request of the run proper is created (undici's diagnostics channel, so pd-bench needs no hook of its own)
// and when the process exits, and appends both as one JSON line to $PD_BENCH_STARTUP_PROBE.
// The preflight's two requests (GET /models and the "Say hello." chat) are skipped: what counts is the work done
// before the benchmark can send its first real request. Main thread only (--import does not reach worker threads).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';

const out = process.env.PD_BENCH_STARTUP_PROBE;
const cpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let firstRequestCpuS = null;
let firstRequest = null;

function onCreate({ request }) {
  if (request.method !== 'POST') return;
  const body = request.body;
  if ((typeof body === 'string' || Buffer.isBuffer(body)) && body.includes('Say hello.')) return;
  firstRequestCpuS = cpuS();
  firstRequest = `${request.method} ${request.path}`;
  // Out of every later request's path.
  unsubscribe('undici:request:create', onCreate);
}

if (out) {
  subscribe('undici:request:create', onCreate);
  process.on('exit', () => {
    appendFileSync(out, JSON.stringify({ firstRequestCpuS, firstRequest, exitCpuS: cpuS() }) + '\n');
  });
}
