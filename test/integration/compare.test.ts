// compare over real sockets against two mocks: the identical workload reaches both (same users, rounds and
// intended times; byte-identical prompts with frozen history, drifting ones with live history when a target
// fails turns), the orders run what they promise, the statistics find a known TTFT difference, and the CLI path
// writes comparison.json/.csv and report.html that offline compare and `report` reproduce from the saved runs.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildComparisonReport } from '../../src/compare/build-report.js';
import { runComparison, runOrder, type ComparisonPlan } from '../../src/compare/run-comparison.js';
import type { ComparisonReport, RequestSample } from '../../src/compare/types.js';
import { compareCommand, loadInputs, type CompareFlags } from '../../src/cli/compare-command.js';
import { formatComparison } from '../../src/report/comparison-console.js';
import { reportCommand } from '../../src/cli/report-command.js';
import { runCommand } from '../../src/cli/run-command.js';
import { startStack } from '../../src/sim/stack.js';
import type { RunResult } from '../../src/result/schema.js';
import { resolveConfig } from '../../src/config/resolve.js';
import type { RunConfig } from '../../src/config/options.js';
import type { RequestRecord } from '../../src/result/record.js';
import { ConfigError } from '../../src/errors.js';
import { TextFactory } from '../../src/workload/text.js';
import { startMock, type MockKnobs, type MockPerRequest, type StartedMock } from '../helpers/mock-openai.js';

