// Service-level objectives: presets from the literature, the `--slo` flag parser, the per-request check and
// goodput (requests and sessions per second meeting every objective). Pure: no IO.
import type { RequestSample } from './request-sample.js';
import { ConfigError, type ConfigIssue } from '../errors.js';

export type SloMetric = 'ttft' | 'itl' | 'tpot' | 'e2el';
/** How a request's ITL gaps are reduced before the ITL check: the largest gap, the mean, or a percentile. */
export type ItlStat = 'max' | 'mean' | 'p50' | 'p90' | 'p95' | 'p99';

export interface SloSpec {
  /** Preset name when it came from one (chatbot, code, summarization, dynamo-short, dynamo-long), else null. */
  preset: string | null;
  ttftMs: number | null;
  itlMs: number | null;
  itlStat: ItlStat;
  tpotMs: number | null;
  e2elMs: number | null;
}

export interface SloResult {
  spec: SloSpec;
  /** Requests judged: every measured request that was not cancelled (failed ones count as misses). */
  requests: number;
  met: number;
  /** met / requests. */
  attainment: number | null;
  /** Requests that missed, by the first reason checked: error, ttft, itl, tpot, e2el. */
  missedBy: Record<SloMetric | 'error', number>;
  /** Sessions (rep, user) with at least one judged request, and those whose every judged request met the SLO. */
  sessions: number;
  sessionsMet: number;
  sessionAttainment: number | null;
  /** Requests meeting the SLO per second of measured time, and sessions meeting it per second. */
  requestGoodput: number;
  sessionGoodput: number;
  /** Goodput and output-token throughput per GPU (null when the GPU count is unknown). */
  requestGoodputPerGpu: number | null;
  outputThroughputPerGpu: number | null;
}

/**
 * Published SLO presets.
 * - chatbot, code, summarization: DistServe (Zhong et al., OSDI 2024, Table 1): chatbot (13B) TTFT 0.25 s /
 *   TPOT 0.1 s, code completion TTFT 0.125 s / TPOT 0.2 s, summarization TTFT 15 s / TPOT 0.15 s.
 * - dynamo-short, dynamo-long: NVIDIA Dynamo goodput recipes (genai-perf `--goodput`): TTFT 2 s / ITL 25 ms and
 *   TTFT 20 s / ITL 50 ms. genai-perf's per-request inter_token_latency is (E2E - TTFT) / (tokens - 1), i.e.
 *   the request's mean gap, so these presets judge ITL by the mean, not the largest gap.
 */
export const SLO_PRESETS: Record<string, SloSpec> = {
  chatbot: spec('chatbot', { ttftMs: 250, tpotMs: 100 }),
  code: spec('code', { ttftMs: 125, tpotMs: 200 }),
  summarization: spec('summarization', { ttftMs: 15_000, tpotMs: 150 }),
  'dynamo-short': spec('dynamo-short', { ttftMs: 2_000, itlMs: 25, itlStat: 'mean' }),
  'dynamo-long': spec('dynamo-long', { ttftMs: 20_000, itlMs: 50, itlStat: 'mean' }),
};

function spec(preset: string | null, over: Partial<Omit<SloSpec, 'preset'>>): SloSpec {
  const s: SloSpec = { preset, ttftMs: null, itlMs: null, itlStat: 'max', tpotMs: null, e2elMs: null, ...over };
  // Frozen when it is a preset: the table is shared, parseSlo hands out copies.
  return preset === null ? s : Object.freeze(s);
}

/** The goodput formulas, as evaluateSlo computes them (the README quotes them; a test keeps the two equal). */
export const SLO_FORMULAS = {
  slo_attainment: 'requests meeting every objective / judged requests (failed requests are misses; cancelled ones are not judged)',
  session_attainment: 'sessions (repetition, user) whose every judged request met every objective / sessions',
  request_goodput: 'requests meeting every objective / measured duration',
  session_goodput: 'sessions whose every judged request met every objective / measured duration',
  request_goodput_per_gpu: 'request goodput / GPUs behind the target',
  output_throughput_per_gpu: 'sum of completion tokens of successful requests / measured duration / GPUs behind the target',
} as const;

const ITL_STATS: readonly ItlStat[] = ['max', 'mean', 'p50', 'p90', 'p95', 'p99'];
const UNIT_MS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000 };

