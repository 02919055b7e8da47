// Merges RunResults into one: the shares of one run that --workers spread over worker threads, or the results of
// separate client processes that ran together against one target with distinct --init-user-id ranges. Latency
// metrics merge exactly (merge-stats.ts: their HDR histograms are added, sums and sums of squares summed), counts and tokens are
// summed and every rate is recomputed from the merged counts. What cannot be exact (per-window percentiles, which
// carry no histogram) is labelled approximate in the merged result's notes. Pure: no IO, no clock.
import { ConfigError, type ConfigIssue } from '../errors.js';
import type { ErrorClass } from '../result/record.js';
import { METRIC_NAMES, type ClientHealth, type MetricBlock, type MetricName, type RoundStat, type RunResult, type UnsentReason, type WindowSummary } from '../result/schema.js';
import type { ScrapeResult } from '../result/server-metrics.js';
import { vllmCompatibleKeys } from '../result/vllm-keys.js';
import { mergeBlocks, mergeSigned, mergeStats, weighted } from './merge-stats.js';
import { isTokenSourceNote, tokenSourceNote } from './token-notes.js';
import { sumRunCounts } from './round-aggregator.js';

/**
 * `partitions`: shares of one seeded schedule (the --workers threads: same config, each ran the users k with
 * k mod N = i), so the schedule's rates are the run's. `clients`: complete runs of separate client processes
 * with distinct --init-user-id ranges, started together against one target; their configured QPS and expected
 * rates add up.
 */
export type MergeKind = 'partitions' | 'clients';

export interface MergeOptions {
  /** Default: `partitions` when every part has the same --init-user-id, `clients` when they all differ. */
  kind?: MergeKind;
  /** Names of the parts in reasons and notes (default `worker i` for partitions, `client i` for clients). */
  partNames?: readonly string[];
  /**
   * The parts ran as threads of one process: the peak RSS is the process's (the largest part's), and each part's
   * CPU figure is already process-wide (the largest one is kept) unless `processCpu` gives the measured one.
   */
  sameProcess?: boolean;
  /** The process's CPU time over the measured phase, measured by the coordinating thread (wins over the parts'). */
  processCpu?: { cpuSeconds: number; wallS: number };
  runId?: string;
  label?: string;
  /** The coordinator's wall-clock origin (default: the earliest part's). */
  wallStartMs?: number;
  /** Server metrics scraped over the whole run (default: the first part's that has any). */
  server?: ScrapeResult | null;
  /** Force `interrupted` (default: any part interrupted). */
  interrupted?: boolean;
  /** Notes to add (a crashed worker, ...). */
  notes?: readonly string[];
}

/**
 * Merges the log windows with the same index (they cover the same span: the parts share one measured start and
 * one --log-interval). Counts, in-flight and rates add up; the p50/p99 fields carry no histogram, so they are
 * completed-weighted means of the parts' (approximate: the true percentile of the union lies between the parts').
 */
export function mergeWindows(ws: readonly WindowSummary[]): WindowSummary {
  const first = ws[0];
  if (!first) throw new RangeError('mergeWindows: no windows');
  const sum = (k: 'launched' | 'completed' | 'failed' | 'cancelled' | 'inFlight' | 'outputTokensPerS' | 'requestsPerS'): number => ws.reduce((a, w) => a + w[k], 0);
  const pct = (k: 'ttftP50Ms' | 'ttftP99Ms' | 'itlP50Ms' | 'itlP99Ms'): number | null => weighted(ws.map((w) => ({ w: Math.max(w.completed, 1), v: w[k] })));
  return {
    startS: Math.min(...ws.map((w) => w.startS)),
    endS: Math.max(...ws.map((w) => w.endS)),
    launched: sum('launched'),
    completed: sum('completed'),
    failed: sum('failed'),
    cancelled: sum('cancelled'),
    inFlight: sum('inFlight'),
    ttftP50Ms: pct('ttftP50Ms'),
    ttftP99Ms: pct('ttftP99Ms'),
    itlP50Ms: pct('itlP50Ms'),
    itlP99Ms: pct('itlP99Ms'),
    outputTokensPerS: sum('outputTokensPerS'),
    requestsPerS: sum('requestsPerS'),
  };
}

/** Config keys in which the parts may differ (separate clients may use their own API keys). */
const FREE_CONFIG_KEYS = new Set(['initUserId', 'workers', 'apiKey']);

