#!/usr/bin/env node
// How noisy is the regression gate? Same-configuration repeats against the simulator give its false-alarm rate
// (a "regression" between two runs of one configuration), and repeats against a simulator with a 10% TTFT
// regression injected (`pd-bench sim --api-delay-ms D`, D = 10% of the first run's TTFT p50: every request waits D
// ms longer before its prefill engine's queue, so TTFT grows by D and ITL not at all) its detection rate. Each run is a fresh
// simulator process and a `pd-bench run` child process, as a nightly job would be; runs alternate (base, slow,
// base, ...) so a drift of the machine's load hits both sides alike. Every ordered pair of runs is then gated in
// this process with the shipped defaults (dist/gate/evaluate.js), and the intervals are re-judged under other
// tolerances to show how the defaults were chosen. Not a unit test: the figures depend on the machine; the
// recorded output is bench/GATE-NOISE.md.
//
// Usage: nice -n 10 node bench/gate-noise.mjs [--repeats N] [--time S] [--qps Q] [--ttft-pct P] [--runs-dir DIR] [--analyze-only] [--out FILE]
//   --repeats N      same-configuration runs (default 21; the slowed runs are one fewer)
//   --time S         seconds per run (default 30)        --qps Q   configured QPS of run-pd (default 4)
//   --ttft-pct P     the injected TTFT regression, % of the first run's TTFT p50 (default 10)
//   --runs-dir DIR   where the runs go (default .cache/gate-noise); a run already there (its summary.json) is kept,
//                    so an interrupted bench resumes; --analyze-only gates the runs of its manifest
//   --out FILE       the Markdown written (default: stdout)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const repeats = Number(opt('--repeats', '21'));
const timeS = Number(opt('--time', '30'));
const qps = Number(opt('--qps', '4'));
const ttftPct = Number(opt('--ttft-pct', '10'));
const runsDir = resolve(opt('--runs-dir', join(root, '.cache/gate-noise')));
const out = opt('--out', '');
const analyzeOnly = args.includes('--analyze-only');
for (const [name, v, ok] of [['--repeats', repeats, Number.isInteger(repeats) && repeats >= 2], ['--time', timeS, timeS > 0], ['--qps', qps, qps > 0], ['--ttft-pct', ttftPct, ttftPct > 0]]) {
  if (!ok) {
    console.error(`gate-noise: ${name} ${v} is not allowed (repeats: an integer >= 2; the others > 0)`);
    process.exit(2);
  }
}

if (!existsSync(join(root, 'dist/gate/evaluate.js'))) spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
const { spawnServer } = await import(join(root, 'dist/sim/spawn-server.js'));
const { loadSide } = await import(join(root, 'dist/cli/gate-plan.js'));
const { evaluateGate, GATE_CONFIDENCE } = await import(join(root, 'dist/gate/evaluate.js'));
const { DEFAULT_TOLERANCES, GATED_METRICS } = await import(join(root, 'dist/gate/tolerance.js'));

/** One run: a fresh simulator with `delayMs` of extra API time, `pd-bench run` against it as a child process. */
async function oneRun(kind, i, delayMs) {
  const dir = join(runsDir, `${kind}-${String(i).padStart(2, '0')}`);
  if (existsSync(join(dir, 'summary.json'))) return dir;
  try {
    return await attempt(dir, kind, i, delayMs);
  } catch (err) {
    // Once more: a run can die of something outside it (dist/ rebuilt under it by a test run on the same machine).
    console.error(`gate-noise: ${err.message.split('\n')[0]}; running it again`);
    return attempt(dir, kind, i, delayMs);
  }
}

