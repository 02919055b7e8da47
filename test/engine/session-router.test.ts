// pd-bench against two llama-server replicas behind the simulated router with session affinity: every user
// stays on one replica (x-user-id), so its history is found in that replica's prefix cache. Client vs server
// timings: bench/ENGINE-FIDELITY.md.
import { expect, it } from 'vitest';
import { Router } from '../../src/sim/router.js';
import { byUser } from './bench.js';
import { engineSuite } from './suite.js';
import { LlamaServer } from './llama-server.js';

let router: Router;
const suite = engineSuite(
  'replicas',
  async (files) => {
    const replicas = await Promise.all([LlamaServer.start({ files, slots: 4 }), LlamaServer.start({ files, slots: 4 })]);
    router = new Router({ logic: 'session', backends: replicas.map((r) => r.baseUrl) });
    await router.listen(0);
    return { baseUrl: router.url, answering: replicas, close: () => router.close() };
  },
);

it('replicas: the session router spreads users over both replicas', () => {
  const text = router.metricsText();
  const routed = [...text.matchAll(/pdbench_router_routed_total\{role="replica",backend="[^"]+"\} (\d+)/g)].map((m) => Number(m[1]));
  expect(routed.length).toBe(2);
  // Affinity hashes the user id; with this workload's users both replicas get work. That each user stays on
  // one replica shows in the suite's cached-share check: later rounds find their history cached.
  for (const n of routed) expect(n).toBeGreaterThan(0);
  expect(byUser(suite.run().records).size).toBeGreaterThan(2);
});
