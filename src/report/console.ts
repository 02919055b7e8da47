// Console text for humans: the end-of-run summary table and the periodic window line. Pure: returns strings.
import type { MetricName, RunResult, WindowSummary } from '../result/schema.js';

const fmt = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

function pad(cells: string[][]): string {
  const widths: number[] = [];
  for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return cells.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

const ROWS: Array<[MetricName, string]> = [
  ['ttft_ms', 'TTFT'],
  ['itl_ms', 'ITL (per token)'],
  ['tpot_ms', 'TPOT'],
  ['e2el_ms', 'E2E latency'],
  ['ttfb_ms', 'TTFB'],
  ['ttst_ms', 'TTST'],
  ['ttft_from_intended_ms', 'TTFT from intended'],
  ['schedule_lag_ms', 'schedule lag'],
];

export function formatSummary(r: RunResult): string {
  const t = r.throughput;
  const c = r.counts;
  const lines: string[] = [];
  lines.push(`== pd-bench ${r.label}${r.interrupted ? ' (INTERRUPTED)' : ''} — ${r.target.baseUrl} model ${r.target.model}`);
  lines.push(
    `requests: ${c.launched} launched, ${c.ok} ok, ${c.failed} failed, ${c.cancelled} cancelled, ${c.late} late${c.unsent ? `, ${c.unsent} due but not sent${unsentWhy(c.unsentByReason)}` : ''}` +
      (Object.keys(c.errorsByClass).length ? `  (${Object.entries(c.errorsByClass).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''),
  );
  lines.push(
    `rate: configured ${fmt(t.configuredQps, 2)} QPS, schedule ${fmt(t.expectedRate, 3)} req/s, launched ${fmt(t.launchRate, 3)} req/s, completed ${fmt(t.requestThroughput, 3)} req/s`,
  );
  lines.push(
    `tokens: input ${fmt(t.inputThroughput, 1)} tok/s, output ${fmt(t.outputThroughput, 1)} tok/s, cached share ${t.cachedTokenShare === null ? '-' : (t.cachedTokenShare * 100).toFixed(1) + '%'}, source ${r.tokens.source}` +
      (r.tokens.perChunkUsage ? `, tokens/chunk mean ${fmt(r.tokens.tokensPerChunk.mean, 2)} p99 ${fmt(r.tokens.tokensPerChunk.p99, 0)} max ${fmt(r.tokens.tokensPerChunk.max, 0)}` : ''),
  );
  lines.push(saturationLine(r));
  const h = r.client;
  lines.push(
    `client: ${h.healthy ? 'healthy' : 'UNHEALTHY'} (event-loop delay p99 ${fmt(h.loopDelayMs.p99, 2)} ms, max ${fmt(h.loopDelayMs.max, 1)} ms; ` +
      `sender lag p99 ${h.senderLag?.p99 == null ? '-' : fmt(h.senderLag.p99, 1)} ms; CPU ${fmt(h.cpuShare, 2)} of a core; peak RSS ${fmt(h.maxRssBytes / 1e6, 0)} MB)`,
  );
  const table: string[][] = [['ms', 'count', 'mean', 'min', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max']];
  for (const [name, label] of ROWS) {
    const m = r.metrics[name];
    const d = name === 'itl_ms' || name === 'tpot_ms' || name === 'ttst_ms' ? 2 : 1;
    table.push([label, String(m.count), fmt(m.mean, d), fmt(m.min, d), fmt(m.p50, d), fmt(m.p90, d), fmt(m.p95, d), fmt(m.p99, d), fmt(m.p999, d), fmt(m.max, d)]);
  }
  lines.push(pad(table));
  // The per-round view: how prefix reuse and the growing history play out (long sessions: first and last 5).
  const rounds = r.rounds ?? [];
  if (rounds.length > 1) {
    const shown = rounds.length > 10 ? [...rounds.slice(0, 5), ...rounds.slice(-5)] : rounds;
    const rt: string[][] = [['by round', 'requests', 'TTFT p50', 'TTFT p99', 'ITL p50', 'ITL p99', 'prompt tok', 'cached']];
    for (const x of shown) {
      rt.push([String(x.round), String(x.requests), fmt(x.ttft.p50), fmt(x.ttft.p99), fmt(x.itl.p50, 2), fmt(x.itl.p99, 2), fmt(x.promptTokensMean, 0), x.cachedTokenShare === null ? '-' : `${(x.cachedTokenShare * 100).toFixed(1)}%`]);
    }
    lines.push(pad(rt));
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

/**
 * Below this span a window's rates are a few requests over a sliver of time: the last window, after the drain,
 * can be 0.4 s long (printed "[60-60s]") and turn two completions into "4.89 req/s".
 */
const MIN_RATE_SPAN_S = 1;

/**
 * One periodic window line. Rates only where they mean something: a window with nothing launched or finished
 * gives its counts alone, and one shorter than a second (or than half of a sub-second `logIntervalS`) gives its
 * counts and latencies and says it is too short for rates.
 */
export function formatWindow(w: WindowSummary, label: string, logIntervalS?: number): string {
  const head = `[${label} ${fmt(w.startS, 0)}-${fmt(w.endS, 0)}s] launched ${w.launched}, done ${w.completed}, failed ${w.failed}, in flight ${w.inFlight}`;
  if (w.launched + w.completed + w.failed + w.cancelled === 0) return head;
  const spanS = w.endS - w.startS;
  const long = spanS >= Math.min(MIN_RATE_SPAN_S, (logIntervalS ?? Infinity) / 2);
  const rates = long ? `${fmt(w.requestsPerS, 2)} req/s, ${fmt(w.outputTokensPerS, 0)} out tok/s` : `${fmt(spanS, 2)} s, too short for rates`;
  return `${head}; ${rates}; TTFT p50 ${fmt(w.ttftP50Ms)} p99 ${fmt(w.ttftP99Ms)} ms; ITL p50 ${fmt(w.itlP50Ms, 2)} p99 ${fmt(w.itlP99Ms, 2)} ms`;
}

/** One line: whether the target kept up, with the evidence and what to do about it. */
export function saturationLine(r: RunResult): string {
  if (r.target.saturated === undefined) return 'target: saturation not assessed (result of an older version)';
  if (!r.target.saturated) return 'target: not saturated (it kept up with the offered load)';
  return `target: SATURATED (${(r.target.reasons ?? []).join('; ')}): its latencies measure queueing; lower the load, or run a sweep to find its capacity`;
}

const UNSENT_WORDS: Record<string, string> = { 'user-busy': 'user busy past --time', 'slot-wait': 'waited for a slot past --time', interrupted: 'run stopped first' };

function unsentWhy(why: RunResult['counts']['unsentByReason']): string {
  const parts = Object.entries(why ?? {}).filter(([, n]) => (n ?? 0) > 0).map(([k, n]) => `${n} ${UNSENT_WORDS[k] ?? k}`);
  return parts.length ? ` (${parts.join(', ')})` : ' after --time';
}