const mocks: StartedMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});
const tmp = mkdtempSync(join(tmpdir(), 'pd-bench-compare-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function mock(knobs: Partial<MockKnobs>, perRequest?: MockPerRequest): Promise<StartedMock> {
  const m = await startMock({ itlMs: 1, ...knobs }, perRequest);
  mocks.push(m);
  return m;
}

const text = new TextFactory(0);
const WORKLOAD: Partial<RunConfig> = { numUsers: 6, numRounds: 3, qps: [12], sharedSystemPrompt: 50, userHistoryPrompt: 50, answerLen: 4, time: 1.5, drainTimeout: 10, requestTimeout: 10 };
/**
 * For tests that need every target to get exactly the same turns on any machine: 12 users at 8 QPS ask every
 * 1.5 s, as long as the launch window, so no user has two turns due in it. Every turn is then its user's first,
 * which waits for nothing: none comes due late, none is left unsent, however slow the targets answer.
 */
const EVERY_TURN_FIRST: Partial<ComparisonPlan> = { qps: 8 };
const everyTurnFirst = (p: ComparisonPlan): ComparisonPlan => ({ ...p, ...EVERY_TURN_FIRST, config: { ...p.config, numUsers: 12, qps: [8], drainTimeout: 60, requestTimeout: 60 } });

function plan(targets: StartedMock[], over: Partial<ComparisonPlan> = {}): ComparisonPlan {
  const { config } = resolveConfig({ flags: {} });
  return {
    targets: targets.map((m, i) => ({ name: ['a', 'b', 'c'][i] as string, baseUrl: m.url, model: 'mock-model', gpus: 1, apiKey: undefined, apiKeyEnv: undefined })),
    config: { ...config, ...WORKLOAD },
    qps: 12,
    order: 'sequential',
    repeat: 1,
    cooldownS: 0,
    history: 'live',
    runId: 'test',
    text,
    ...over,
  };
}

interface Turn {
  user: string;
  round: number;
  body: string;
}
/** What a mock received: (user, round) -> the raw messages, from the session header and the question number. */
function turns(m: StartedMock): Turn[] {
  return m.server.requests
    .filter((q) => q.path === '/v1/chat/completions')
    .map((q) => {
      const body = q.body as { messages: { role: string; content: string }[] };
      const last = body.messages[body.messages.length - 1]?.content ?? '';
      const round = Number(/Here's question #(\d+):/.exec(last)?.[1] ?? 0);
      return { user: String(q.headers['x-user-id']), round, body: JSON.stringify(body.messages) };
    });
}
const keyed = (ts: Turn[]): Map<string, string> => new Map(ts.map((t) => [`${t.user}:${t.round}`, t.body]));

describe('runComparison: the identical workload', () => {
  it('live, sequential: both targets get the same users, rounds and intended times; the slower TTFT is found', async () => {
    // b is made slower than a by construction, not by a margin a busy machine could eat (was b = 40 ms vs a = 5 ms
    // and "ratio > 3"): a runs first, and b answers 4x the p90 TTFT a's run measured (at least 40 ms), so b's p50 is
    // >= 4x a's p50 in the data, and a bootstrap resample's a-median would need most of its draws from a's top tenth
    // to undo it. The schedule gives every turn to both targets however slowly either answers (everyTurnFirst).
    const aTtfts: number[] = [];
    const a = await mock({ ttftMs: 5 });
    let bTtft: number | undefined;
    const b = await mock({ ttftMs: 40 }, () => {
      if (aTtfts.length === 0) throw new Error('b was asked before a finished');
      const sorted = [...aTtfts].sort((x, y) => x - y);
      bTtft ??= Math.max(40, 4 * (sorted[Math.ceil(0.9 * sorted.length) - 1] as number));
      return { ttftMs: bTtft };
    });
    const runs = await runComparison(everyTurnFirst(plan([a, b])), {
      open: (slot) => ({
        onRecord: (r: RequestRecord) => {
          if (slot.target.name === 'a' && r.phase === 'measure' && r.outcome === 'ok') aTtfts.push((r.firstTokenMs as number) - r.sentMs);
        },
      }),
    });
    const [ta, tb] = runs.targets;
    expect(ta?.runs).toHaveLength(1);
    const ka = keyed(turns(a));
    const kb = keyed(turns(b));
    expect(ka.size).toBeGreaterThan(8);
    expect([...kb.keys()].sort()).toEqual([...ka.keys()].sort());
    // Same answers from both mocks, so live history also gives identical prompts here.
    for (const [k, body] of ka) expect(kb.get(k), k).toBe(body);
    const intended = (t: typeof ta): string[] => (t?.samples ?? []).map((s) => `${s.userId}:${s.round}`).sort();
    expect(intended(tb)).toEqual(intended(ta));
    const report = buildComparisonReport({ order: 'sequential', history: 'live', repeat: 1, qps: 8, baseline: 'a', targets: runs.targets.map((t) => ({ name: t.name, baseUrl: '', model: 'm', gpus: 1, runs: t.runs.map((r) => r.result), samples: t.samples })), slo: null, iterations: 500 });
    const ttft = report.comparisons[0]?.metrics.find((m) => m.metric === 'ttft_ms' && m.stat === 'p50');
    expect(ttft?.verdict).toBe('worse');
    expect(ttft?.ratio.value as number).toBeGreaterThan(3);
    expect(report.comparisons[0]?.paired).toBe(true);
    // The sentence names at most three changes, largest first. TTFT's is large by construction, but on a loaded
    // machine the in-process mocks' ITL (and with it TPOT, E2EL) can move more, even enough to crowd TTFT out
    // (was: always "b raised ..." first and always the TTFT clause). So, from what was measured: the changes come
    // largest first, and TTFT's clause is there unless three larger ones fill the sentence. (A busy machine can
    // also get a run judged saturated; the sentence then says so first.)
    const sentence = report.comparisons[0]?.sentence ?? '';
    const changes = sentence.replace(/^(?:(?:both targets were|a was|b was) saturated at this load: [^;]*; )/, '');
    expect(changes).toMatch(/^b (raised|cut|lowered) /);
    const sizes = [...changes.matchAll(/ by (\d+(?:\.\d+)?)% \[/g)].map((x) => Number(x[1]));
    expect(sizes.length).toBeGreaterThan(0);
    sizes.forEach((v, i) => i > 0 && expect(v).toBeLessThanOrEqual((sizes[i - 1] as number) + 1));
    if (!/raised p50 TTFT by \d+% \[\d+%, \d+%\]/.test(changes)) {
      expect(sizes, sentence).toHaveLength(3);
      for (const v of sizes) expect(v, sentence).toBeGreaterThanOrEqual(Math.round(((ttft?.ratio.value as number) - 1) * 100) - 1);
    }
    expect(report.targets[0]?.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
  });

  it('frozen history: a target whose turns fail still receives byte-identical prompts; live history drifts', async () => {
    // b fails every round-1 turn of odd users: live, their round-2 prompt lacks round 1; frozen, it carries a's answer.
    const failOdd: MockPerRequest = (q) => {
      const body = q.body as { messages: { content: string }[] };
      const last = body.messages[body.messages.length - 1]?.content ?? '';
      return /question #1:/.test(last) && Number(q.headers['x-user-id']) % 2 === 1 ? { failStatus: 500 } : undefined;
    };
    for (const history of ['frozen', 'live'] as const) {
      const a = await mock({ ttftMs: 2 });
      const b = await mock({ ttftMs: 2 }, failOdd);
      const runs = await runComparison(plan([a, b], { history }));
      const ka = keyed(turns(a));
      const kb = keyed(turns(b));
      const differing = [...ka].filter(([k, body]) => kb.has(k) && kb.get(k) !== body).map(([k]) => k);
      expect(runs.targets[1]?.runs[0]?.result.counts.failed).toBeGreaterThan(0);
      if (history === 'frozen') {
        expect(differing).toEqual([]);
        expect(runs.answers?.size).toBeGreaterThan(8);
      } else {
        expect(differing.length).toBeGreaterThan(0);
        expect(differing.every((k) => Number(k.split(':')[0]) % 2 === 1)).toBe(true);
        expect(runs.answers).toBeUndefined();
      }
      await Promise.all(mocks.splice(0).map((m) => m.close()));
    }
  });

  it('interleaved runs A B, B A; simultaneous runs all targets at once with a recording pass first for frozen history', async () => {
    expect(runOrder(['a', 'b'], 'interleaved', 2).map((w) => w.map((x) => `${x.target}${x.rep}`).join('+'))).toEqual(['a0', 'b0', 'b1', 'a1']);
    expect(runOrder(['a', 'b'], 'sequential', 2).map((w) => w.map((x) => `${x.target}${x.rep}`).join('+'))).toEqual(['a0', 'a1', 'b0', 'b1']);
    expect(runOrder(['a', 'b'], 'simultaneous', 1).map((w) => w.map((x) => `${x.target}${x.rep}`).join('+'))).toEqual(['a0+b0']);

    const a = await mock({ ttftMs: 2 });
    const b = await mock({ ttftMs: 2 });
    // everyTurnFirst: the recording pass and both measured runs launch the same turns on any machine (the check
    // below lines a's measured turns up with b's by count).
    const runs = await runComparison(everyTurnFirst(plan([a, b], { order: 'simultaneous', history: 'frozen' })));
    expect(runs.recording).toBeDefined();
    const [ra, rb] = runs.targets.map((t) => t.runs[0]?.result);
    // Both measured runs overlap in time.
    expect(Date.parse(rb?.startedAt as string)).toBeLessThan(Date.parse(ra?.endedAt as string));
    expect(Date.parse(ra?.startedAt as string)).toBeLessThan(Date.parse(rb?.endedAt as string));
    // a served the recording pass and the measured run: its measured turns repeat the recording's prompts.
    const ka = turns(a);
    const kb = keyed(turns(b));
    const measuredA = keyed(ka.slice(ka.length - kb.size));
    for (const [k, body] of kb) expect(measuredA.get(k), k).toBe(body);
  });
});

/** TTFTs of a target's successful requests. */
const okTtfts = (samples: readonly RequestSample[]): number[] => samples.filter((x) => x.outcome === 'ok').map((x) => x.ttftMs as number);
/** Share of judged (not cancelled) requests that succeeded within `ttftMs`: a TTFT-only SLO's attainment. */
const shareWithin = (samples: readonly RequestSample[], ttftMs: number): number => {
  const judged = samples.filter((x) => x.outcome !== 'cancelled');
  return judged.filter((x) => x.outcome === 'ok' && (x.ttftMs === undefined || x.ttftMs <= ttftMs)).length / judged.length;
};

describe('compare command: files, offline, report', () => {
  const flags = { 'num-users': 6, 'num-rounds': 3, qps: '12', 'shared-system-prompt': 50, 'user-history-prompt': 50, 'answer-len': 4, time: 1.5, 'drain-timeout': 10 };
  const sink = (): NodeJS.WriteStream => Object.assign(new PassThrough().resume(), { isTTY: false }) as unknown as NodeJS.WriteStream;

  it('writes per-target runs, comparison.json/.csv and report.html; offline compare and report reproduce the verdicts', async () => {
    const out = join(tmp, 'live');
    // pd is slower than colocated by construction (was 40 ms vs 5 ms, a margin a busy machine can eat): once
    // colocated's run is saved, pd answers 4x the slowest TTFT it measured (at least 40 ms). The preflight's short
    // request (max_tokens 2) comes before any run.
    const a = await mock({ ttftMs: 5 });
    let bTtft: number | undefined;
    const b = await mock({ ttftMs: 40 }, (q) => {
      if ((q.body as { max_tokens?: number } | undefined)?.max_tokens === 2) return undefined;
      bTtft ??= Math.max(40, 4 * Math.max(...okTtfts(loadInputs([join(out, 'colocated')])[0]?.samples ?? [])));
      return { ttftMs: bTtft };
    });
    const compare: CompareFlags = { target: [`colocated=${a.url},gpus=2`, `pd=${b.url},gpus=2`], cooldown: '0', slo: 'ttft=20ms', iterations: '500' };
    const r = await compareCommand({ flags, compare, dirs: [], outputDir: out, stdout: sink(), stderr: sink() });
    expect(r.exitCode).toBe(0);
    for (const f of ['comparison.json', 'comparison.csv', 'report.html', 'colocated/requests.csv', 'colocated/requests.jsonl', 'pd/summary.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const live = r.report as ComparisonReport;
    expect(live.baseline).toBe('colocated');
    const verdict = (rep: ComparisonReport): string | undefined => rep.comparisons[0]?.metrics.find((m) => m.metric === 'ttft_ms' && m.stat === 'p50')?.verdict;
    expect(verdict(live)).toBe('worse');
    // Every pd TTFT is >= 40 ms, over the 20 ms SLO: an ordering. colocated's attainment was "> 0.9", which is how
    // many of its TTFTs a fast machine keeps under 20 ms; it must equal the share its saved requests show.
    const saved = loadInputs([join(out, 'colocated'), join(out, 'pd')]);
    expect(live.targets.find((t) => t.name === 'pd')?.slo?.attainment).toBe(0);
    expect(live.targets.find((t) => t.name === 'colocated')?.slo?.attainment as number).toBeCloseTo(shareWithin(saved[0]?.samples ?? [], 20), 9);
    const csv = readFileSync(join(out, 'comparison.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^target,role,baseline,metric,stat,unit,estimate,estimate_lo,estimate_hi/);
    // One row per target x metric: 12 latency rows, 2 throughput, goodput and attainment.
    expect(csv.length - 1).toBe(2 * 16);
    expect(csv.filter((l) => l.startsWith('pd,candidate,colocated,ttft_ms,p50,ms,')).length).toBe(1);

    // Offline: the two saved run directories give the same verdicts (records re-derived from requests.jsonl).
    const off = await compareCommand({ flags: {}, compare: { slo: 'ttft=20ms', iterations: '500' }, dirs: [join(out, 'colocated'), join(out, 'pd')], outputDir: join(tmp, 'offline'), stdout: sink(), stderr: sink() });
    const offline = off.report as ComparisonReport;
    expect(offline.order).toBe('offline');
    expect(offline.comparisons[0]?.metrics.map((m) => m.verdict)).toEqual(live.comparisons[0]?.metrics.map((m) => m.verdict));
    const p50 = (rep: ComparisonReport): number => rep.comparisons[0]?.metrics.find((m) => m.metric === 'ttft_ms' && m.stat === 'p50')?.candidate.value as number;
    expect(Math.abs(p50(offline) - p50(live))).toBeLessThan(0.002);

    // report: regenerates from the saved comparison, with a new SLO applied.
    rmSync(join(out, 'report.html'));
    expect(await reportCommand({ dir: out, compare: { slo: 'ttft=100ms' }, stdout: sink(), stderr: sink() })).toBe(0);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/<html/i);
    const again = JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8')) as ComparisonReport;
    expect(again.slo?.ttftMs).toBe(100);
    // Was "> 0.9": the new SLO is applied to the saved requests, whatever their TTFTs were on this machine.
    expect(again.targets.find((t) => t.name === 'pd')?.slo?.attainment as number).toBeCloseTo(shareWithin(saved[1]?.samples ?? [], 100), 9);
    // A single run directory gets its own report.
    expect(await reportCommand({ dir: join(out, 'pd'), compare: {}, stdout: sink(), stderr: sink() })).toBe(0);
    expect(existsSync(join(out, 'pd', 'report.html'))).toBe(true);

    // Different workloads are refused with the reason, unless --force.
    const c = await mock({ ttftMs: 5 });
    const other = join(tmp, 'other');
    await compareCommand({ flags: { ...flags, seed: 7 }, compare: { target: [`x=${c.url}`, `y=${a.url}`], cooldown: '0', iterations: '500' }, dirs: [], outputDir: other, stdout: sink(), stderr: sink() });
    const refuse = compareCommand({ flags: {}, compare: {}, dirs: [join(out, 'colocated'), join(other, 'x')], outputDir: join(tmp, 'refused'), stdout: sink(), stderr: sink() });
    await expect(refuse).rejects.toThrow(ConfigError);
    await expect(refuse).rejects.toThrow(/differ in seed \(0 vs 7\).*--force/);
    const forced = await compareCommand({ flags: {}, compare: { force: true, iterations: '500' }, dirs: [join(out, 'colocated'), join(other, 'x')], outputDir: join(tmp, 'forced'), stdout: sink(), stderr: sink() });
    expect(forced.report?.notes.join('\n')).toMatch(/--force: the workloads differ in seed/);
  });

  it('rejects bad input with one line per problem before any traffic', async () => {
    const run = (compare: CompareFlags, extra: Record<string, unknown> = {}): Promise<unknown> =>
      compareCommand({ flags: { ...flags, ...extra }, compare, dirs: [], outputDir: join(tmp, 'bad'), stdout: sink(), stderr: sink() });
    await expect(run({ target: ['a=http://127.0.0.1:1/v1'] })).rejects.toThrow(/two or more targets/);
    await expect(run({ target: ['a=http://127.0.0.1:1/v1', 'a=http://127.0.0.1:2/v1'] })).rejects.toThrow(/distinct target names/);
    await expect(run({ target: ['a=ftp://x', 'b=http://127.0.0.1:2/v1'] })).rejects.toThrow(/--target a/);
    await expect(run({ target: ['a=http://u:secret@127.0.0.1:1/v1', 'b=http://127.0.0.1:2/v1'] })).rejects.toThrow(/\*\*\*/);
    await expect(run({ target: ['a=http://u:secret@127.0.0.1:1/v1', 'b=http://127.0.0.1:2/v1'] })).rejects.not.toThrow(/secret/);
    await expect(run({ target: ['a=http://127.0.0.1:1/v1', 'b=http://127.0.0.1:2/v1'], order: 'random' })).rejects.toThrow(/--order.*sequential, interleaved, simultaneous/);
    await expect(run({ target: ['a=http://127.0.0.1:1/v1', 'b=http://127.0.0.1:2/v1'], slo: 'ttft=fast' })).rejects.toThrow(/--slo/);
    await expect(run({ target: ['a=http://127.0.0.1:1/v1', 'b=http://127.0.0.1:2/v1'], gpus: ['c=2'] })).rejects.toThrow(/--gpus/);
    await expect(run({ target: ['a=http://127.0.0.1:1/v1', 'b=http://127.0.0.1:2/v1'] }, { qps: '1,2' })).rejects.toThrow(/one rate for compare/);
    await expect(run({ target: ['a=http://127.0.0.1:1/v1', 'b=http://127.0.0.1:2/v1'], scrape: ['c:prefill=http://127.0.0.1:3'] })).rejects.toThrow(/TARGET:ROLE=URL/);
    await expect(run({ target: ['a=http://127.0.0.1:1/v1,api-key-env=PD_BENCH_NO_SUCH_VAR', 'b=http://127.0.0.1:2/v1'] })).rejects.toThrow(/is not set/);
  });
});

describe('--scrape', () => {
  it('a plain run scrapes the PD stack\'s engines over the measured phase; the token deltas match what the run saw', async () => {
    const stack = await startStack({ topology: 'pd', replicas: 1, prefill: 1, decode: 1, preset: 'mistral-7b-h100', link: 'rdma-400g', seed: 3, timeScale: 1, faults: {}, pdJsonContentType: false });
    try {
      const out = join(tmp, 'scraped');
      const flags = { 'base-url': stack.routerUrl, 'num-users': 4, 'num-rounds': 2, qps: '4', 'shared-system-prompt': 50, 'user-history-prompt': 100, 'answer-len': 8, time: 2, 'drain-timeout': 10 };
      const scrape = [`prefill=${stack.engines.prefill?.[0]}`, `decode=${stack.engines.decode?.[0]}`];
      const r = await runCommand({ flags, scrape, scrapeInterval: '0.2', outputDir: out, stdout: new PassThrough().resume(), stderr: Object.assign(new PassThrough().resume(), { isTTY: false }) as unknown as NodeJS.WriteStream });
      expect(r.exitCode).toBe(0);
      const saved = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as RunResult;
      const roles = saved.server?.roles ?? [];
      expect(roles.map((x) => x.role)).toEqual(['prefill', 'decode']);
      for (const role of roles) {
        expect(role.failures).toBe(0);
        // The first scrape at the start, at least one 0.2 s tick in the >= 2 s measured phase, the last at stop
        // (was ">= 5", which is how many ticks a fast machine fits in).
        expect(role.scrapes).toBeGreaterThanOrEqual(3);
        expect(role.timesS.length).toBe(role.scrapes);
      }
      const decode = roles.find((x) => x.role === 'decode');
      // Every token the run received was generated by the decode engine within the scraped window.
      expect(decode?.derived.generationTokens).toBe(saved.tokens.completion);
      expect(decode?.derived.requestsSucceeded).toBe(saved.counts.ok);
      // The comparison console names the key scraped figures per target and role, and the per-round view.
      const inputs = loadInputs([out, out]);
      const text = formatComparison(buildComparisonReport({ order: 'offline', history: 'live', repeat: 1, qps: 4, baseline: inputs[0]?.name as string, targets: inputs, slo: null, iterations: 200 }));
      expect(text).toMatch(/server scraped\/decode: .*generation tok\/s \d+/);
      expect(text).toMatch(/server scraped\/prefill: prefix-cache hits [\d.]+%/);
      expect(text).toMatch(/TTFT p50 \/ cached by round/);
      await expect(runCommand({ flags, scrape: ['prefill'], outputDir: join(tmp, 'bad-scrape') })).rejects.toThrow(/--scrape/);
    } finally {
      await stack.close();
    }
  });
});
