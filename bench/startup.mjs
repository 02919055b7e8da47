#!/usr/bin/env node
// Start-up cost of pd-bench in CPU-seconds (issue "One orchestration layer...", item 9): what a process pays before
// it can send its first request. Every sample is a fresh node process, so module loading and one-time tables
// count each time, as they do for each run, worker thread, sweep process and shard pod.
//
//   npm run build && node bench/startup.mjs --label after [--samples N]
//   node bench/startup.mjs --tree before=DIR --tree after=. [--samples N]
//
// A --tree is a built checkout (dist/ and bin/ present; DIR can be an unpacked `git archive` with node_modules
// linked in). With several, each sample measures every tree in turn, so they share the machine's load: CPU time
// grows with the load of a shared machine (SMT siblings, caches), so only figures taken side by side compare.
//
// Measures, median (and range) over N samples (default 7):
//   node -e ''                       the floor: node's own start-up
//   TextFactory                      import dist/workload/text.js, construct a TextFactory(seed), then build the
//                                    texts of a default run's first turns (1000-token system, 2000-token contexts)
//   run 1 s                          `node bin/pd-bench.js run` of 1 s against the mock (dist/mock/mock-main.js,
//                                    another process): CPU when the first request after the preflight is created
//                                    (bench/startup-probe.mjs) and CPU of the whole process
//   run 1 s --workers 2              the same with two worker threads (whole process only: a preload does not
//                                    reach worker threads)
// Writes a section per label into bench/STARTUP.md (--out FILE elsewhere), keeping the other labels' sections.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const samples = Number(opt('--samples', '7'));
const out = resolve(opt('--out', join(root, 'bench/STARTUP.md')));
const treeArgs = args.flatMap((a, i) => (a === '--tree' && args[i + 1] !== undefined ? [args[i + 1]] : []));
const trees = (treeArgs.length > 0 ? treeArgs : [`${opt('--label', 'current')}=.`]).map((t) => {
  const eq = t.indexOf('=');
  if (eq <= 0) throw new Error(`--tree must be LABEL=DIR, got ${t}`);
  return { label: t.slice(0, eq), dir: resolve(root, t.slice(eq + 1)) };
});
if (!Number.isInteger(samples) || samples < 1) throw new Error(`--samples must be a whole number >= 1, got ${samples}`);
for (const { label, dir } of trees) {
  if (!/^[a-z0-9-]+$/.test(label)) throw new Error(`a label must be lower-case letters, digits and dashes, got ${label}`);
  if (!existsSync(join(dir, 'dist/workload/text.js'))) throw new Error(`${dir}/dist is missing: run \`npm run build\` there first`);
}

const tmp = mkdtempSync(join(tmpdir(), 'pd-bench-startup-'));
let mock;
const cleanup = () => {
  if (mock && mock.exitCode === null && mock.signalCode === null) mock.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

/** Runs node with `argv` and returns its stdout; throws on a non-zero exit. */
function node(argv, env = {}, cwd = root) {
  const r = spawnSync(process.execPath, argv, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}`);
  return r.stdout;
}

// ---- the measurements --------------------------------------------------------------------------------------

function bareNode() {
  const o = JSON.parse(node(['-e', 'const u = process.cpuUsage(); console.log(JSON.stringify({ totalS: (u.user + u.system) / 1e6 }))']));
  return { total: o.totalS };
}

function textFactory(dir, seed) {
  const url = pathToFileURL(join(dir, 'dist/workload/text.js')).href;
  const code = `
    const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
    const c0 = cpu();
    const { TextFactory, TextKind } = await import(${JSON.stringify(url)});
    const c1 = cpu();
    const f = new TextFactory(${seed});
    const c2 = cpu();
    // A default run's first prompts: the shared system text and ten users' contexts.
    let chars = f.text(1000, TextKind.system, []).length;
    for (let u = 0; u < 10; u++) chars += f.text(2000, TextKind.context, [u]).length;
    const c3 = cpu();
    console.log(JSON.stringify({ importS: c1 - c0, constructS: c2 - c1, textsS: c3 - c2, totalS: c3, chars }));`;
  const o = JSON.parse(node(['--input-type=module', '-e', code], {}, dir));
  return { import: o.importS, construct: o.constructS, texts: o.textsS, total: o.totalS };
}

async function startMock() {
  mock = spawn(process.execPath, [join(root, 'dist/mock/mock-main.js'), '--port', '0', '--ttft-ms', '5', '--itl-ms', '1', '--exit-on-stdin-close'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: mock.stdout });
  for await (const line of rl) {
    const m = /"port":(\d+)/.exec(line);
    if (m) return Number(m[1]);
  }
  throw new Error('the mock exited before it was ready');
}

function run(dir, port, seed, workers) {
  const probe = join(tmp, `probe-${seed}-${workers}.jsonl`);
  const argv = [
    '--import', pathToFileURL(join(root, 'bench/startup-probe.mjs')).href,
    join(dir, 'bin/pd-bench.js'), 'run',
    '--base-url', `http://127.0.0.1:${port}/v1`,
    '--time', '1', '--num-users', '10', '--qps', '10', '--answer-len', '10', '--drain-timeout', '5',
    '--seed', String(seed), '--workers', String(workers),
    '--output-dir', join(tmp, `run-${seed}-${workers}`), '--run-id', `startup-${seed}`,
  ];
  // The single-CPU relaunch would put the measured work in a child process the probe does not see.
  rmSync(probe, { force: true });
  node(argv, { PD_BENCH_STARTUP_PROBE: probe, PD_BENCH_SINGLE_THREADED_GC: '0' }, dir);
  const o = JSON.parse(readFileSync(probe, 'utf8').trim().split('\n').at(-1));
  if (workers === 1 && o.firstRequestCpuS === null) throw new Error('the run sent no request after the preflight');
  return workers === 1 ? { firstRequest: o.firstRequestCpuS, total: o.exitCpuS } : { total: o.exitCpuS };
}

