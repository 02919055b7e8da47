// Scrapes Prometheus /metrics endpoints (`--scrape role=URL`) during a run: once at start, every intervalS,
// and once more at stop so the last values cover the whole run. It keeps per-name sums at the first and last
// scrape, counter deltas, time series of a short list of key metrics, and figures derived from them (prefix
// cache hit rate, server-side TTFT/ITL, queue lengths, KV usage peak). A failed scrape is counted with its
// cause and never thrown: server metrics are a side dish and must not break the benchmark.
import { Agent, request } from '../util/undici.js';
import { tlsHint, type TlsSettings } from '../util/tls.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { classifySample, scanPrometheusText, type PromType } from './prometheus-text.js';
import type { ScrapeResult, ScrapeRoleResult } from './types.js';

export interface ScrapeTarget {
  role: string;
  url: string;
}

export interface ScraperOptions {
  targets: ScrapeTarget[];
  /** Seconds between scrape starts. */
  intervalS: number;
  /** Per scrape, connect to last byte. Default: intervalS clamped to 2-10 s. */
  timeoutMs?: number;
  /** Sent with every scrape (e.g. authorization); never stored in the result. */
  headers?: Record<string, string>;
  /** A body larger than this is cut off and counted as a failure. Default MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  /** --ca-file / --insecure for https:// metrics endpoints (default: Node's trust store). */
  tls?: TlsSettings | undefined;
}

/** Counts while running, for progress lines; the result has the rest. */
export interface ScrapeProgress {
  role: string;
  scrapes: number;
  failures: number;
  /** Ticks that found the previous scrape of this target still running. */
  skippedTicks: number;
}

/**
 * Metrics kept as time series, without any `_total` suffix (a sample matches with or without it, so counters
 * match in both the 0.0.4 form `x_total` and OpenMetrics family names). How each is kept depends on its TYPE on
 * the page: a gauge as its value; a counter as its value and as `<name>:rate`, the per-second increase since
 * the previous successful scrape (null at the first one); a histogram as `<name>:mean`, the mean observation
 * (in the metric's unit, seconds for vLLM) over the interval since the previous scrape, from its _sum and
 * _count (null when nothing was observed). Add names here; nothing else needs to change.
 */
export const KEY_METRICS: readonly string[] = [
  // vLLM engine, v1 and v0 names.
  'vllm:num_requests_running',
  'vllm:num_requests_waiting',
  'vllm:num_requests_swapped',
  'vllm:kv_cache_usage_perc',
  'vllm:gpu_cache_usage_perc',
  'vllm:cpu_cache_usage_perc',
  'vllm:gpu_prefix_cache_hit_rate',
  'vllm:cpu_prefix_cache_hit_rate',
  'vllm:prefix_cache_hits',
  'vllm:prefix_cache_queries',
  'vllm:gpu_prefix_cache_hits',
  'vllm:gpu_prefix_cache_queries',
  'vllm:external_prefix_cache_hits',
  'vllm:external_prefix_cache_queries',
  'vllm:prompt_tokens',
  'vllm:generation_tokens',
  'vllm:num_preemptions',
  'vllm:request_success',
  'vllm:time_to_first_token_seconds',
  'vllm:time_per_output_token_seconds',
  'vllm:inter_token_latency_seconds',
  'vllm:e2e_request_latency_seconds',
  'vllm:request_queue_time_seconds',
  // llama.cpp's llama-server (--metrics).
  'llamacpp:requests_processing',
  'llamacpp:requests_deferred',
  'llamacpp:kv_cache_usage_ratio',
  'llamacpp:kv_cache_tokens',
  'llamacpp:prompt_tokens',
  'llamacpp:tokens_predicted',
  'llamacpp:prompt_seconds',
  'llamacpp:tokens_predicted_seconds',
  'llamacpp:n_decode',
  // production-stack's router (vllm_router/services/metrics_service), per backend `server` label.
  'vllm:current_qps',
  'vllm:avg_decoding_length',
  'vllm:num_prefill_requests',
  'vllm:num_decoding_requests',
  'vllm:healthy_pods',
  'vllm:avg_latency',
  'vllm:avg_itl',
  'vllm:num_incoming_requests',
  'vllm:input_tokens',
  'vllm:output_tokens',
  'vllm:request_errors',
  'vllm:request_latency_seconds',
  // pd-bench's simulator (PD KV hand-offs).
  'pdbench_sim:kv_transfers',
  'pdbench_sim:kv_transfer_seconds',
];

