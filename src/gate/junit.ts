// The gate as JUnit XML (--junit FILE), the format GitHub, GitLab, Jenkins and Buildkite read: one test case per
// gated metric and per threshold, failures carrying the numbers; a comparison something undermined (client
// unhealthy, target saturated, no baseline) is one test case in error. Pure.
import { formatChange, formatValue } from './text.js';
import { formatTolerance } from './tolerance.js';
import type { GatedMetric, GateReport } from './types.js';

export function escapeXml(s: string): string {
  // Characters XML 1.0 cannot hold at all are dropped; the five specials are escaped.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

interface Case {
  classname: string;
  name: string;
  failure?: { type: string; message: string; detail: string };
  error?: { type: string; message: string };
  skipped?: string;
  out?: string;
}

function metricDetail(m: GatedMetric, level: string): string {
  return `baseline ${formatValue(m.unit, m.baseline)}, current ${formatValue(m.unit, m.current)}, change ${formatChange(m)} (${level} interval), tolerance ${formatTolerance(m)}, verdict ${m.verdict}`;
}

function metricCase(m: GatedMetric, r: GateReport, level: string): Case {
  const c: Case = { classname: 'pd-bench.gate.metrics', name: m.name };
  const detail = metricDetail(m, level);
  if (m.verdict === 'regression' && r.verdict === 'regression') {
    c.failure = { type: 'regression', message: `${m.name} regressed: ${formatChange(m)}, beyond the ${formatTolerance(m)} tolerance`, detail };
  } else if (m.verdict === 'regression') {
    // Worse, but the comparison itself is in doubt (the gate is inconclusive): not a failure of this metric.
    c.skipped = `${m.name} looks worse (${formatChange(m)}) but the comparison is inconclusive: ${r.problems[0] ?? ''}`;
  } else if (m.verdict === 'insufficient data') {
    c.skipped = `${m.name}: too few samples (${m.why ?? ''})`;
  } else c.out = detail;
  return c;
}

function cases(r: GateReport): Case[] {
  const level = `${Number((r.confidence * 100).toFixed(1))}%`;
  const out: Case[] = r.metrics.map((m) => metricCase(m, r, level));
  for (const t of r.thresholds) {
    out.push(t.passed ? { classname: 'pd-bench.gate.thresholds', name: t.expression, out: t.message } : { classname: 'pd-bench.gate.thresholds', name: t.expression, failure: { type: 'threshold', message: t.message, detail: t.message } });
  }
  if (r.problems.length > 0) out.push({ classname: 'pd-bench.gate', name: 'comparison is conclusive', error: { type: 'inconclusive', message: r.problems.join('; ') } });
  // A first night has nothing to compare: one passing case says so, so the suite is never empty.
  else if (!r.baseline) out.push({ classname: 'pd-bench.gate', name: 'baseline', out: [...r.notes, r.sentence].join('\n') });
  return out;
}

function caseXml(c: Case): string {
  const open = `    <testcase classname="${escapeXml(c.classname)}" name="${escapeXml(c.name)}" time="0"`;
  const body: string[] = [];
  if (c.failure) body.push(`      <failure type="${escapeXml(c.failure.type)}" message="${escapeXml(c.failure.message)}">${escapeXml(c.failure.detail)}</failure>`);
  if (c.error) body.push(`      <error type="${escapeXml(c.error.type)}" message="${escapeXml(c.error.message)}"/>`);
  if (c.skipped !== undefined) body.push(`      <skipped message="${escapeXml(c.skipped)}"/>`);
  if (c.out) body.push(`      <system-out>${escapeXml(c.out)}</system-out>`);
  return body.length === 0 ? `${open}/>` : `${open}>\n${body.join('\n')}\n    </testcase>`;
}

export function gateJunit(r: GateReport): string {
  const all = cases(r);
  const n = (k: 'failure' | 'error' | 'skipped'): number => all.filter((c) => c[k] !== undefined).length;
  const where = `${r.workload.fields.scenario ?? 'custom'}@${r.workload.fields.qps ?? '?'}qps`;
  const counts = `tests="${all.length}" failures="${n('failure')}" errors="${n('error')}" skipped="${n('skipped')}"`;
  const props = [
    ['verdict', r.verdict],
    ['exit_code', String(r.exitCode)],
    ['sentence', r.sentence],
    ['workload', r.workload.hash],
    ['label', r.label ?? ''],
    ['baseline', r.baseline?.source ?? ''],
    ['current', r.current.source],
  ]
    .map(([k, v]) => `      <property name="${escapeXml(k as string)}" value="${escapeXml(v as string)}"/>`)
    .join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="pd-bench gate" ${counts}>`,
    `  <testsuite name="${escapeXml(`pd-bench gate: ${r.target} (${where})`)}" ${counts} timestamp="${escapeXml(r.createdAt.replace(/\.\d+Z$/, ''))}">`,
    '    <properties>',
    props,
    '    </properties>',
    ...all.map(caseXml),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
