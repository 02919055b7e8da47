// The notes of a comparison's report.html (issue 19, item 7): a note that every run carries — the multi-round
// pacing note, since every run of a comparison has the same workload — is said once for the comparison, not once
// per target or run; a note of one run only still names its run. The runs are real (the measurement core against
// the mock server, 3 rounds so that the pacing note is there); no browser is needed to read the section's text.
import { describe, expect, it } from 'vitest';
import { buildComparisonReport } from '../../src/compare/build-report.js';
import { samplesOf } from '../../src/compare/samples.js';
import { resolveConfig } from '../../src/config/resolve.js';
import type { RunConfig } from '../../src/config/options.js';
import { renderHtmlReport } from '../../src/report/html.js';
import type { RequestRecord } from '../../src/result/record.js';
import type { RunResult } from '../../src/result/schema.js';
import { runBenchmark } from '../../src/run.js';
import { TextFactory } from '../../src/workload/text.js';
import { startMock } from '../helpers/mock-openai.js';

/** The text of each <li> of the notes section, tags stripped. */
function noteItems(html: string): string[] {
  const section = /<section id="notes">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
  return [...section.matchAll(/<li[^>]*>([\s\S]*?)<\/li>/g)].map((m) => (m[1] ?? '').replace(/<[^>]+>/g, ''));
}

describe('report.html notes', () => {
  it('the pacing note appears once per comparison; a note of one run keeps its run name', async () => {
    const mock = await startMock({ ttftMs: 5, itlMs: 1 });
    let run: RunResult;
    const records: RequestRecord[] = [];
    try {
      const { config: base } = resolveConfig({ flags: {} });
      const config: RunConfig & { baseUrl: string; model: string } = {
        ...base,
        numUsers: 4,
        numRounds: 3,
        qps: [8],
        sharedSystemPrompt: 50,
        userHistoryPrompt: 50,
        answerLen: 4,
        time: 1,
        drainTimeout: 20,
        requestTimeout: 20,
        baseUrl: mock.url,
        model: 'mock-model',
      };
      run = await runBenchmark({ config, qps: 8, runId: 'notes', scenario: 'notes-test', text: new TextFactory(0), onRecord: (r) => records.push(r) });
    } finally {
      await mock.close();
    }
    const pacing = run.notes.find((n) => n.startsWith('multi-round pacing'));
    expect(pacing, run.notes.join('\n')).toBeDefined();
    const samples = samplesOf(records, 0);
    // Two targets of two runs each, all with the run's notes; one run of b has a note of its own.
    const copy = (extra: string[] = []): RunResult => ({ ...structuredClone(run), notes: [...run.notes, ...extra] });
    const target = (name: string, runs: RunResult[]) => ({ name, baseUrl: mock.url, model: 'mock-model', gpus: 1, runs, samples: [...samples, ...samples.map((s) => ({ ...s, rep: 1 }))] });
    const report = buildComparisonReport({
      order: 'sequential',
      history: 'live',
      repeat: 2,
      qps: 8,
      baseline: 'a',
      targets: [target('a', [copy(), copy()]), target('b', [copy(), copy(['odd thing in b only'])])],
      slo: null,
      iterations: 200,
    });
    const items = noteItems(renderHtmlReport(report));
    expect(items.filter((n) => n.includes('multi-round pacing')), items.join('\n')).toEqual([pacing]);
    expect(items.filter((n) => n.includes('odd thing'))).toEqual(['b #2: odd thing in b only']);
  }, 60_000);
});