/**
 * Every counter and gauge under these prefixes is a key metric too (LMCache: retrieve/store requests,
 * requested/hit/stored tokens, hit rates, cache usage), up to MAX_PREFIX_KEY_METRICS names per target.
 * Histograms under a prefix are not kept as series.
 */
export const KEY_METRIC_PREFIXES: readonly string[] = ['lmcache:'];

export const MAX_PREFIX_KEY_METRICS = 64;
/** Names kept in before/after/deltas per target; key metrics always fit. */
export const MAX_METRIC_NAMES = 2000;
export const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Distinct names summed while reading one page (before classification); bounds a hostile page. */
const MAX_RAW_NAMES = 20_000;
const MAX_ERROR_MESSAGES = 20;
const OTHER_ERRORS = '(other failure messages)';

const KEY_SET: ReadonlySet<string> = new Set(KEY_METRICS);
const baseName = (n: string): string => (n.endsWith('_total') ? n.slice(0, -6) : n);

// ---------------------------------------------------------------------------------------------------------
// Targets

const ROLE_RE = /^[A-Za-z0-9_.-]+$/;
// Anywhere in the text, not only after `role=`: a password may itself contain '=' and a value may lack a role.
const USERINFO_RE = /\/\/([^@\s]*)@/g;

export const SCRAPE_TARGET_ALLOWED =
  "allowed: ROLE=URL, ROLE made of letters, digits, '_', '.' and '-', URL http:// or https:// with a host and " +
  'without user:password (send credentials with a header instead); a URL without a path or ending in /v1 means ' +
  'its /metrics, e.g. prefill=http://10.0.0.5:8000/metrics';

/** The text with any user:password in a URL replaced, so errors and logs never show a secret. */
export function maskCredentials(text: string): string {
  return text.replace(USERINFO_RE, (_m, info: string) => {
    const colon = info.indexOf(':');
    return `//${colon >= 0 ? info.slice(0, colon) + ':***' : '***'}@`;
  });
}

/** The URL without user:password and fragment, for results and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.hash = '';
    return u.href;
  } catch {
    return maskCredentials(url);
  }
}

/**
 * Where the Prometheus page is: an engine or router address (no path, or its OpenAI `/v1` root, as
 * startStack's `engines` lists them) means `<origin>/metrics`; any other path is used as given.
 */
export function metricsUrl(url: string): string {
  const u = new URL(url);
  const path = u.pathname.replace(/\/+$/, '');
  if (path === '') u.pathname = '/metrics';
  else if (path.endsWith('/v1')) u.pathname = path.slice(0, -3) + '/metrics';
  u.hash = '';
  return u.href;
}

function targetIssue(text: string, role: string, url: string, allowCredentials: boolean): ConfigIssue | undefined {
  const bad = (): ConfigIssue => ({ field: '--scrape', value: maskCredentials(text), allowed: SCRAPE_TARGET_ALLOWED });
  if (!ROLE_RE.test(role)) return bad();
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return bad();
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') return bad();
  if (!allowCredentials && (u.username !== '' || u.password !== '')) return bad();
  return undefined;
}

/** Reads one `--scrape role=URL`; throws ConfigError (field `--scrape`) with any password masked. */
export function parseScrapeTarget(text: string): ScrapeTarget {
  const eq = text.indexOf('=');
  const role = eq >= 0 ? text.slice(0, eq).trim() : '';
  const url = eq >= 0 ? text.slice(eq + 1).trim() : '';
  const issue = eq < 0 ? { field: '--scrape', value: maskCredentials(text), allowed: SCRAPE_TARGET_ALLOWED } : targetIssue(text, role, url, false);
  if (issue) throw new ConfigError([issue]);
  return { role, url: metricsUrl(url) };
}