export const SLO_ALLOWED =
  'a comma list of key=value, optionally after a preset name; keys: ttft, itl (or itl@max|mean|p50|p90|p95|p99; ' +
  'default max), tpot, e2el; values > 0 with unit us, ms or s (a bare number means ms); presets: ' +
  `${Object.keys(SLO_PRESETS).join(', ')}. Example: --slo ttft=2s,itl@p99=50ms or --slo chatbot,itl=30ms`;

/**
 * Parses the `--slo` flag, e.g. `ttft=2s,itl=25ms`, `itl@p99=50ms`, `chatbot,itl=30ms`. A preset may only be
 * the first item; later keys override it (the result then no longer names the preset, since its thresholds
 * are not the published ones). Throws ConfigError (field `--slo`) listing every problem.
 */
export function parseSlo(text: string): SloSpec {
  const issues: ConfigIssue[] = [];
  const bad = (value: string, why: string): void => {
    issues.push({ field: '--slo', value, allowed: `${why}; allowed: ${SLO_ALLOWED}` });
  };
  const items = text.split(',').map((s) => s.trim());
  if (text.trim() === '') {
    bad(text, 'empty SLO');
    throw new ConfigError(issues);
  }
  let out = spec(null, {});
  let basePreset: string | null = null;
  let overridden = false;
  const seen = new Set<SloMetric>();
  for (const [i, item] of items.entries()) {
    if (item === '') {
      bad(text, 'empty item');
      continue;
    }
    const eq = item.indexOf('=');
    if (eq < 0) {
      const preset = SLO_PRESETS[item.toLowerCase()];
      if (!preset) bad(item, `unknown preset, or a key without "=value"`);
      else if (i !== 0) bad(item, 'a preset may only be the first item');
      else {
        basePreset = preset.preset;
        out = { ...preset };
      }
      continue;
    }
    const key = item.slice(0, eq).trim().toLowerCase();
    const valueText = item.slice(eq + 1).trim();
    const [name, stat] = key.split('@', 2) as [string, string | undefined];
    if (name !== 'ttft' && name !== 'itl' && name !== 'tpot' && name !== 'e2el') {
      bad(item, `unknown key "${key}"`);
      continue;
    }
    if (stat !== undefined && (name !== 'itl' || !(ITL_STATS as readonly string[]).includes(stat))) {
      bad(item, `unknown statistic "@${stat}" (only itl takes one)`);
      continue;
    }
    if (seen.has(name)) {
      bad(item, `duplicate key "${name}"`);
      continue;
    }
    seen.add(name);
    const ms = parseDurationMs(valueText);
    if (typeof ms === 'string') {
      bad(item, ms);
      continue;
    }
    overridden = true;
    if (name === 'ttft') out.ttftMs = ms;
    else if (name === 'tpot') out.tpotMs = ms;
    else if (name === 'e2el') out.e2elMs = ms;
    else {
      out.itlMs = ms;
      out.itlStat = (stat as ItlStat | undefined) ?? 'max';
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  out.preset = overridden ? null : basePreset;
  return out;
}

/** A duration in ms, or the reason it is not one. */
function parseDurationMs(text: string): number | string {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(us|µs|ms|s)?$/i.exec(text);
  if (!m) return `"${text}" is not a number with unit us, ms or s`;
  const v = Number(m[1]) * (UNIT_MS[(m[2] ?? 'ms').toLowerCase()] as number);
  if (!Number.isFinite(v)) return `"${text}" is not finite`;
  if (v <= 0) return `"${text}" is not > 0`;
  return v;
}

/** e.g. "ttft<=2000ms, itl(max)<=25ms", in check order; thresholds in ms with up to 3 decimals. */
export function formatSlo(s: SloSpec): string {
  const ms = (v: number): string => `${Number(v.toFixed(3))}ms`;
  const parts: string[] = [];
  if (s.ttftMs !== null) parts.push(`ttft<=${ms(s.ttftMs)}`);
  if (s.itlMs !== null) parts.push(`itl(${s.itlStat})<=${ms(s.itlMs)}`);
  if (s.tpotMs !== null) parts.push(`tpot<=${ms(s.tpotMs)}`);
  if (s.e2elMs !== null) parts.push(`e2el<=${ms(s.e2elMs)}`);
  return parts.length > 0 ? parts.join(', ') : 'no objective';
}

/** Reduces one request's gaps to the value its ITL objective is judged on; undefined with no gaps. */
export function itlStatOf(gaps: readonly number[], stat: ItlStat): number | undefined {
  const n = gaps.length;
  if (n === 0) return undefined;
  if (stat === 'max') {
    let m = -Infinity;
    for (const g of gaps) if (g > m) m = g;
    return m;
  }
  if (stat === 'mean') {
    let sum = 0;
    for (const g of gaps) sum += g;
    return sum / n;
  }
  // Nearest rank, the HDR definition used for every other percentile in pd-bench.
  const q = Number(stat.slice(1)) / 100;
  const sorted = Float64Array.from(gaps).sort();
  return sorted[Math.min(n, Math.max(1, Math.ceil(q * n - 1e-9))) - 1] as number;
}

/**
 * Judges one request, checking error, ttft, itl, tpot, e2el in that order; `missed` is the first failed check.
 * A failed request is a miss ('error'). A check whose metric the request lacks (TPOT of a one-token answer,
 * ITL with no gaps, TTFT of an empty answer) passes: there is no value that could violate it, and an ok
 * request must not be penalised for being short. Cancelled requests are not judged (callers skip them): they
 * give `{ met: false, missed: null }`.
 */
export function requestMeetsSlo(sample: RequestSample, s: SloSpec): { met: boolean; missed: SloMetric | 'error' | null } {
  if (sample.outcome === 'cancelled') return { met: false, missed: null };
  if (sample.outcome !== 'ok') return { met: false, missed: 'error' };
  const over = (v: number | undefined, limit: number | null): boolean => limit !== null && v !== undefined && v > limit;
  if (over(sample.ttftMs, s.ttftMs)) return { met: false, missed: 'ttft' };
  if (s.itlMs !== null && over(itlStatOf(sample.itlMs, s.itlStat), s.itlMs)) return { met: false, missed: 'itl' };
  if (over(sample.tpotMs, s.tpotMs)) return { met: false, missed: 'tpot' };
  if (over(sample.e2elMs, s.e2elMs)) return { met: false, missed: 'e2el' };
  return { met: true, missed: null };
}

/**
 * Attainment and goodput of one target's samples over `durationS` seconds of measured time. Rates are 0 when
 * the duration is not positive (nothing was measured); per-GPU figures are null when the GPU count is unknown.
 */
export function evaluateSlo(samples: readonly RequestSample[], s: SloSpec, durationS: number, gpus: number | null): SloResult {
  const missedBy: Record<SloMetric | 'error', number> = { error: 0, ttft: 0, itl: 0, tpot: 0, e2el: 0 };
  // Session key -> whether every judged request so far met the SLO.
  const sessions = new Map<string, boolean>();
  let requests = 0;
  let met = 0;
  let outputTokens = 0;
  for (const r of samples) {
    if (r.outcome === 'cancelled') continue;
    requests++;
    if (r.outcome === 'ok') outputTokens += r.outputTokens ?? 0;
    const verdict = requestMeetsSlo(r, s);
    if (verdict.met) met++;
    else if (verdict.missed !== null) missedBy[verdict.missed]++;
    const key = `${r.rep}:${r.userId}`;
    sessions.set(key, (sessions.get(key) ?? true) && verdict.met);
  }
  let sessionsMet = 0;
  for (const ok of sessions.values()) if (ok) sessionsMet++;
  const rate = (x: number): number => (durationS > 0 ? x / durationS : 0);
  const perGpu = (x: number): number | null => (gpus !== null && gpus > 0 ? x / gpus : null);
  const requestGoodput = rate(met);
  return {
    spec: s,
    requests,
    met,
    attainment: requests > 0 ? met / requests : null,
    missedBy,
    sessions: sessions.size,
    sessionsMet,
    sessionAttainment: sessions.size > 0 ? sessionsMet / sessions.size : null,
    requestGoodput,
    sessionGoodput: rate(sessionsMet),
    requestGoodputPerGpu: perGpu(requestGoodput),
    outputThroughputPerGpu: perGpu(rate(outputTokens)),
  };
}