/** An upper bound of the user ids a run can use: init + 1 .. init + users + joins within --time + 1. */
function userIdRange(r: RunResult): [number, number] {
  const init = r.config.initUserId;
  const joins = r.schedule.gapBetweenUsersS > 0 ? Math.ceil(r.config.time / r.schedule.gapBetweenUsersS) : 0;
  return [init + 1, init + r.config.numUsers + joins + 1];
}

function detectKind(parts: readonly RunResult[]): MergeKind {
  const ids = new Set(parts.map((p) => p.config.initUserId));
  if (ids.size === 1) return 'partitions';
  if (ids.size === parts.length) return 'clients';
  throw new ConfigError([
    {
      field: 'config.initUserId',
      value: parts.map((p) => p.config.initUserId),
      allowed: 'the same in every part (the shares of one --workers run) or different in every part (separate clients, each with its own --init-user-id range)',
    },
  ]);
}

/** Refuses parts that are not one experiment: another target, another config, another QPS point. */
function checkCompatible(parts: readonly RunResult[], kind: MergeKind): void {
  const issues: ConfigIssue[] = [];
  const p0 = parts[0] as RunResult;
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  parts.forEach((p, i) => {
    if (i === 0) return;
    const differs = (field: string, value: unknown, expected: unknown, why: string): void => {
      issues.push({ field: `parts[${i}].${field}`, value, allowed: `must equal parts[0]'s ${JSON.stringify(expected)}: ${why}` });
    };
    if (p.schema !== p0.schema || p.schemaVersion !== p0.schemaVersion) differs('schemaVersion', `${p.schema}@${p.schemaVersion}`, `${p0.schema}@${p0.schemaVersion}`, 'only results of one schema merge');
    for (const k of ['baseUrl', 'model', 'endpoint'] as const) {
      if (p.target[k] !== p0.target[k]) differs(`target.${k}`, p.target[k], p0.target[k], 'results of different targets measure different things');
    }
    const keys = new Set([...Object.keys(p.config), ...Object.keys(p0.config)]);
    for (const k of keys) {
      if (FREE_CONFIG_KEYS.has(k)) continue;
      const a = (p.config as Record<string, unknown>)[k];
      const b = (p0.config as Record<string, unknown>)[k];
      if (!same(a, b)) differs(`config.${k}`, a, b, 'only runs of one configuration merge (they may differ in init-user-id)');
    }
    if (p.schedule.configuredQps !== p0.schedule.configuredQps) differs('schedule.configuredQps', p.schedule.configuredQps, p0.schedule.configuredQps, 'only the same QPS point of a sweep merges');
    if (kind === 'partitions' && p.config.initUserId !== p0.config.initUserId) {
      differs('config.initUserId', p.config.initUserId, p0.config.initUserId, 'the shares of one --workers run share one user-id range');
    }
  });
  if (kind === 'clients') {
    const ranges = parts.map(userIdRange);
    ranges.forEach(([lo, hi], i) => {
      ranges.forEach(([lo2, hi2], j) => {
        if (j <= i || hi < lo2 || hi2 < lo) return;
        issues.push({
          field: `parts[${j}].config.initUserId`,
          value: parts[j]?.config.initUserId,
          allowed: `user ids ${lo2}..${hi2} overlap parts[${i}]'s ${lo}..${hi}: separate clients need disjoint --init-user-id ranges (their users would share sessions and prefixes)`,
        });
      });
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);
}

const NUMBER = /-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/g;

/** Notes whose numbers at these positions are counts: the merged note carries their sums. */
const SUMMED_NOTES: readonly { shape: RegExp; sum: readonly number[] }[] = [
  { shape: /^# turn\(s\) came due /, sum: [0] },
  { shape: /^# request\(s\) were cancelled/, sum: [0] },
  { shape: /^# turn\(s\) waited for one of /, sum: [0] },
  { shape: /^frozen history: # turn\(s\)/, sum: [0] },
  { shape: /^the server sent # tokens in # content chunks/, sum: [0, 1] },
];

/**
 * The parts' notes, once each. Notes that differ only in their numbers are one note: summed where the numbers
 * are known counts, otherwise kept per part with its name. Client-health and token-source notes are left out:
 * they are rebuilt from the merged result.
 */
function mergeNotes(parts: readonly RunResult[], names: readonly string[]): string[] {
  const groups = new Map<string, { part: number; text: string }[]>();
  parts.forEach((p, i) => {
    for (const n of p.notes) {
      if (n.startsWith('client unhealthy: ') || isTokenSourceNote(n)) continue;
      const shape = n.replace(NUMBER, '#');
      let g = groups.get(shape);
      if (!g) groups.set(shape, (g = []));
      g.push({ part: i, text: n });
    }
  });
  const out: string[] = [];
  for (const [shape, g] of groups) {
    const texts = [...new Set(g.map((x) => x.text))];
    if (texts.length === 1) {
      out.push(texts[0] as string);
      continue;
    }
    const rule = SUMMED_NOTES.find((r) => r.shape.test(shape));
    const nums = g.map((x) => (x.text.match(NUMBER) ?? []).map(Number));
    const width = nums[0]?.length ?? 0;
    const summable =
      rule !== undefined &&
      nums.every((n) => n.length === width) &&
      Array.from({ length: width }, (_, k) => k).every((k) => rule.sum.includes(k) || nums.every((n) => n[k] === nums[0]?.[k]));
    if (summable && rule) {
      let k = 0;
      out.push(
        (g[0] as { text: string }).text.replace(NUMBER, (m) => {
          const idx = k++;
          return rule.sum.includes(idx) ? String(nums.reduce((a, n) => a + (n[idx] ?? 0), 0)) : m;
        }),
      );
    } else {
      for (const x of g) out.push(`${names[x.part] ?? `part ${x.part}`}: ${x.text}`);
    }
  }
  return out;
}

/**
 * Saturation of merged parts: saturated when any part saw it (each part saw its share of the same load), with
 * each reason naming its part. The evidence figures are those of the first saturated part (else the first part):
 * trends of the whole cannot be rebuilt from the parts' summaries.
 */
function mergeSaturation(parts: readonly RunResult[], names: readonly string[]): Pick<RunResult, 'target' | 'saturation'> {
  const p0 = parts[0] as RunResult;
  if (parts.every((p) => p.saturation === undefined)) return { target: p0.target };
  const reasons = parts.flatMap((p, i) => (p.saturation?.reasons ?? []).map((r) => `${names[i] ?? `part ${i}`}: ${r}`));
  const lead = parts.find((p) => p.saturation?.saturated) ?? p0;
  const saturated = reasons.length > 0;
  const base = lead.saturation ?? { saturated, reasons, evidence: { waitedShare: null, launchRatio: null, ttftTrend: null, backlogTrend: null, queue: [] } };
  return { target: { ...p0.target, saturated, reasons }, saturation: { ...base, saturated, reasons } };
}

function mergeHealth(parts: readonly RunResult[], names: readonly string[], opts: MergeOptions, scheduleLagP99Ms: number | null, senderLag: ClientHealth['senderLag']): ClientHealth {
  const hs = parts.map((p) => p.client);
  const h0 = hs[0] as ClientHealth;
  const samples = hs.reduce((a, h) => a + h.loopDelayMs.samples, 0);
  const reasons = hs.flatMap((h, i) => h.reasons.map((r) => `${names[i] ?? `part ${i}`}: ${r}`));
  let cpuSeconds: number;
  let cpuShare: number;
  if (opts.processCpu) {
    cpuSeconds = opts.processCpu.cpuSeconds;
    cpuShare = opts.processCpu.wallS > 0 ? cpuSeconds / opts.processCpu.wallS : 0;
  } else if (opts.sameProcess) {
    // process.cpuUsage() is process-wide in every thread: each part already counted all of them.
    cpuSeconds = Math.max(...hs.map((h) => h.cpuSeconds));
    cpuShare = Math.max(...hs.map((h) => h.cpuShare));
  } else {
    cpuSeconds = hs.reduce((a, h) => a + h.cpuSeconds, 0);
    cpuShare = hs.reduce((a, h) => a + h.cpuShare, 0);
  }
  return {
    healthy: hs.every((h) => h.healthy),
    reasons,
    thresholds: h0.thresholds,
    loopDelayMs: {
      mean: samples > 0 ? hs.reduce((a, h) => a + h.loopDelayMs.mean * h.loopDelayMs.samples, 0) / samples : 0,
      // Each thread has its own event loop: the worst one is the one whose stamps ran late.
      p50: Math.max(...hs.map((h) => h.loopDelayMs.p50)),
      p99: Math.max(...hs.map((h) => h.loopDelayMs.p99)),
      max: Math.max(...hs.map((h) => h.loopDelayMs.max)),
      samples,
    },
    cpuShare,
    cpuSeconds,
    // Threads share one process (its peak is the largest sample); separate processes each had their own.
    maxRssBytes: opts.sameProcess ? Math.max(...hs.map((h) => h.maxRssBytes)) : hs.reduce((a, h) => a + h.maxRssBytes, 0),
    scheduleLagP99Ms,
    senderLag,
  };
}

function sumCounts<K extends string>(items: readonly Partial<Record<K, number>>[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const it of items) for (const [k, v] of Object.entries(it) as [K, number | undefined][]) if (v !== undefined) out[k] = (out[k] ?? 0) + v;
  return out;
}

const round6 = (x: number): number => Number(x.toFixed(6));

/**
 * Merges the parts into one RunResult. Preconditions: the parts are one experiment, i.e. the same target and the
 * same config except --init-user-id (and --workers), at the same QPS point; and they ran at the same time. For
 * `partitions` (the --workers threads) that holds by construction: one time origin, one agreed measured start,
 * disjoint shares of one seeded schedule. For `clients` the processes must have been started together (the
 * measured duration is the longest part's) with disjoint --init-user-id ranges. Throws ConfigError otherwise.
 */
export function mergeRunResults(parts: readonly RunResult[], opts: MergeOptions = {}): RunResult {
  const p0 = parts[0];
  if (!p0) throw new ConfigError([{ field: 'parts', value: [], allowed: 'at least one RunResult to merge' }]);
  const kind = opts.kind ?? detectKind(parts);
  checkCompatible(parts, kind);
  const names = parts.map((p, i) => opts.partNames?.[i] ?? (kind === 'partitions' ? `worker ${i}` : `client ${i} (init-user-id ${p.config.initUserId})`));
  /** What merged only approximately (some part carried no histogram), in the order merged. */
  const approximate: string[] = [];

  const metrics = mergeMetrics(parts, approximate);
  const counts = mergeCounts(parts);
  const tokens = mergeTokens(parts, approximate);
  const clients = kind === 'clients';
  const { configuredQps, expectedRate } = scheduleRates(parts, kind);
  const throughput = mergeThroughput(parts, counts, tokens, { configuredQps, expectedRate });
  const windows = mergeWindowLists(parts);
  const rounds = mergeRounds(parts, approximate);

  const client = mergeHealth(parts, names, opts, metrics.schedule_lag_ms.p99, { samples: metrics.sender_lag_ms.count, p90: metrics.sender_lag_ms.p90, p99: metrics.sender_lag_ms.p99 });
  const interrupted = opts.interrupted ?? parts.some((p) => p.interrupted);
  const servers = parts.map((p) => p.server).filter((s): s is ScrapeResult => s !== null);
  const server = opts.server !== undefined ? opts.server : (servers[0] ?? null);
  const notes = mergedRunNotes(parts, names, kind, opts, approximate, client, tokens.source);

  const startedAt = parts.map((p) => p.startedAt).sort()[0] as string;
  const endedAt = parts.map((p) => p.endedAt).sort().at(-1) as string;
  const partial: Omit<RunResult, 'vllm'> = {
    schema: p0.schema,
    schemaVersion: p0.schemaVersion,
    tool: p0.tool,
    runId: opts.runId ?? p0.runId,
    label: opts.label ?? (clients ? `${p0.scenario ?? 'custom'}@${configuredQps}qps` : p0.label),
    startedAt,
    endedAt,
    wallStartMs: opts.wallStartMs ?? Math.min(...parts.map((p) => p.wallStartMs)),
    interrupted,
    scenario: p0.scenario,
    config: { ...p0.config, initUserId: Math.min(...parts.map((p) => p.config.initUserId)) },
    ...mergeSaturation(parts, names),
    schedule: clients
      ? { ...p0.schedule, configuredQps, expectedRate, label: `${p0.schedule.label} x ${parts.length} clients` }
      : p0.schedule,
    environment: p0.environment,
    counts,
    tokens,
    throughput,
    client,
    metrics,
    windows,
    rounds,
    server,
    formulas: p0.formulas,
    notes,
  };
  return { ...partial, vllm: vllmCompatibleKeys(partial) };
}

/** Latency metrics: exact where every part carried its histogram. */
function mergeMetrics(parts: readonly RunResult[], approximate: string[]): Record<MetricName, MetricBlock> {
  const metrics = {} as Record<MetricName, MetricBlock>;
  for (const name of METRIC_NAMES) {
    const m = mergeBlocks(parts.map((p) => p.metrics[name]));
    metrics[name] = m.block;
    if (!m.exact) approximate.push(name);
  }
  return metrics;
}

const total = (parts: readonly RunResult[], f: (p: RunResult) => number): number => parts.reduce((a, p) => a + f(p), 0);

function mergeCounts(parts: readonly RunResult[]): RunResult['counts'] {
  return {
    ...sumRunCounts(parts),
    errorsByClass: sumCounts<ErrorClass>(parts.map((p) => p.counts.errorsByClass)),
    // Results of older versions carry no reasons: the merge of those has none either.
    ...(parts.some((p) => p.counts.unsentByReason) ? { unsentByReason: sumCounts<UnsentReason>(parts.map((p) => p.counts.unsentByReason ?? {})) } : {}),
    warmup: {
      launched: total(parts, (p) => p.counts.warmup.launched),
      ok: total(parts, (p) => p.counts.warmup.ok),
      failed: total(parts, (p) => p.counts.warmup.failed),
      cancelled: total(parts, (p) => p.counts.warmup.cancelled),
    },
  };
}

/** Token counts are sums; the per-chunk and prompt-estimate distributions merge like the latency metrics. */
function mergeTokens(parts: readonly RunResult[], approximate: string[]): RunResult['tokens'] {
  const sources = new Set(parts.map((p) => p.tokens.source).filter((s) => s !== 'none'));
  const source: RunResult['tokens']['source'] = sources.size === 0 ? 'none' : sources.size === 1 ? ([...sources][0] as RunResult['tokens']['source']) : 'mixed';
  const perChunk = mergeStats(parts.map((p) => p.tokens.tokensPerChunk));
  if (!perChunk.exact) approximate.push('tokens.tokensPerChunk');
  const estimate = mergeSigned(parts.map((p) => p.tokens.promptEstimateErrorPct));
  if (!estimate.exact) approximate.push('tokens.promptEstimateErrorPct');
  const chunks = total(parts, (p) => p.tokens.tokensPerChunk.count);
  return {
    prompt: total(parts, (p) => p.tokens.prompt),
    completion: total(parts, (p) => p.tokens.completion),
    cached: total(parts, (p) => p.tokens.cached),
    source,
    perChunkUsage: parts.some((p) => p.tokens.perChunkUsage),
    promptEstimateErrorPct: estimate.summary,
    tokensPerChunkMean: chunks > 0 ? total(parts, (p) => (p.tokens.tokensPerChunkMean ?? 0) * p.tokens.tokensPerChunk.count) / chunks : null,
    tokensPerChunk: perChunk.histogram ? { ...perChunk.summary, histogram: perChunk.histogram } : perChunk.summary,
  };
}

/** Partitions share one schedule (its rates are the run's); separate clients' configured rates add up. */
function scheduleRates(parts: readonly RunResult[], kind: MergeKind): { configuredQps: number; expectedRate: number } {
  const p0 = parts[0] as RunResult;
  if (kind !== 'clients') return { configuredQps: p0.schedule.configuredQps, expectedRate: p0.schedule.expectedRate };
  return { configuredQps: round6(total(parts, (p) => p.schedule.configuredQps)), expectedRate: total(parts, (p) => p.schedule.expectedRate) };
}

/** Rates over the merged window, recomputed from the merged counts and tokens. */
function mergeThroughput(
  parts: readonly RunResult[],
  counts: RunResult['counts'],
  tokens: RunResult['tokens'],
  rates: { configuredQps: number; expectedRate: number },
): RunResult['throughput'] {
  // The parts share the measured start, so the run's measured phase ends with the last successful request of any
  // part (a part with none ended its duration at its own end instead).
  const withOk = parts.filter((p) => p.counts.ok > 0);
  const measuredDurationS = Math.max(...(withOk.length > 0 ? withOk : parts).map((p) => p.throughput.measuredDurationS));
  const launchWindowS = Math.max(...parts.map((p) => p.throughput.launchWindowS));
  // Cached share = cached / prompt tokens of the requests that reported cached tokens; a part's denominator is
  // cached / share (or, where it reported no cached tokens, its prompt tokens, exact when all its requests said 0).
  let cachedDen = 0;
  let anyCacheInfo = false;
  for (const p of parts) {
    const share = p.throughput.cachedTokenShare;
    if (share === null) continue;
    anyCacheInfo = true;
    cachedDen += share > 0 ? p.tokens.cached / share : p.tokens.prompt;
  }
  return {
    measuredDurationS,
    launchWindowS,
    configuredQps: rates.configuredQps,
    expectedRate: rates.expectedRate,
    launchRate: launchWindowS > 0 ? counts.launched / launchWindowS : 0,
    requestThroughput: counts.ok / measuredDurationS,
    inputThroughput: tokens.prompt / measuredDurationS,
    outputThroughput: tokens.completion / measuredDurationS,
    cachedTokenShare: anyCacheInfo && cachedDen > 0 ? tokens.cached / cachedDen : anyCacheInfo ? 0 : null,
  };
}

/** Windows by index (same start, same interval); parts may end with different numbers of windows. */
function mergeWindowLists(parts: readonly RunResult[]): WindowSummary[] {
  const nWindows = Math.max(...parts.map((p) => p.windows.length));
  const windows: WindowSummary[] = [];
  for (let i = 0; i < nWindows; i++) {
    const ws = parts.map((p) => p.windows[i]).filter((w): w is WindowSummary => w !== undefined);
    windows.push(mergeWindows(ws));
  }
  return windows;
}

/**
 * Rounds by round number: TTFT and ITL exact; the prompt mean weighted by ok requests (every ok request carries
 * a prompt count, so exact), the cached share by the round's prompt tokens (exact when every ok request of a part
 * reported cached tokens or none did).
 */
function mergeRounds(parts: readonly RunResult[], approximate: string[]): RoundStat[] {
  const byRound = new Map<number, RoundStat[]>();
  for (const p of parts) {
    for (const r of p.rounds) {
      let list = byRound.get(r.round);
      if (!list) byRound.set(r.round, (list = []));
      list.push(r);
    }
  }
  let roundsExact = true;
  const rounds: RoundStat[] = [...byRound.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([round, list]) => {
      const ttft = mergeBlocks(list.map((r) => r.ttft));
      const itl = mergeBlocks(list.map((r) => r.itl));
      roundsExact &&= ttft.exact && itl.exact;
      return {
        round,
        requests: list.reduce((a, r) => a + r.requests, 0),
        ok: list.reduce((a, r) => a + r.ok, 0),
        ttft: ttft.block,
        itl: itl.block,
        promptTokensMean: weighted(list.map((r) => ({ w: r.ok, v: r.promptTokensMean }))),
        cachedTokenShare: weighted(list.map((r) => ({ w: r.ok * (r.promptTokensMean ?? 0), v: r.cachedTokenShare }))),
      };
    });
  if (!roundsExact) approximate.push('rounds[].ttft/itl');
  return rounds;
}

/** The merged result's notes: how it was merged, what is approximate, the parts' own notes, the client's health. */
function mergedRunNotes(
  parts: readonly RunResult[],
  names: readonly string[],
  kind: MergeKind,
  opts: MergeOptions,
  approximate: readonly string[],
  client: ClientHealth,
  tokenSource: RunResult['tokens']['source'],
): string[] {
  const notes: string[] = [...(opts.notes ?? [])];
  if (kind === 'partitions' && parts.length > 1) {
    notes.push(
      `${parts.length} workers ran disjoint shares of one seeded schedule: latency histograms, counts and tokens are merged exactly; ` +
        'the per-window p50/p99 are completed-weighted means of the workers\' (approximate)',
    );
  }
  if (kind === 'clients') {
    notes.push(
      `merged from ${parts.length} client processes (init-user-id ${parts.map((p) => p.config.initUserId).join(', ')}): configured QPS and expected rate are their sums; ` +
        'latency histograms merged exactly; the measured duration is the longest part\'s (they must have started together); per-window p50/p99 are approximate',
    );
    const scraped = parts.filter((p) => p.server !== null).length;
    if (scraped > 1 && opts.server === undefined) notes.push(`server metrics: ${names[parts.findIndex((p) => p.server !== null)]}'s scrape (every client scraped the same target)`);
  }
  if (approximate.length > 0) notes.push(`some parts carried no histogram for ${approximate.join(', ')}: their percentiles are count-weighted means (approximate)`);
  notes.push(...mergeNotes(parts, names));
  // Said of the merged tokens, not of one part's: a part without usage beside parts with it is "some", not "no".
  const usage = tokenSourceNote(tokenSource);
  if (usage) notes.push(usage);
  for (const r of client.reasons) notes.push(`client unhealthy: ${r}; its latencies are inflated (more --workers, fewer users per process, or more cores)`);
  return notes;
}
