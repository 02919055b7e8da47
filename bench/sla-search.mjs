#!/usr/bin/env node
// Does `pd-bench sweep --find max-qps` find a capacity known by construction? The mock (dist/mock/mock-main.js)
// with --max-concurrency C serves at most C requests at once, FIFO, each for exactly S = ttft + (n - 1) * itl ms
// (n answer tokens), so its throughput capacity is C / S req/s. Each case starts such a mock and runs the SLA
// search against it with an SLO of e2el <= 1.5 S, which a request misses only when it queued more than half a
// service time:
//
//   npx tsc -p tsconfig.build.json && nice -n 5 node bench/sla-search.mjs [--label run] [--time 8] [--cooldown 0.5]
//       [--max-probes 1] [--cases c4s200-constant,...] [--out bench/SLA-SEARCH.md | --no-write] [--keep]
//
// With --num-rounds 1 the offered rate is the configured qps (README "Pacing"), so the search's load axis is the
// offered req/s. Two references per case:
//   - C / S, the throughput capacity. With --arrival constant no request queues below it and the queue grows
//     without bound above it, so C / S is where the SLO starts failing; with --arrival poisson requests queue
//     before it, so the SLO capacity lies below C / S by queueing alone (not an error of the search).
//   - the ideal run: the same seeded arrival times pd-bench draws (dist/schedule/arrivals.js: with one seed a
//     poisson schedule at rate q is one unit-rate schedule scaled by 1/q) fed through an ideal C-slot FIFO server
//     of service time S (what the mock implements, its timer lateness aside), plus the client's own overhead
//     (E2EL p50 at the lowest load minus S); the largest load before the ideal attainment first drops below the
//     goal. For poisson this is the SLO capacity of that very schedule; for constant it exceeds C / S slightly,
//     because a short run above capacity ends before its queue has grown beyond the SLO's slack.
// A case succeeds (columns "in [lo, hi) +-5%" and "lo +-5%") when the reference lies within the found interval
// [capacityRpsLo, capacityRpsHi) widened by 5 % on both sides, or when the point estimate (capacityRps, = lo)
// is within 5 % of it. Writes the section of --label in bench/SLA-SEARCH.md, keeping the other labels' sections.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const flag = (name) => args.includes(name);
const TIME = Number(opt('--time', '8'));
const COOLDOWN = Number(opt('--cooldown', '0.5'));
const MAX_PROBES = Number(opt('--max-probes', '1'));
const GOAL = 0.99;
const PRECISION = 0.05;
const SEED = 0;
const out = resolve(opt('--out', join(root, 'bench/SLA-SEARCH.md')));
const write = !flag('--no-write');
const keep = flag('--keep');
const LABEL = opt('--label', 'run');
if (!/^[a-z0-9-]+$/.test(LABEL)) throw new Error(`--label must be lower-case letters, digits and dashes, got ${LABEL}`);
if (!(TIME > 0) || !(COOLDOWN >= 0) || !Number.isInteger(MAX_PROBES) || MAX_PROBES < 1) throw new Error('bad --time, --cooldown or --max-probes');
for (const f of ['dist/cli/main.js', 'dist/mock/mock-main.js', 'dist/sim/spawn-server.js', 'dist/schedule/arrivals.js']) {
  if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`npx tsc -p tsconfig.build.json\` first`);
}
const { spawnServer } = await import(pathToFileURL(join(root, 'dist/sim/spawn-server.js')).href);
const { arrivalTimes } = await import(pathToFileURL(join(root, 'dist/schedule/arrivals.js')).href);