/** Reads every `--scrape` value, reporting all problems at once; each role may appear once. */
export function parseScrapeTargets(texts: readonly string[]): ScrapeTarget[] {
  const issues: ConfigIssue[] = [];
  const out: ScrapeTarget[] = [];
  const seen = new Set<string>();
  for (const text of texts) {
    try {
      const t = parseScrapeTarget(text);
      if (seen.has(t.role)) {
        issues.push({ field: '--scrape', value: maskCredentials(text), allowed: `allowed: each role once (name several engines prefill-0, prefill-1, ...); "${t.role}" is repeated` });
        continue;
      }
      seen.add(t.role);
      out.push(t);
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues);
      else throw err;
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// One page -> per-name sums

type Kind = 'counter' | 'gauge';

export interface PageValues {
  /** Counter and gauge sums by sample name (non-finite samples left out). */
  values: Map<string, number>;
  kinds: Map<string, Kind>;
  /** Names that are a histogram's or summary's _sum/_count (series treat them as histogram parts). */
  histogramParts: Set<string>;
  samples: number;
  malformed: number;
  firstMalformed: string | undefined;
}

/** Sums a page's samples per name over their label sets, keeping counters and gauges (see classifySample). */
export function sumPage(text: string): PageValues {
  const raw = new Map<string, number>();
  const summary = scanPrometheusText(
    text,
    (name, value) => {
      // NaN/Inf would poison a sum and cannot be written as JSON.
      if (!Number.isFinite(value)) return;
      const prev = raw.get(name);
      if (prev !== undefined) raw.set(name, prev + value);
      else if (raw.size < MAX_RAW_NAMES) raw.set(name, value);
    },
    { labels: false, maxExamples: 1 },
  );
  const values = new Map<string, number>();
  const kinds = new Map<string, Kind>();
  const histogramParts = new Set<string>();
  for (const [name, v] of raw) {
    const k = classifySample(name, summary.types);
    if (k === 'skip') continue;
    values.set(name, v);
    kinds.set(name, k);
    if (isHistogramPart(name, summary.types)) histogramParts.add(name);
  }
  const ex = summary.malformedExamples[0];
  return {
    values,
    kinds,
    histogramParts,
    samples: summary.samples,
    malformed: summary.malformed,
    firstMalformed: ex ? `line ${ex.line}: ${ex.reason}` : undefined,
  };
}

function isHistogramPart(name: string, types: ReadonlyMap<string, PromType>): boolean {
  const m = /^(.*)_(sum|count)$/.exec(name);
  if (!m) return false;
  const t = types.get(m[1] as string);
  return t === 'histogram' || t === 'summary';
}

// ---------------------------------------------------------------------------------------------------------
// Derived figures

/**
 * Every key of `derived`, always present (null when the metrics are missing) so tables line up. The last three
 * are the scraper's own bookkeeping, not server figures: ScrapeRoleResult has no other place for them, and
 * dropping data silently would be worse (ticks skipped because a scrape was still running, malformed lines in
 * pages that were otherwise read, most metric names left out of one scrape by the MAX_METRIC_NAMES bound).
 */
export const DERIVED_KEYS = [
  'prefixCacheHitRate',
  'externalPrefixCacheHitRate',
  'lmcacheHitRate',
  'ttftMeanMs',
  'itlMeanMs',
  'e2eMeanMs',
  'queueTimeMeanMs',
  'routerLatencyMeanMs',
  'requestsSucceeded',
  'promptTokens',
  'generationTokens',
  'promptTokensPerS',
  'generationTokensPerS',
  'preemptions',
  'runningMean',
  'runningMax',
  'waitingMean',
  'waitingMax',
  'kvUsageMean',
  'kvUsagePeak',
  'llamacppPromptTokensPerS',
  'llamacppMsPerOutputToken',
  'scrapeSkippedTicks',
  'scrapeMalformedLines',
  'scrapeNamesDropped',
] as const;

export type DerivedKey = (typeof DERIVED_KEYS)[number];

const has = (o: Record<string, number>, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Figures from one role's deltas and series:
 * - prefixCacheHitRate = Δvllm:prefix_cache_hits / Δvllm:prefix_cache_queries (tokens; v1), else the
 *   gpu_prefix_cache_* pair (older v1 engines; production-stack's router exposes it as gauges);
 *   externalPrefixCacheHitRate the same for vllm:external_prefix_cache_* (KV connectors such as LMCache);
 *   lmcacheHitRate = Δlmcache:num_hit_tokens / Δlmcache:num_requested_tokens.
 * - ttft/itl/e2e/queueTime/routerLatency MeanMs = 1000 · Δ<hist>_sum / Δ<hist>_count; ITL from
 *   vllm:inter_token_latency_seconds, else vllm:time_per_output_token_seconds.
 * - promptTokens, generationTokens, preemptions, requestsSucceeded: counter deltas (vLLM, else llama.cpp's
 *   prompt_tokens / tokens_predicted); the PerS figures divide by the span from first to last scrape.
 * - running/waiting Mean and Max, kvUsage Mean and Peak: over the scrapes (equal weight per scrape) of
 *   num_requests_running/waiting and kv_cache_usage_perc (v1) or gpu_cache_usage_perc (v0), else llama.cpp's
 *   requests_processing/requests_deferred/kv_cache_usage_ratio. KV usage is a fraction (1 = full).
 * - llamacppPromptTokensPerS = Δprompt_tokens / Δprompt_seconds (its prompt processing speed);
 *   llamacppMsPerOutputToken = 1000 · Δtokens_predicted_seconds / Δtokens_predicted.
 * Ratios are null when the denominator did not grow.
 */
export function deriveFigures(r: Pick<ScrapeRoleResult, 'timesS' | 'series' | 'before' | 'after' | 'deltas'>): Record<DerivedKey, number | null> {
  const change = (...names: string[]): number | undefined => {
    for (const n of names) {
      if (has(r.deltas, n)) return r.deltas[n];
      if (has(r.after, n) && has(r.before, n)) return (r.after[n] as number) - (r.before[n] as number);
    }
    return undefined;
  };
  const counter = (base: string): number | undefined => change(base + '_total', base);
  const ratio = (a: number | undefined, b: number | undefined, scale = 1): number | null =>
    a !== undefined && b !== undefined && b > 0 ? (a / b) * scale : null;
  const pair = (hits: string, queries: string): number | null => {
    const q = counter(queries);
    return q === undefined ? null : ratio(counter(hits), q);
  };
  const histMs = (...fams: string[]): number | null => {
    for (const f of fams) {
      const c = change(f + '_count');
      if (c !== undefined) return ratio(change(f + '_sum'), c, 1000);
    }
    return null;
  };
  const stat = (how: 'mean' | 'max', ...names: string[]): number | null => {
    for (const n of names) {
      const xs = (r.series[n] ?? []).filter((x): x is number => x !== null);
      if (xs.length === 0) continue;
      return how === 'max' ? Math.max(...xs) : xs.reduce((a, b) => a + b, 0) / xs.length;
    }
    return null;
  };
  const span = r.timesS.length >= 2 ? (r.timesS[r.timesS.length - 1] as number) - (r.timesS[0] as number) : 0;
  const perS = (v: number | undefined): number | null => (v !== undefined && span > 0 ? v / span : null);
  const orNull = (v: number | undefined): number | null => v ?? null;

  const prompt = counter('vllm:prompt_tokens') ?? counter('llamacpp:prompt_tokens');
  const generation = counter('vllm:generation_tokens') ?? counter('llamacpp:tokens_predicted');
  const running = ['vllm:num_requests_running', 'llamacpp:requests_processing'];
  const waiting = ['vllm:num_requests_waiting', 'llamacpp:requests_deferred'];
  const kv = ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc', 'llamacpp:kv_cache_usage_ratio'];
  return {
    prefixCacheHitRate: pair('vllm:prefix_cache_hits', 'vllm:prefix_cache_queries') ?? pair('vllm:gpu_prefix_cache_hits', 'vllm:gpu_prefix_cache_queries'),
    externalPrefixCacheHitRate: pair('vllm:external_prefix_cache_hits', 'vllm:external_prefix_cache_queries'),
    lmcacheHitRate: pair('lmcache:num_hit_tokens', 'lmcache:num_requested_tokens'),
    ttftMeanMs: histMs('vllm:time_to_first_token_seconds'),
    itlMeanMs: histMs('vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'),
    e2eMeanMs: histMs('vllm:e2e_request_latency_seconds'),
    queueTimeMeanMs: histMs('vllm:request_queue_time_seconds'),
    routerLatencyMeanMs: histMs('vllm:request_latency_seconds'),
    requestsSucceeded: orNull(counter('vllm:request_success')),
    promptTokens: orNull(prompt),
    generationTokens: orNull(generation),
    promptTokensPerS: perS(prompt),
    generationTokensPerS: perS(generation),
    preemptions: orNull(counter('vllm:num_preemptions')),
    runningMean: stat('mean', ...running),
    runningMax: stat('max', ...running),
    waitingMean: stat('mean', ...waiting),
    waitingMax: stat('max', ...waiting),
    kvUsageMean: stat('mean', ...kv),
    kvUsagePeak: stat('max', ...kv),
    llamacppPromptTokensPerS: ratio(counter('llamacpp:prompt_tokens'), counter('llamacpp:prompt_seconds')),
    llamacppMsPerOutputToken: ratio(counter('llamacpp:tokens_predicted_seconds'), counter('llamacpp:tokens_predicted'), 1000),
    scrapeSkippedTicks: null,
    scrapeMalformedLines: null,
    scrapeNamesDropped: null,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Per-target state

type Fetched = { ok: true; text: string; atS: number } | { ok: false; message: string };

class TargetState {
  readonly role: string;
  /** Where requests go: credentials removed (they travel as a header). */
  readonly fetchUrl: string;
  readonly shownUrl: string;
  readonly headers: Record<string, string>;
  scrapes = 0;
  failures = 0;
  skippedTicks = 0;
  malformedLines = 0;
  namesDropped = 0;
  readonly errors = new Map<string, number>();
  readonly timesS: number[] = [];
  readonly series = new Map<string, (number | null)[]>();
  first: Map<string, number> | undefined;
  last = new Map<string, number>();
  /** Tracked names (at most MAX_METRIC_NAMES besides key metrics) and their kind when first seen. */
  readonly kinds = new Map<string, Kind>();
  readonly counterBase = new Map<string, number>();
  readonly counterPrev = new Map<string, number>();
  /** Values lost to counter resets (a restarted server): added back so deltas stay increases. */
  readonly counterCarry = new Map<string, number>();
  /** Key metric values at the previous successful scrape, for rates and interval means. */
  prevKey = new Map<string, number>();
  prevTimeS: number | undefined;
  prefixKeys = new Set<string>();
  inFlight: Promise<void> | undefined;

  constructor(target: ScrapeTarget, headers: Record<string, string>) {
    this.role = target.role;
    const u = new URL(metricsUrl(target.url));
    const h: Record<string, string> = { ...headers };
    const hasAuth = Object.keys(h).some((k) => k.toLowerCase() === 'authorization');
    if ((u.username || u.password) && !hasAuth) {
      const cred = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
      h.authorization = `Basic ${Buffer.from(cred).toString('base64')}`;
    }
    u.username = '';
    u.password = '';
    this.fetchUrl = u.href;
    this.shownUrl = u.href;
    this.headers = h;
  }

  fail(message: string): void {
    this.failures++;
    const n = this.errors.get(message);
    if (n !== undefined) this.errors.set(message, n + 1);
    else if (this.errors.size < MAX_ERROR_MESSAGES - 1) this.errors.set(message, 1);
    else this.errors.set(OTHER_ERRORS, (this.errors.get(OTHER_ERRORS) ?? 0) + 1);
  }

  #isKey(name: string): boolean {
    if (KEY_SET.has(baseName(name))) return true;
    if (this.prefixKeys.has(name)) return true;
    if (this.prefixKeys.size >= MAX_PREFIX_KEY_METRICS) return false;
    if (!KEY_METRIC_PREFIXES.some((p) => name.startsWith(p))) return false;
    this.prefixKeys.add(name);
    return true;
  }

  /** Folds one successful page into the state. */
  record(page: PageValues, atS: number): void {
    const firstScrape = this.first === undefined;
    const cur = new Map<string, number>();
    let dropped = 0;
    for (const [name, v] of page.values) {
      if (!this.kinds.has(name)) {
        if (this.kinds.size >= MAX_METRIC_NAMES && !KEY_SET.has(baseName(name))) {
          dropped++;
          continue;
        }
        this.kinds.set(name, page.kinds.get(name) ?? 'gauge');
      }
      cur.set(name, v);
    }
    this.namesDropped = Math.max(this.namesDropped, dropped);
    this.malformedLines += page.malformed;
    if (firstScrape) this.first = new Map(cur);
    for (const [name, v] of cur) {
      if (this.kinds.get(name) !== 'counter') continue;
      const prev = this.counterPrev.get(name);
      if (prev === undefined) {
        // A counter that appears after the first scrape was created during the run: it counts from 0.
        this.counterBase.set(name, firstScrape ? v : 0);
      } else if (v < prev) {
        this.counterCarry.set(name, (this.counterCarry.get(name) ?? 0) + prev);
      }
      this.counterPrev.set(name, v);
    }
    this.last = cur;
    this.#recordSeries(cur, page.histogramParts, atS);
    this.timesS.push(atS);
    this.scrapes++;
  }

  #recordSeries(cur: Map<string, number>, histParts: ReadonlySet<string>, atS: number): void {
    const row = new Map<string, number | null>();
    const nextKey = new Map<string, number>();
    const dt = this.prevTimeS === undefined ? 0 : atS - this.prevTimeS;
    const increase = (name: string, v: number): number | undefined => {
      const p = this.prevKey.get(name);
      if (p === undefined) return undefined;
      return v >= p ? v - p : v;
    };
    for (const [name, v] of cur) {
      if (histParts.has(name)) {
        const m = /^(.*)_(sum|count)$/.exec(name);
        const fam = m?.[1] as string;
        if (m?.[2] !== 'count' || !KEY_SET.has(fam)) continue;
        const sum = cur.get(fam + '_sum');
        if (sum === undefined) continue;
        nextKey.set(name, v);
        nextKey.set(fam + '_sum', sum);
        const dc = increase(name, v);
        const ds = increase(fam + '_sum', sum);
        row.set(fam + ':mean', dc !== undefined && ds !== undefined && dc > 0 ? ds / dc : null);
        continue;
      }
      if (!this.#isKey(name)) continue;
      row.set(name, v);
      if (this.kinds.get(name) === 'counter') {
        nextKey.set(name, v);
        const inc = increase(name, v);
        row.set(name + ':rate', inc !== undefined && dt > 0 ? inc / dt : null);
      }
    }
    const n = this.timesS.length;
    for (const [name, v] of row) {
      if (!this.series.has(name)) this.series.set(name, new Array<number | null>(n).fill(null));
      (this.series.get(name) as (number | null)[]).push(v);
    }
    for (const [name, xs] of this.series) if (!row.has(name)) xs.push(null);
    this.prevKey = nextKey;
    this.prevTimeS = atS;
  }

  result(): ScrapeRoleResult {
    const deltas = new Map<string, number>();
    for (const [name, base] of this.counterBase) {
      deltas.set(name, (this.counterPrev.get(name) as number) - base + (this.counterCarry.get(name) ?? 0));
    }
    const r: ScrapeRoleResult = {
      role: this.role,
      url: this.shownUrl,
      scrapes: this.scrapes,
      failures: this.failures,
      errors: [...this.errors].map(([message, count]) => ({ message, count })),
      timesS: [...this.timesS],
      series: Object.fromEntries([...this.series].map(([k, v]) => [k, [...v]])),
      before: Object.fromEntries(this.first ?? []),
      after: Object.fromEntries(this.last),
      deltas: Object.fromEntries(deltas),
      derived: {},
    };
    r.derived = {
      ...deriveFigures(r),
      scrapeSkippedTicks: this.skippedTicks,
      scrapeMalformedLines: this.malformedLines,
      scrapeNamesDropped: this.namesDropped,
    };
    return r;
  }
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

function errorText(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { message?: string; code?: string } } | undefined;
  const parts = [e?.code, e?.message, e?.cause?.code, e?.cause?.message].filter((x): x is string => typeof x === 'string' && x !== '');
  return [...new Set(parts)].join(': ') || String(err);
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function networkMessage(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } } | undefined;
  const code = e?.code ?? e?.cause?.code ?? '';
  return `${CONNECT_CODES.has(code) ? 'connect error' : 'network error'}: ${errorText(err)}`;
}

/** The start of an error body on one line, short enough to count repeats as one message. */
function excerpt(body: string): string {
  const one = body.replace(/\s+/g, ' ').trim();
  return one.length > 120 ? one.slice(0, 117) + '...' : one;
}

// ---------------------------------------------------------------------------------------------------------

/** Relative spread of the gaps between scrapes (see Scraper.start). */
export const SCRAPE_JITTER = 0.25;

/** The gap before the next scrape for a uniform draw u in [0, 1): intervalS x (1 +- SCRAPE_JITTER), mean intervalS. */
export function scrapeGapMs(intervalS: number, u: number): number {
  return intervalS * 1000 * (1 - SCRAPE_JITTER + 2 * SCRAPE_JITTER * u);
}

export class Scraper {
  readonly intervalS: number;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  #t0: bigint;
  #targets: TargetState[];
  #agent: Agent;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #stopping: Promise<ScrapeResult> | undefined;

  /** `t0` is the run's measured start (process.hrtime.bigint()); times in the result are seconds since it. */
  constructor(options: ScraperOptions, t0: bigint = process.hrtime.bigint()) {
    const issues: ConfigIssue[] = [];
    if (!Number.isFinite(options.intervalS) || options.intervalS <= 0) {
      issues.push({ field: '--scrape-interval', value: options.intervalS, allowed: 'allowed: seconds, a number > 0' });
    }
    if (options.timeoutMs !== undefined && (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0)) {
      issues.push({ field: '--scrape-timeout', value: options.timeoutMs, allowed: 'allowed: milliseconds, a number > 0' });
    }
    const seen = new Set<string>();
    for (const t of options.targets) {
      // Programmatic targets may carry user:password (sent as basic auth, never stored); --scrape may not.
      const text = `${t.role}=${t.url}`;
      const issue = targetIssue(text, t.role, t.url, true);
      if (issue) issues.push(issue);
      else if (seen.has(t.role)) issues.push({ field: '--scrape', value: maskCredentials(text), allowed: `allowed: each role once; "${t.role}" is repeated` });
      seen.add(t.role);
    }
    if (issues.length > 0) throw new ConfigError(issues);
    this.intervalS = options.intervalS;
    this.timeoutMs = options.timeoutMs ?? Math.min(10_000, Math.max(2_000, options.intervalS * 1000));
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    this.#t0 = t0;
    this.#targets = options.targets.map((t) => new TargetState(t, options.headers ?? {}));
    // One connection per target is enough (scrapes never overlap); keep-alive below common 5 s idle closes.
    this.#agent = new Agent({ connections: 2, keepAliveTimeout: 4_000, connect: { timeout: this.timeoutMs, ...options.tls } });
  }

  /**
   * Scrapes every target now, then every intervalS on average. A target whose last scrape is still running skips
   * the tick. Each gap is drawn from intervalS x [1 - SCRAPE_JITTER, 1 + SCRAPE_JITTER]: a fixed period would
   * alias with a periodic load (multi-round pacing sends on a regular grid), catching every step at the same
   * phase, so that a momentary queue of one read as a queue that never drains.
   */
  start(): void {
    if (this.#started || this.#stopping) return;
    this.#started = true;
    this.#tick();
    this.#scheduleTick();
  }

  #scheduleTick(): void {
    if (this.#stopping) return;
    const ms = scrapeGapMs(this.intervalS, Math.random());
    this.#timer = setTimeout(() => {
      this.#tick();
      this.#scheduleTick();
    }, ms);
    this.#timer.unref();
  }

  progress(): ScrapeProgress[] {
    return this.#targets.map((t) => ({ role: t.role, scrapes: t.scrapes, failures: t.failures, skippedTicks: t.skippedTicks }));
  }

  /**
   * Stops the ticks, lets a running scrape finish, scrapes every target once more (so `after` is taken after
   * the run) and returns the result. Never rejects; calling it again returns the same result.
   */
  stop(): Promise<ScrapeResult> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<ScrapeResult> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    // Waiting rather than aborting keeps the promise never to overlap two scrapes of one endpoint.
    await Promise.all(this.#targets.map((t) => t.inFlight));
    await Promise.all(this.#targets.map((t) => this.#scrape(t)));
    try {
      await this.#agent.destroy();
    } catch {
      // Closing idle sockets cannot fail in a way that matters to the result.
    }
    return { intervalS: this.intervalS, roles: this.#targets.map((t) => t.result()) };
  }

  #tick(): void {
    for (const t of this.#targets) {
      if (t.inFlight) {
        t.skippedTicks++;
        continue;
      }
      const p: Promise<void> = this.#scrape(t).finally(() => {
        if (t.inFlight === p) t.inFlight = undefined;
      });
      t.inFlight = p;
    }
  }

  #now(): number {
    return Number(process.hrtime.bigint() - this.#t0) / 1e9;
  }

  async #scrape(t: TargetState): Promise<void> {
    try {
      const got = await this.#fetch(t);
      if (!got.ok) {
        t.fail(got.message);
        return;
      }
      const page = sumPage(got.text);
      if (page.samples === 0 && page.malformed > 0) {
        t.fail(`unparseable: ${page.malformed} malformed line${page.malformed === 1 ? '' : 's'} and no samples (${page.firstMalformed ?? ''})`);
        return;
      }
      t.record(page, Math.round(got.atS * 1e6) / 1e6);
    } catch (err) {
      t.fail(`internal error: ${errorText(err)}`);
    }
  }

  async #fetch(t: TargetState): Promise<Fetched> {
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, this.timeoutMs);
    timer.unref();
    const timeoutMessage = `timeout: no complete response within ${this.timeoutMs} ms`;
    try {
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(t.fetchUrl, {
          method: 'GET',
          dispatcher: this.#agent,
          signal: ac.signal,
          headers: { accept: 'text/plain;version=0.0.4;q=1, */*;q=0.1', 'accept-encoding': 'identity', ...t.headers },
        });
      } catch (err) {
        return { ok: false, message: timedOut ? timeoutMessage : networkMessage(err) + tlsHint(err) };
      }
      // The page is rendered about when its headers leave the server: that is the sample time.
      const atS = this.#now();
      try {
        if (res.statusCode < 200 || res.statusCode >= 300) {
          let head = '';
          for await (const chunk of res.body) {
            head += (chunk as Buffer).toString('utf8');
            if (head.length >= 512) break;
          }
          return { ok: false, message: `HTTP ${res.statusCode}: ${excerpt(head) || '(empty body)'}` };
        }
        const tooLarge = `response body over ${formatBytes(this.maxBodyBytes)}: cut off`;
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > this.maxBodyBytes) return { ok: false, message: tooLarge };
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body) {
          const b = chunk as Buffer;
          size += b.length;
          if (size > this.maxBodyBytes) return { ok: false, message: tooLarge };
          chunks.push(b);
        }
        return { ok: true, text: Buffer.concat(chunks).toString('utf8'), atS };
      } catch (err) {
        return { ok: false, message: timedOut ? timeoutMessage : networkMessage(err) };
      } finally {
        // Leaving a body unread would hold the socket; destroying an ended one is a no-op.
        if (!res.body.destroyed) res.body.destroy();
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** Starts a scraper (see Scraper.start) and returns it. */
export function startScraper(options: ScraperOptions, t0?: bigint): Scraper {
  const s = new Scraper(options, t0);
  s.start();
  return s;
}
