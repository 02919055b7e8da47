// A sweep on the console: a line per run as it finishes (the load's attainment and verdict so far), then the
// capacity table (one row per target), the per-GPU ratio sentence and each target's capacity line. Pure.
import { formatSlo } from '../metrics/slo.js';
import { capacitySentence } from '../sweep/capacity.js';
import type { LoadState } from '../sweep/search.js';
import type { SweepProbe, SweepReport, TargetCapacity } from '../sweep/types.js';
import { table } from './comparison-console.js';

const f = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(digits));

/** One line per finished run: load, rates, latency, attainment with its interval, verdict so far, saturation. */
export function formatProbeLine(p: SweepProbe, state: LoadState | null, goal: number | null): string {
  const r = p.result;
  const a = state?.attainment;
  const att = p.slo && a && a.value !== null ? `, attainment ${a.value.toFixed(3)} [${f(a.lo, 3)}, ${f(a.hi, 3)}] vs ${goal} -> ${state.saturated ? 'fails (saturated)' : state.verdict}` : '';
  const rep = p.rep > 1 ? ` (run ${p.rep} at this load)` : '';
  return (
    `${p.target} ${p.axis} ${p.value}${rep}: ${f(r.throughput.launchRate)} req/s launched, ${f(r.throughput.requestThroughput)} completed, ` +
    `TTFT p99 ${f(r.metrics.ttft_ms.p99, 1)} ms, ITL p99 ${f(r.metrics.itl_ms.p99, 1)} ms${att}${r.target.saturated ? ', SATURATED' : ''}${r.client.healthy ? '' : ', client unhealthy'}`
  );
}

function capacityCell(t: TargetCapacity): string {
  if (t.outcome === 'found') return `${f(t.maxLoad)} [${f(t.maxLoadLo)}, ${f(t.maxLoadHi)})${t.uncertain ? '?' : ''}`;
  if (t.outcome === 'above-max') return `> ${f(t.maxLoad)}`;
  if (t.outcome === 'none-meets') return `< ${f(t.maxLoadHi)}`;
  return '-';
}

export function formatSweep(report: SweepReport): string {
  const out: string[] = [];
  const slo = report.slo ? `${formatSlo(report.slo)}, attainment >= ${report.goal}` : 'no SLO';
  out.push(`== capacity (${report.axis.name}${report.find ? `, --find ${report.find}` : ` ${report.axis.text}`}; ${slo})`);
  const rows = [['target', 'GPUs', `max ${report.axis.name} [lo, hi)`, 'req/s', 'req/s/GPU', 'goodput/GPU', 'out tok/s/GPU', 'knee', 'first saturated', 'runs']];
  for (const t of report.targets) {
    rows.push([
      t.target,
      t.gpus === null ? '-' : String(t.gpus),
      capacityCell(t),
      f(t.capacityRps),
      f(t.capacityRpsPerGpu),
      f(t.goodputRpsPerGpu),
      f(t.outputTokSPerGpu, 1),
      t.knee ? String(t.knee.load) : '-',
      t.firstSaturated ? String(t.firstSaturated.load) : '-',
      String(t.probes),
    ]);
  }
  out.push(table(rows));
  for (const t of report.targets) out.push(capacitySentence(t, report.axis.name, report.goal));
  for (const t of report.targets) if (t.knee) out.push(`${t.target} knee at ${report.axis.name} ${t.knee.load}: ${t.knee.reason}`);
  for (const t of report.targets) if (t.stoppedBecause) out.push(`${t.target}: ${t.stoppedBecause}`);
  for (const r of report.ratios) out.push(`verdict: ${r.sentence}`);
  for (const n of report.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