// ---- statistics and the report ------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x) => x.toFixed(3);
function summarize(rows) {
  const keys = Object.keys(rows[0]);
  return Object.fromEntries(keys.map((k) => {
    const xs = rows.map((r) => r[k]);
    return [k, { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }];
  }));
}
const cell = (s) => `${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)})`;

function git(...a) {
  const r = spawnSync('git', a, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '?';
}

/** What a tree is: this checkout (its commit, and whether src/bin/package.json differ from it) or a directory. */
function describe(dir) {
  if (dir === root) {
    const dirty = git('status', '--porcelain', '--', 'src', 'bin', 'package.json') ? ' with uncommitted changes to src/bin/package.json' : '';
    return `this checkout (commit ${git('rev-parse', '--short', 'HEAD')}${dirty})`;
  }
  const commit = existsSync(join(dir, 'COMMIT')) ? ` (commit ${readFileSync(join(dir, 'COMMIT'), 'utf8').trim()})` : '';
  return `${dir.startsWith(root + '/') ? dir.slice(root.length + 1) : dir}${commit}`;
}

async function main() {
  const t0 = Date.now();
  const load0 = loadavg();
  const rows = trees.map(() => ({ bare: [], text: [], run: [], workers: [] }));
  const port = await startMock();
  for (let i = 0; i < samples; i++) {
    const seed = i + 1;
    trees.forEach(({ label, dir }, t) => {
      const r = rows[t];
      r.bare.push(bareNode());
      r.text.push(textFactory(dir, seed));
      r.run.push(run(dir, port, seed, 1));
      r.workers.push(run(dir, port, seed, 2));
      process.stderr.write(`sample ${i + 1}/${samples} ${label}: node ${fmt(r.bare[i].total)}, TextFactory process ${fmt(r.text[i].total)}, run before first request ${fmt(r.run[i].firstRequest)}, run ${fmt(r.run[i].total)}, --workers 2 ${fmt(r.workers[i].total)} CPU-s\n`);
    });
  }
  const when = `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}; ${samples} samples${trees.length > 1 ? ` of each of ${trees.map((t) => t.label).join(', ')}, taken in turn` : ''}, each a fresh process; ` +
    `${cpus().length} x ${cpus()[0]?.model.trim() ?? '?'}, Node ${process.version}; load average ${load0.map((x) => x.toFixed(2)).join(' / ')} before, ` +
    `${loadavg().map((x) => x.toFixed(2)).join(' / ')} after; took ${((Date.now() - t0) / 1000).toFixed(0)} s.`;
  const sections = trees.map(({ label, dir }, t) => {
    const s = Object.fromEntries(Object.entries(rows[t]).map(([k, v]) => [k, summarize(v)]));
    return [
      `<!-- startup:${label} -->`,
      `## ${label}`,
      '',
      `${describe(dir)}. ${when}`,
      '',
      'CPU-seconds (user + system) of the measured process, median (min-max):',
      '',
      '| what | CPU-s |',
      '|---|---|',
      `| \`node -e ''\` (node's own start-up, the floor) | ${cell(s.bare.total)} |`,
      `| TextFactory: import dist/workload/text.js | ${cell(s.text.import)} |`,
      `| TextFactory: \`new TextFactory(seed)\` | ${cell(s.text.construct)} |`,
      `| TextFactory: first texts (1000-token system + 10 x 2000-token contexts) | ${cell(s.text.texts)} |`,
      `| TextFactory: whole process | ${cell(s.text.total)} |`,
      `| **run 1 s: before the first request** (after the preflight) | **${cell(s.run.firstRequest)}** |`,
      `| run 1 s: whole process | ${cell(s.run.total)} |`,
      `| run 1 s --workers 2: whole process | ${cell(s.workers.total)} |`,
      '',
      `<!-- /startup:${label} -->`,
    ].join('\n');
  });

  const header = [
    '# pd-bench start-up cost',
    '',
    'Written by `node bench/startup.mjs` (after `npm run build`); a run replaces the sections of the labels it measures',
    'and keeps the rest. The runs are `node bin/pd-bench.js run --base-url <mock> --time 1 --num-users 10 --qps 10',
    '--answer-len 10` against `dist/mock/mock-main.js --ttft-ms 5 --itl-ms 1` in another process; "before the first',
    'request" is the process\'s CPU when undici creates the first request after the preflight (bench/startup-probe.mjs,',
    'preloaded).',
    '',
  ].join('\n');
  let doc = existsSync(out) ? readFileSync(out, 'utf8') : header;
  trees.forEach(({ label }, t) => {
    const re = new RegExp(`<!-- startup:${label} -->[\\s\\S]*?<!-- /startup:${label} -->`);
    doc = re.test(doc) ? doc.replace(re, sections[t]) : `${doc.trimEnd()}\n\n${sections[t]}\n`;
  });
  writeFileSync(out, doc);
  process.stdout.write(sections.join('\n\n') + '\n');
  mock.stdin.end();
}

main().catch((err) => {
  process.stderr.write(`startup bench: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