async function attempt(dir, kind, i, delayMs) {
  const sim = await spawnServer('sim-main', ['--topology', 'pd', '--api-delay-ms', String(delayMs)]);
  try {
    const child = spawn(process.execPath, [join(root, 'bin/pd-bench.js'), 'run', '--base-url', sim.url, '--scenario', 'run-pd', '--time', String(timeS), '--qps', String(qps), '--output-dir', dir, '--run-id', `${kind}-${i}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b) => (err = (err + b.toString()).slice(-2000)));
    const code = await new Promise((res) => child.on('exit', (c) => res(c)));
    if (code !== 0) throw new Error(`run ${dir} exited ${code}: ${err}`);
  } finally {
    await sim.stop();
  }
  return dir;
}

async function collect() {
  mkdirSync(runsDir, { recursive: true });
  const manifest = { started: new Date().toISOString(), repeats, timeS, qps, ttftPct, delayMs: 0, cpus: cpus().length, load: [], base: [], slow: [] };
  for (let i = 0; i < repeats; i++) {
    manifest.load.push(loadavg()[0]);
    manifest.base.push(await oneRun('base', i, 0));
    console.error(`gate-noise: base ${i + 1}/${repeats} (load ${loadavg()[0].toFixed(2)})`);
    if (i === 0) {
      // The injected delay: ttftPct of the first run's TTFT median, so the regression is that share of TTFT.
      const first = JSON.parse(readFileSync(join(manifest.base[0], 'summary.json'), 'utf8'));
      manifest.delayMs = Number(((first.metrics.ttft_ms.p50 * ttftPct) / 100).toFixed(2));
    }
    if (i < repeats - 1) {
      manifest.slow.push(await oneRun('slow', i, manifest.delayMs));
      console.error(`gate-noise: slow ${i + 1}/${repeats - 1}`);
    }
  }
  manifest.ended = new Date().toISOString();
  writeFileSync(join(runsDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}

const manifest = analyzeOnly ? JSON.parse(readFileSync(join(runsDir, 'manifest.json'), 'utf8')) : await collect();
const base = manifest.base.map((d) => loadSide(d, undefined, 'run'));
const slowed = manifest.slow.map((d) => loadSide(d, undefined, 'run'));

/** Every metric's change interval and the gate's verdict for one ordered pair, under the shipped defaults. */
function gatePair(b, c, confidence = GATE_CONFIDENCE) {
  const r = evaluateGate(b, c, { tolerances: DEFAULT_TOLERANCES, slo: null, thresholds: [], target: 'bench', label: null, confidence });
  return { verdict: r.verdict, problems: r.problems, conclusive: r.problems.length === 0, metrics: Object.fromEntries(r.metrics.map((m) => [m.name, m])) };
}
const pairs = (as, bs, same) => as.flatMap((a, i) => bs.map((b, j) => (same && i === j ? null : [a, b])).filter(Boolean));
const t0 = Date.now();
const nullPairs = pairs(base, base, true).map(([a, b]) => gatePair(a, b));
const slowPairs = pairs(base, slowed, false).map(([a, b]) => gatePair(a, b));
// The same pairs with 99% intervals: what a stricter interval would buy.
const nullPairs99 = pairs(base, base, true).map(([a, b]) => gatePair(a, b, 0.99));
const slowPairs99 = pairs(base, slowed, false).map(([a, b]) => gatePair(a, b, 0.99));
console.error(`gate-noise: ${nullPairs.length + slowPairs.length} gates in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

/** The verdict of one metric's interval under tolerance `tol` (as gate/evaluate.ts judges it). */
function regressed(m, tol) {
  if (!m || m.change.lo === null || m.change.hi === null) return false;
  if (m.kind === 'absolute') return m.change.lo > tol;
  return m.higherIsBetter ? m.change.hi < 1 - tol : m.change.lo > 1 + tol;
}
const tolOf = (name, over) => over[name] ?? over[name.split('.')[1] ?? ''] ?? DEFAULT_TOLERANCES[name];
const anyRegression = (p, over) => GATED_METRICS.some((g) => regressed(p.metrics[g.name], tolOf(g.name, over)));
const ttftRegression = (p, over) => ['ttft.p50', 'ttft.p90', 'ttft.p99'].some((n) => regressed(p.metrics[n], tolOf(n, over)));
const pct = (k, n) => (n === 0 ? '-' : `${((100 * k) / n).toFixed(1)}%`);
const count = (xs, f) => xs.filter(f).length;
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};

/** Pairs whose runs were both fit to judge (client healthy, target not saturated): the gates tolerances decide. */
const ok = (ps) => ps.filter((p) => p.conclusive);

function variationTable() {
  const lines = ['| metric | base runs: median | CV across runs | \\|ratio - 1\\| between base runs: median / p95 / max | half-width of the 95% interval: median | slowed / base ratio: median |', '|---|---:|---:|---:|---:|---:|'];
  for (const g of GATED_METRICS.filter((x) => !x.needsSlo)) {
    const vals = ok(nullPairs).map((p) => p.metrics[g.name]?.baseline).filter((v) => typeof v === 'number');
    const uniq = [...new Set(vals)];
    const mean = uniq.reduce((a, b) => a + b, 0) / uniq.length;
    const sd = Math.sqrt(uniq.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, uniq.length - 1));
    const dev = ok(nullPairs).map((p) => p.metrics[g.name]).filter((m) => m && m.change.value !== null).map((m) => Math.abs(m.change.value - (m.kind === 'absolute' ? 0 : 1)));
    const half = ok(nullPairs).map((p) => p.metrics[g.name]).filter((m) => m && m.change.lo !== null).map((m) => (m.change.hi - m.change.lo) / 2);
    const sl = ok(slowPairs).map((p) => p.metrics[g.name]?.change.value).filter((v) => typeof v === 'number');
    const f = (x) => (g.kind === 'absolute' ? `${(x * 100).toFixed(2)} pts` : `${(x * 100).toFixed(1)}%`);
    lines.push(`| ${g.name} | ${Number(quantile(uniq, 0.5).toPrecision(4))} | ${pct(sd, mean)} | ${f(quantile(dev, 0.5))} / ${f(quantile(dev, 0.95))} / ${f(Math.max(...dev))} | ${f(quantile(half, 0.5))} | ${g.kind === 'absolute' ? '-' : quantile(sl, 0.5).toFixed(3)} |`);
  }
  return lines;
}

/** False alarms and detection if the tolerances were others (per-metric overrides of the defaults). */
function sensitivityTable(np, sp, level) {
  const lines = [`| ${level} intervals: tolerances | false alarms (any metric) | TTFT detected | any metric detected |`, '|---|---:|---:|---:|'];
  const grid = [
    ['the defaults', {}],
    ['every p50 and p90 3%, every p99 5%', { p50: 0.03, p90: 0.03, p99: 0.05 }],
    ['every p50 and p90 5%, every p99 10%', { p50: 0.05, p90: 0.05, p99: 0.1 }],
    ['every p50 5%, p90 10%, p99 20%', { p50: 0.05, p90: 0.1, p99: 0.2 }],
    ['defaults, but itl.p90 5% and itl.p99 10%', { 'itl.p90': 0.05, 'itl.p99': 0.1 }],
    ['defaults, but ttft.p99 5%', { 'ttft.p99': 0.05 }],
    ['defaults, but ttft.p50 and ttft.p90 5%', { 'ttft.p50': 0.05, 'ttft.p90': 0.05 }],
    ['defaults, but ttft.p50 and ttft.p90 2%', { 'ttft.p50': 0.02, 'ttft.p90': 0.02 }],
  ];
  for (const [label, over] of grid) {
    const fa = count(np, (p) => anyRegression(p, over));
    const td = count(sp, (p) => ttftRegression(p, over));
    const ad = count(sp, (p) => anyRegression(p, over));
    lines.push(`| ${label} | ${fa} of ${np.length} (${pct(fa, np.length)}) | ${td} of ${sp.length} (${pct(td, sp.length)}) | ${ad} of ${sp.length} (${pct(ad, sp.length)}) |`);
  }
  return lines;
}

function perMetricTable() {
  const lines = ['| metric | default tolerance | false alarms: conclusive gates | all gates | detected (slowed): conclusive gates | all gates |', '|---|---:|---:|---:|---:|---:|'];
  for (const g of GATED_METRICS.filter((x) => !x.needsSlo)) {
    const tol = DEFAULT_TOLERANCES[g.name];
    const rate = (ps) => pct(count(ps, (p) => regressed(p.metrics[g.name], tol)), ps.length);
    lines.push(`| ${g.name} | ${g.kind === 'absolute' ? `${tol * 100} pts` : `${tol * 100}%`} | ${rate(ok(nullPairs))} | ${rate(nullPairs)} | ${rate(ok(slowPairs))} | ${rate(slowPairs)} |`);
  }
  return lines;
}

/** Runs whose client the run itself judged unhealthy, with the machine's load when they started. */
function unhealthyRuns() {
  const list = [...manifest.base.map((d, i) => ['base', i, d]), ...manifest.slow.map((d, i) => ['slow', i, d])]
    .map(([k, i, d]) => [k, i, JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')).client])
    .filter(([, , c]) => !c.healthy);
  return list.map(([k, i, c]) => `${k}-${String(i).padStart(2, '0')} (load ${manifest.load[i]?.toFixed(2)}; ${c.reasons.map((r) => r.split(':')[0]).join(', ')})`);
}
const verdicts = (ps) => Object.entries(ps.reduce((m, p) => ({ ...m, [p.verdict]: (m[p.verdict] ?? 0) + 1 }), {})).map(([k, v]) => `${k} ${v}`).join(', ');
// Disjoint consecutive pairs share no run: a small but independent sample of the same rates.
const disjointNull = base.slice(0, base.length - (base.length % 2)).reduce((acc, _, i, a) => (i % 2 === 0 ? [...acc, gatePair(a[i], a[i + 1])] : acc), []);
const disjointSlow = slowed.map((s, i) => gatePair(base[i], s));
const md = [
  '# Gate noise: false alarms and detection on the simulator',
  '',
  `Recorded by \`nice -n 10 node bench/gate-noise.mjs${args.length ? ' ' + args.join(' ') : ''}\` (${manifest.started} to ${manifest.ended}; ${manifest.cpus} CPUs, 1-min load at the runs' starts ${Math.min(...manifest.load).toFixed(2)}..${Math.max(...manifest.load).toFixed(2)}).`,
  '',
  `Workload: \`--scenario run-pd --qps ${manifest.qps} --time ${manifest.timeS}\` against a fresh \`pd-bench sim --topology pd\` (1 prefill + 1 decode, mistral-7b-h100) per run; ` +
    `${manifest.base.length} same-configuration runs (base) and ${manifest.slow.length} runs against \`pd-bench sim --topology pd --api-delay-ms ${manifest.delayMs}\` (slowed: ${manifest.ttftPct}% of the first run's TTFT p50 added to every request's TTFT; measured TTFT ratio slowed / base, median over pairs: ${['ttft.p50', 'ttft.p90', 'ttft.p99'].map((n) => `${n} ${quantile(slowPairs.map((p) => p.metrics[n]?.change.value).filter((v) => typeof v === 'number'), 0.5).toFixed(3)}`).join(', ')}), alternating. ` +
    `Every ordered pair of base runs is a gate that should pass (${nullPairs.length} gates); every (base, slowed) pair one that should find the regression (${slowPairs.length} gates). ` +
    `Gates use the shipped defaults: ${GATE_CONFIDENCE * 100}% intervals, 2000 resamples, tolerances of gate/tolerance.ts.`,
  '',
  '## The shipped gate',
  '',
  `- Base vs base (should pass): ${verdicts(nullPairs)}. **False alarms: ${count(nullPairs, (p) => p.verdict === 'regression')} of ${nullPairs.length} (${pct(count(nullPairs, (p) => p.verdict === 'regression'), nullPairs.length)})**; on the ${disjointNull.length} disjoint pairs: ${count(disjointNull, (p) => p.verdict === 'regression')}.`,
  `- Base vs slowed (should fail): ${verdicts(slowPairs)}. **Detected (exit 7): ${count(slowPairs, (p) => p.verdict === 'regression')} of ${slowPairs.length} (${pct(count(slowPairs, (p) => p.verdict === 'regression'), slowPairs.length)})**, with a TTFT metric among the regressed ones in ${pct(count(slowPairs, (p) => ttftRegression(p, {})), slowPairs.length)}; on the ${disjointSlow.length} disjoint pairs: ${count(disjointSlow, (p) => p.verdict === 'regression')}.`,
  `- Inconclusive gates: ${count([...nullPairs, ...slowPairs], (p) => p.verdict === 'inconclusive')}, every one because a run's client was unhealthy: ${unhealthyRuns().length} of ${base.length + slowed.length} runs, ${unhealthyRuns().join(', ')}.`,
  `- **Among the conclusive gates** (neither run's client unhealthy, no target saturated): false alarms ${count(ok(nullPairs), (p) => p.verdict === 'regression')} of ${ok(nullPairs).length} (${pct(count(ok(nullPairs), (p) => p.verdict === 'regression'), ok(nullPairs).length)}), detected ${count(ok(slowPairs), (p) => p.verdict === 'regression')} of ${ok(slowPairs).length} (${pct(count(ok(slowPairs), (p) => p.verdict === 'regression'), ok(slowPairs).length)}; TTFT named in ${pct(count(ok(slowPairs), (p) => ttftRegression(p, {})), ok(slowPairs).length)}).`,
  '',
  `Metric verdicts alone, as if the unhealthy runs' gates were conclusive: false alarms ${pct(count(nullPairs, (p) => anyRegression(p, {})), nullPairs.length)}, detected ${pct(count(slowPairs, (p) => anyRegression(p, {})), slowPairs.length)}: the disturbed runs are what the health check keeps out.`,
  '',
  '## Per metric at the default tolerances',
  '',
  ...perMetricTable(),
  '',
  '## Run-to-run variation (runs with a healthy client)',
  '',
  ...variationTable(),
  '',
  '## Other tolerances and interval levels (the conclusive pairs re-judged)',
  '',
  ...sensitivityTable(ok(nullPairs), ok(slowPairs), '95%'),
  '',
  ...sensitivityTable(ok(nullPairs99), ok(slowPairs99), '99%'),
  '',
].join('\n');
if (out) writeFileSync(out, md);
else process.stdout.write(md);