// n = 16 answer tokens in every case; ranges FROM:TO with TO = FROM x 2^k (a search probes FROM, 2 FROM, ... up
// to TO), placed so that the capacity is not at the range's (geometric) centre.
const N = 16;
const SHAPES = [
  { id: 'c8s100', c: 8, ttft: 25, itl: 5, range: '30:240' },
  { id: 'c4s200', c: 4, ttft: 50, itl: 10, range: '3:48' },
  { id: 'c16s400', c: 16, ttft: 100, itl: 20, range: '7:56' },
];
const ALL = [
  ...SHAPES.flatMap((s) => ['constant', 'poisson'].map((arrival) => ({ ...s, arrival, maxProbes: MAX_PROBES, name: `${s.id}-${arrival}` }))),
  // The same search with pd-bench's default --max-probes 3: uncertain loads are run again before being decided.
  { ...SHAPES[1], arrival: 'constant', maxProbes: 3, name: 'c4s200-constant-probes3' },
];
const picked = opt('--cases', undefined)?.split(',');
const CASES = picked ? ALL.filter((c) => picked.includes(c.name)) : ALL;
if (picked && CASES.length !== picked.length) throw new Error(`unknown case in --cases; known: ${ALL.map((c) => c.name).join(', ')}`);

const tmp = mkdtempSync(join(tmpdir(), 'pd-bench-sla-'));
let mock;
let cli;
const cleanup = () => {
  if (cli && cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
  if (mock && mock.child.exitCode === null) mock.child.kill('SIGKILL');
  if (!keep) rmSync(tmp, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

/** Runs the CLI; resolves with its exit code, stderr + stdout and wall time. */
function runCli(argv) {
  return new Promise((resolveRun, reject) => {
    const t0 = performance.now();
    cli = spawn(process.execPath, [join(root, 'bin/pd-bench.js'), ...argv], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    cli.stdout.setEncoding('utf8').on('data', (s) => (text += s));
    cli.stderr.setEncoding('utf8').on('data', (s) => (text += s));
    cli.on('error', reject);
    cli.on('close', (code) => resolveRun({ code, text, wallS: (performance.now() - t0) / 1000 }));
  });
}

/** Share of arrivals (s) an ideal C-slot FIFO server of service S (s) answers within `limitS`, with `overheadS` added. */
function idealAttainment(arrivals, c, serviceS, limitS, overheadS) {
  if (arrivals.length === 0) return null;
  const free = new Array(c).fill(0);
  let met = 0;
  for (const a of arrivals) {
    let k = 0;
    for (let j = 1; j < c; j++) if (free[j] < free[k]) k = j;
    const start = Math.max(a, free[k]);
    free[k] = start + serviceS;
    if (start - a + serviceS + overheadS <= limitS) met++;
  }
  return met / arrivals.length;
}

/** The largest load (on a 0.1 % grid from `from`) before the ideal run's attainment first falls below the goal. */
function idealCapacity(kase, from, to, overheadS, seed = SEED) {
  const s = (kase.ttft + (N - 1) * kase.itl) / 1000;
  let prev = null;
  for (let q = from; q <= to * 1.5; q *= 1.001) {
    const att = idealAttainment(arrivalTimes(kase.arrival, q, TIME, 1, seed), kase.c, s, 1.5 * s, overheadS);
    if (att !== null && att < GOAL) return prev;
    prev = q;
  }
  return prev;
}

const pct = (x) => (x === null || !Number.isFinite(x) ? '-' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`);
const num = (x, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
const rel = (x, ref) => (x === null || ref === null ? null : (x - ref) / ref);
const within = (ref, lo, hi) => ref !== null && lo !== null && hi !== null && ref >= lo * 0.95 && ref < hi * 1.05;
const yes = (b) => (b ? 'yes' : '**no**');

async function runCase(kase) {
  const sMs = kase.ttft + (N - 1) * kase.itl;
  const cap = (1000 * kase.c) / sMs;
  mock = await spawnServer('mock-main', ['--ttft-ms', String(kase.ttft), '--itl-ms', String(kase.itl), '--max-concurrency', String(kase.c), '--cached-tokens', 'none']);
  const dir = join(tmp, kase.name);
  const argv = [
    'sweep', '--base-url', mock.url, '--find', 'max-qps', '--qps', kase.range, '--slo', `e2el=${1.5 * sMs}ms`, '--attainment', String(GOAL),
    '--precision', `${PRECISION * 100}%`, ...(kase.maxProbes !== 3 ? ['--max-probes', String(kase.maxProbes)] : []), '--time', String(TIME),
    '--cooldown', String(COOLDOWN), '--num-rounds', '1', '--answer-len', String(N), '--arrival', kase.arrival, '--seed', String(SEED),
    '--shared-system-prompt', '20', '--user-history-prompt', '20', '-o', dir,
  ];
  let r;
  try {
    r = await runCli(argv);
  } finally {
    await mock.stop();
    mock = undefined;
  }
  writeFileSync(join(tmp, `${kase.name}.log`), r.text);
  const summaryPath = join(dir, 'summary.json');
  if (!existsSync(summaryPath)) throw new Error(`${kase.name}: no summary.json (exit ${r.code}):\n${r.text.slice(-2000)}`);
  const report = JSON.parse(readFileSync(summaryPath, 'utf8'));
  const t = report.targets[0];
  const rows = [...report.rows].sort((a, b) => a.step - b.step);
  const lowest = rows.reduce((m, x) => (m === null || x.point < m.point ? x : m), null);
  const overheadMs = lowest?.e2el_p50_ms != null ? Math.max(0, lowest.e2el_p50_ms - sMs) : 0;
  const ideal = idealCapacity(kase, report.axis.min, report.axis.max, overheadMs / 1000);
  // How much the ideal answer depends on the schedule drawn: the same for seeds 1 to 10.
  const bySeed = Array.from({ length: 10 }, (_, i) => idealCapacity(kase, report.axis.min, report.axis.max, overheadMs / 1000, i + 1)).sort((a, b) => a - b);
  const lo = t.capacityRpsLo;
  const hi = t.capacityRpsHi;
  const mid = lo !== null && hi !== null ? (lo + hi) / 2 : null;
  const probes = rows.map((x) => {
    const att = idealAttainment(arrivalTimes(kase.arrival, x.offered_rps, TIME, 1, SEED), kase.c, sMs / 1000, (1.5 * sMs) / 1000, overheadMs / 1000);
    const verdict = x.saturated ? 'sat' : x.slo_attainment === null ? '?' : x.slo_attainment >= GOAL ? 'ok' : 'miss';
    return `${x.point}${x.repetition > 1 ? `#${x.repetition}` : ''}: ${num(x.slo_attainment, 3)} ${verdict} (ideal ${num(att, 3)})${x.client_healthy ? '' : ' client-unhealthy'}`;
  });
  return { kase, sMs, cap, argv, code: r.code, wallS: r.wallS, t, lo, hi, mid, ideal, bySeed, overheadMs, probes, axis: report.axis };
}

function git(...a) {
  const r = spawnSync('git', a, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '?';
}

const t0 = Date.now();
const load0 = loadavg();
const results = [];
for (const kase of CASES) {
  process.stderr.write(`${kase.name}: C=${kase.c}, S=${kase.ttft + (N - 1) * kase.itl} ms, --qps ${kase.range}, --arrival ${kase.arrival}, --max-probes ${kase.maxProbes} ... `);
  const res = await runCase(kase);
  results.push(res);
  process.stderr.write(`exit ${res.code}, ${res.t.outcome} [${num(res.lo)}, ${num(res.hi)}) vs C/S ${num(res.cap)} (ideal run ${num(res.ideal)}), ${res.t.probes} runs, ${res.wallS.toFixed(0)} s\n`);
}
const load1 = loadavg();

const dirty = git('status', '--porcelain', '--', 'src', 'bin', 'package.json') ? ', with uncommitted changes to src/bin/package.json' : '';
const meta =
  `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, commit ${git('rev-parse', '--short', 'HEAD')}${dirty}; ${cpus().length} x ${cpus()[0]?.model.trim() ?? '?'}, ` +
  `Node ${process.version}; load average ${load0.map((x) => x.toFixed(2)).join(' / ')} before, ${load1.map((x) => x.toFixed(2)).join(' / ')} after; ` +
  `took ${((Date.now() - t0) / 1000).toFixed(0)} s. Every case: --time ${TIME} --cooldown ${COOLDOWN} --num-rounds 1 --answer-len ${N} --attainment ${GOAL} ` +
  `--precision ${PRECISION * 100}% --seed ${SEED} --max-probes ${MAX_PROBES} (-probes3: 3), SLO e2el <= 1.5 S.`;

const table = [
  '| case | arrival | C | S ms | C/S req/s | --qps | outcome | found [lo, hi) req/s | lo vs C/S | mid vs C/S | C/S in [lo, hi) +-5% | lo +-5% of C/S | ideal run req/s | lo vs ideal | ideal in [lo, hi) +-5% | ideal, seeds 1-10: median (min-max) | runs | wall s | exit |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map((r) =>
    [
      r.kase.name, r.kase.arrival, r.kase.c, r.sMs, num(r.cap, 1), r.kase.range, `${r.t.outcome}${r.t.uncertain ? ' (uncertain)' : ''}`,
      `[${num(r.lo)}, ${num(r.hi)})`, pct(rel(r.lo, r.cap)), pct(rel(r.mid, r.cap)), yes(within(r.cap, r.lo, r.hi)),
      yes(r.lo !== null && Math.abs(rel(r.lo, r.cap)) <= 0.05), num(r.ideal), pct(rel(r.lo, r.ideal)), yes(within(r.ideal, r.lo, r.hi)),
      `${num((r.bySeed[4] + r.bySeed[5]) / 2)} (${num(r.bySeed[0])}-${num(r.bySeed[9])})`, r.t.probes, r.wallS.toFixed(0), r.code,
    ].join(' | ').replace(/^/, '| ').replace(/$/, ' |'),
  ),
];
const details = results.map(
  (r) =>
    `- **${r.kase.name}** (client overhead ${r.overheadMs.toFixed(1)} ms; first failing: ${r.t.firstFailing ? `${r.t.firstFailing.load}: ${r.t.firstFailing.why}` : '-'}): ` +
    r.probes.join('; '),
);
// The base URL's port and the temporary output directory vary from run to run: shown as PORT and DIR.
const shown = (r) => r.argv.map((a, i) => (r.argv[i - 1] === '--base-url' ? 'http://127.0.0.1:PORT/v1' : r.argv[i - 1] === '-o' ? `DIR/${r.kase.name}` : a));
const commands = results.map((r) => `- ${r.kase.name}: \`node dist/mock/mock-main.js --port 0 --ttft-ms ${r.kase.ttft} --itl-ms ${r.kase.itl} --max-concurrency ${r.kase.c} --cached-tokens none\`, then\n  \`node bin/pd-bench.js ${shown(r).join(' ')}\``);

const range = (xs) => (xs.length === 0 ? '-' : `${pct(Math.min(...xs))} to ${pct(Math.max(...xs))}`);
const summaryLines = ['constant', 'poisson'].flatMap((arrival) => {
  const rs = results.filter((r) => r.kase.arrival === arrival);
  if (rs.length === 0) return [];
  const inCap = rs.filter((r) => r.lo !== null && r.hi !== null && r.cap >= r.lo && r.cap < r.hi).length;
  const inIdeal = rs.filter((r) => r.lo !== null && r.hi !== null && r.ideal >= r.lo && r.ideal < r.hi).length;
  return [
    `- ${arrival}: C/S inside the found [lo, hi) itself (not widened) in ${inCap} of ${rs.length} cases, lo vs C/S ${range(rs.flatMap((r) => (r.lo === null ? [] : [rel(r.lo, r.cap)])))}; ` +
      `the ideal run inside [lo, hi) in ${inIdeal} of ${rs.length}, lo vs ideal ${range(rs.flatMap((r) => (r.lo === null || r.ideal === null ? [] : [rel(r.lo, r.ideal)])))}.`,
  ];
});

const header = `# pd-bench SLA search against known capacities

Written by \`nice -n 5 node bench/sla-search.mjs --label NAME\` (after \`npx tsc -p tsconfig.build.json\`); a run replaces
the section of its label and keeps the others (\`--cases a,b\` runs some cases, \`--no-write\` only prints). Each case
starts \`dist/mock/mock-main.js --max-concurrency C\` (at most C requests served at once, the rest queue FIFO; every
answer has n = ${N} tokens, so each takes S = ttft + (n - 1) x itl ms and the mock's throughput capacity is exactly
C / S req/s), then runs \`pd-bench sweep --find max-qps\` against it with \`--slo e2el=<1.5 S>ms\` (a request misses
only when it queued beyond half a service time) and \`--num-rounds 1\` (offered req/s = qps). The found interval is
the summary's \`[capacityRpsLo, capacityRpsHi)\`: the largest offered rate that met the SLO and the smallest failing
one above it.

References:
- **C/S**: the throughput capacity. With \`--arrival constant\` nothing queues below it and the queue grows without
  bound above it, so the SLO capacity is C/S. With \`--arrival poisson\` requests queue before it (M/D/C), so the SLO
  capacity is below C/S by queueing alone; the poisson rows' C/S columns are expected to fail.
- **ideal run**: the seeded arrival times of the run (\`arrivalTimes\` of dist/schedule/arrivals.js, the run's --seed
  and --time) through an ideal C-slot FIFO server of service S plus the client's overhead (E2EL p50 at the lowest
  load minus S): the largest load before the ideal attainment first drops below ${GOAL}. For poisson it is the SLO
  capacity of that very schedule; for constant it lies a little above C/S, since a short run above capacity ends
  before the queue outgrows the SLO's slack (pd-bench's saturation check, a TTFT trend, may still fail such loads).
  The column "seeds 1-10" gives the same for ten other seeds: how much the answer depends on the schedule drawn.

Success: the reference lies in [lo, hi) widened by 5 % on each side ("in [lo, hi) +-5%"), or the point estimate lo
is within 5 % of it ("lo +-5%"). "mid" is (lo + hi) / 2. The cases run with \`--max-probes 1\` (each load decided on
one run, by its attainment estimate) to keep the runtime under 10 minutes; the \`-probes3\` case uses pd-bench's
default 3 (a load whose attainment interval straddles the goal is run again, its requests pooled). Per-probe lines
list load: measured attainment, verdict (ok / miss / sat = saturated) and the ideal run's attainment at that load;
for a load run more than once (#2, #3) capacity.csv gives the attainment pooled over all its runs, on every row.

"(uncertain)" is pd-bench's own flag (summary.json \`uncertain\`): the decision at lo or hi rested on an estimate
whose interval straddled the goal. A load that met on fewer than 381 judged requests is always such an estimate
(a Wilson lower bound of 0.99 at 95 % needs n >= 381, all met), however many runs; pd-bench also raises it when hi
failed by saturation while its attainment interval straddled the goal (see c4s200-constant-probes3).

The ranges are FROM:TO with TO = FROM x 2^k because \`--find\` with \`--qps FROM:TO\` searches only up to the largest
FROM x 2^k not above TO (src/cli/sweep-command.ts planAxis appends \`:x2\` to the bounds and parseAxis keeps the
geometric points, whose last becomes the search's maximum): \`--qps 6:50\` searches 6..48, \`--qps 16:24\` only 16.

A second known capacity from the simulator (src/sim/) was not measured: its engine has no hard throughput limit
to compute. Decode steps take a + b x (context summed over the batch) + c x batch ms (src/sim/presets.ts), so
latency rises smoothly with load up to max-num-seqs 256, and where an SLO fails depends on chunked-prefill
interleaving. That has no closed form; it would need a model of the engine, not a known answer.
`;

const section = `<!-- sla:${LABEL} -->
## ${LABEL}

${meta}

${table.join('\n')}

${summaryLines.join('\n')}

Probes in order (load: measured attainment, verdict, ideal attainment):

${details.join('\n')}

Commands (PORT: the port the mock printed in its ready line; DIR: a temporary directory):

${commands.join('\n')}

<!-- /sla:${LABEL} -->`;

process.stdout.write(`\n${table.join('\n')}\n\n${details.join('\n')}\n`);
if (write) {
  // The header is rewritten; the other labels' sections are kept, this label's replaced (or added at the end).
  const old = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const first = old.indexOf('<!-- sla:');
  let doc = `${header}\n${first >= 0 ? old.slice(first) : ''}`;
  const re = new RegExp(`<!-- sla:${LABEL} -->[\\s\\S]*?<!-- /sla:${LABEL} -->`);
  doc = re.test(doc) ? doc.replace(re, section) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(out, doc.endsWith('\n') ? doc : `${doc}\n`);
  process.stderr.write(`wrote ${out} (section ${LABEL})\n`);
}
if (keep) process.stderr.write(`kept ${tmp}\n`);
