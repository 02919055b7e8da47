// The comparison on the console: per candidate, a table of baseline vs candidate with the ratio's interval and
// the verdict, the summary sentence, SLO attainment and errors per target. Pure: returns a string.
import { sumRunCounts } from '../metrics/round-aggregator.js';
import { statLabel } from '../compare/statistics.js';
import type { ComparisonReport, Estimate, MetricComparison } from '../compare/types.js';
import { formatSlo } from '../metrics/slo.js';

function num(v: number | null, m: MetricComparison): string {
  if (v === null || !Number.isFinite(v)) return '-';
  if (m.metric === 'slo_attainment') return `${(v * 100).toFixed(1)}%`;
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}

function ratioText(e: Estimate): string {
  if (e.value === null) return '-';
  const p = (x: number | null): string => (x === null ? '?' : `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)}%`);
  return `${p(e.value)} [${p(e.lo)}, ${p(e.hi)}]`;
}

/** Columns padded to their widest cell: the first left-aligned, the rest right-aligned. */
export function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

export function formatComparison(report: ComparisonReport): string {
  const out: string[] = [];
  for (const c of report.comparisons) {
    out.push(`== ${c.candidate} vs ${c.baseline} (baseline) at ${report.qps} QPS: ${c.paired ? 'paired' : 'unpaired'} bootstrap over ${c.sessions} sessions, ${c.iterations} resamples, ${(c.confidence * 100).toFixed(0)}% intervals`);
    const rows = [['metric', c.baseline, c.candidate, 'change [interval]', 'verdict']];
    for (const m of c.metrics) {
      const unit = m.metric.endsWith('_ms') ? ' (ms)' : m.metric === 'output_throughput' ? ' (tok/s)' : m.metric.startsWith('request_') ? ' (req/s)' : '';
      rows.push([statLabel(m) + unit, num(m.baseline.value, m), num(m.candidate.value, m), ratioText(m.ratio), m.verdict]);
    }
    out.push(table(rows));
    out.push(`verdict: ${c.sentence}`);
    out.push('');
  }
  if (report.slo) {
    out.push(`SLO ${formatSlo(report.slo)}:`);
    const rows = [['target', 'attainment', 'sessions met', 'goodput (req/s)', 'goodput/GPU', 'output tok/s/GPU']];
    for (const t of report.targets) {
      const s = t.slo;
      if (!s) continue;
      const p = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
      const f = (x: number | null): string => (x === null ? '-' : x.toFixed(3));
      rows.push([t.name, p(s.attainment), `${s.sessionsMet}/${s.sessions} (${p(s.sessionAttainment)})`, f(s.requestGoodput), f(s.requestGoodputPerGpu), f(s.outputThroughputPerGpu)]);
    }
    out.push(table(rows));
    out.push('');
  }
  const rounds = [...new Set(report.targets.flatMap((t) => t.rounds.map((r) => r.round)))].sort((a, b) => a - b);
  if (rounds.length > 1 && rounds.length <= 20) {
    // The per-round view: prefix reuse and the growing history, side by side.
    const rows = [['TTFT p50 / cached by round', ...report.targets.map((t) => t.name)]];
    for (const k of rounds) {
      rows.push([
        String(k),
        ...report.targets.map((t) => {
          const r = t.rounds.find((x) => x.round === k);
          if (!r) return '-';
          return `${r.ttft.p50 === null ? '-' : r.ttft.p50.toFixed(1)} ms / ${r.cachedTokenShare === null ? '-' : `${(r.cachedTokenShare * 100).toFixed(0)}%`}`;
        }),
      ]);
    }
    out.push(table(rows));
    out.push('');
  }
  const server = serverLines(report);
  if (server.length > 0) out.push(...server, '');
  for (const t of report.targets) {
    const { launched, failed, cancelled } = sumRunCounts(t.runs);
    const errs = Object.entries(t.errors).map(([k, v]) => `${k} ${v}`).join(', ');
    const reasons = [...new Set(t.runs.flatMap((r) => r.client.reasons))];
    const saturated = t.runs.filter((r) => r.target.saturated === true);
    out.push(
      `${t.name}: ${launched} requests, ${failed} failed, ${cancelled} cancelled${errs ? ` (${errs})` : ''}` +
        `${saturated.length > 0 ? `; SATURATED in ${saturated.length} of ${t.runs.length} run(s) (${[...new Set(saturated.flatMap((r) => r.target.reasons ?? []))].join('; ')}): its latencies measure queueing` : ''}` +
        `${reasons.length > 0 ? `; client unhealthy in ${t.runs.filter((r) => !r.client.healthy).length} of ${t.runs.length} run(s): ${reasons.join('; ')}` : ''}`,
    );
  }
  return out.join('\n');
}

/** The key scraped figures per target and role (first run of each target; all runs are in comparison.json). */
function serverLines(report: ComparisonReport): string[] {
  const out: string[] = [];
  const pct = (v: number | null | undefined): string | undefined => (v === null || v === undefined ? undefined : `${(v * 100).toFixed(1)}%`);
  const ms = (v: number | null | undefined): string | undefined => (v === null || v === undefined ? undefined : `${v.toFixed(1)} ms`);
  const n = (v: number | null | undefined, d = 1): string | undefined => (v === null || v === undefined ? undefined : v.toFixed(d));
  for (const t of report.targets) {
    for (const role of t.runs[0]?.server?.roles ?? []) {
      const d = role.derived;
      const parts = [
        ['prefix-cache hits', pct(d.prefixCacheHitRate)],
        ['server TTFT mean', ms(d.ttftMeanMs)],
        ['server ITL mean', ms(d.itlMeanMs)],
        ['running mean/max', d.runningMean === null || d.runningMean === undefined ? undefined : `${n(d.runningMean)}/${n(d.runningMax, 0)}`],
        ['waiting mean/max', d.waitingMean === null || d.waitingMean === undefined ? undefined : `${n(d.waitingMean)}/${n(d.waitingMax, 0)}`],
        ['KV peak', pct(d.kvUsagePeak)],
        ['prompt tok/s', n(d.promptTokensPerS, 0)],
        ['generation tok/s', n(d.generationTokensPerS, 0)],
      ].filter((x): x is [string, string] => x[1] !== undefined);
      const failures = role.failures > 0 ? `; ${role.failures} failed scrape(s): ${role.errors[0]?.message ?? ''}` : '';
      out.push(`server ${t.name}/${role.role}: ${parts.map(([k, v]) => `${k} ${v}`).join(', ') || 'no key metrics found'} (${role.scrapes} scrapes${failures})`);
    }
  }
  return out;
}
