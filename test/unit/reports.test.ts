// Reports: requests.csv (multi-round-qa.py's columns first, in seconds), summary.csv/summary.json, CSV quoting,
// the console summary and the side-by-side comparison. Files go to a temporary folder.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/options.js';
import { redactConfig } from '../../src/config/resolve.js';
import { FORMULAS } from '../../src/metrics/derive.js';
import { RunRecorder } from '../../src/metrics/recorder.js';
import { formatSummary, formatWindow } from '../../src/report/console.js';
import { RequestsCsvWriter, writeRunSummary, writeSummaryCsv } from '../../src/store/run-files.js';
import { MULTI_ROUND_QA_COLUMNS, REQUEST_COLUMNS, requestRow } from '../../src/report/requests-csv.js';
import { formatSideBySide, SIDE_BY_SIDE_ROWS } from '../../src/report/side-by-side.js';
import { summaryColumns, summaryRow } from '../../src/report/summary-csv.js';
import type { RequestRecord } from '../../src/result/record.js';
import { RESULT_SCHEMA, RESULT_SCHEMA_VERSION, type RunResult } from '../../src/result/schema.js';
import { okRecord } from '../helpers/records.js';

/** RFC 4180 parser (quoted fields may hold commas, doubled quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function asObjects(rows: string[][]): Array<Record<string, string>> {
  const [header, ...data] = rows;
  return data.map((r) => Object.fromEntries((header as string[]).map((h, i) => [h, r[i] as string])));
}

const WALL = 1_700_000_000_000; // epoch ms of the run origin

const record = (over: Partial<RequestRecord> = {}): RequestRecord =>
  okRecord({ userId: 121, round: 2, promptTokens: 612, cachedTokens: 512, promptTokensEstimate: 600, text: 'answer', ...over });

const NASTY = 'upstream said: "bad, very bad"\nline 2, with comma\r\nand "quotes"';

const failed = record({
  id: 1,
  userId: 122,
  round: 1,
  outcome: 'failed',
  errorClass: 'http_error',
  httpStatus: 500,
  errorMessage: NASTY,
  headersMs: 1500,
  firstTokenMs: undefined,
  endMs: 1510,
  chunkTimesMs: [],
  chunkTokens: [],
  promptTokens: undefined,
  completionTokens: undefined,
  cachedTokens: undefined,
  finishReason: undefined,
  intendedMs: 1400,
  sentMs: 1450,
  late: true,
});

const reset = record({
  id: 2,
  userId: 123,
  outcome: 'failed',
  errorClass: 'connection_reset',
  httpStatus: 200,
  errorMessage: 'other side closed',
  endMs: 1200,
  finishReason: undefined,
});

const cancelled = record({ id: 3, userId: 124, outcome: 'cancelled', errorClass: 'cancelled', errorMessage: 'run interrupted', endMs: 5000 });
const warm = record({ id: 4, phase: 'warmup', userId: -1, round: 1, intendedMs: 0, sentMs: 0, headersMs: 5, firstTokenMs: 10, endMs: 20, chunkTimesMs: [10], chunkTokens: [1] });
const llamaCpp = record({ id: 5, serverTimings: { promptN: 612, promptMs: 12.3456, predictedN: 7, predictedMs: 40.5 }, perChunkUsage: false, chunkTokens: [1, 1, 1, 1], completionTokens: 4 });

/** A RunResult built the way runBenchmark builds one, from a recorder fed with records. */
function resultOf(records: RequestRecord[], over: { runId?: string; throughput?: Partial<RunResult['throughput']>; mutate?: (r: RunResult) => void } = {}): RunResult {
  const rec = new RunRecorder();
  for (const r of records) rec.onLaunch(r.phase, r.late);
  for (const r of records) rec.add(r);
  const snap = rec.snapshot();
  const result: RunResult = {
    schema: RESULT_SCHEMA,
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'pd-bench', version: '0.0.0-test' },
    runId: over.runId ?? 'run-1',
    label: 'run-pd@1.1qps',
    startedAt: new Date(WALL).toISOString(),
    endedAt: new Date(WALL + 60_000).toISOString(),
    wallStartMs: WALL,
    interrupted: false,
    scenario: 'run-pd',
    config: redactConfig({ ...DEFAULT_CONFIG, baseUrl: 'http://127.0.0.1:8000/v1', model: 'mistral', apiKey: 'sk-secret' }),
    target: { baseUrl: 'http://127.0.0.1:8000/v1', model: 'mistral', endpoint: 'chat' },
    schedule: { kind: 'multi-round', arrival: 'per-user', burstiness: 1, label: 'x', configuredQps: 1.1, gapPerUserS: 109.09, gapBetweenUsersS: 0.909, sessionSpanS: 109.09, expectedRate: 2.2 },
    environment: { node: 'v20', platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'cpu', totalMemoryBytes: 1 },
    counts: { ...snap.counts, late: snap.late, unsent: snap.unsent, errorsByClass: snap.errorsByClass, warmup: snap.warmup },
    tokens: {
      prompt: snap.tokens.prompt,
      completion: snap.tokens.completion,
      cached: snap.tokens.cached,
      source: 'usage',
      perChunkUsage: snap.tokens.perChunkUsage,
      promptEstimateErrorPct: snap.promptEstimateErrorPct,
      tokensPerChunkMean: 1.5,
      tokensPerChunk: snap.tokens.perChunk,
    },
    throughput: {
      measuredDurationS: 60,
      launchWindowS: 60,
      configuredQps: 1.1,
      expectedRate: 2.2,
      launchRate: 2.15,
      requestThroughput: 2.1,
      inputThroughput: 1300,
      outputThroughput: 105,
      cachedTokenShare: 0.25,
      ...over.throughput,
    },
    client: {
      healthy: true,
      reasons: [],
      thresholds: { maxLoopDelayMs: 5, maxSenderLagMs: 10 },
      loopDelayMs: { mean: 0.05, p50: 0.03, p99: 0.4, max: 2.1, samples: 1000 },
      cpuShare: 0.12,
      cpuSeconds: 7.2,
      maxRssBytes: 90e6,
      scheduleLagP99Ms: 1.2,
      senderLag: { samples: 100, p90: 0.6, p99: 1.2 },
    },
    metrics: snap.metrics,
    windows: [],
    rounds: snap.rounds,
    server: null,
    formulas: FORMULAS,
    notes: ['a note, with a comma'],
    vllm: { mean_ttft_ms: snap.metrics.ttft_ms.mean },
  };
  over.mutate?.(result);
  return result;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pd-bench-reports-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('requests.csv', () => {
  let rows: string[][];
  let objs: Array<Record<string, string>>;
  let text: string;
  beforeAll(async () => {
    const w = new RequestsCsvWriter(join(dir, 'run'));
    w.setOrigin(WALL);
    for (const r of [record(), failed, reset, cancelled, warm, llamaCpp]) w.write(r);
    expect(w.rows).toBe(6);
    await w.close();
    text = readFileSync(w.path, 'utf8');
    rows = parseCsv(text);
    objs = asObjects(rows);
  });

  it('starts with multi-round-qa.py\'s 8 columns, exactly, then pd-bench\'s own', () => {
    expect(text.split('\n')[0]?.startsWith('prompt_tokens,generation_tokens,ttft,generation_time,user_id,question_id,launch_time,finish_time,')).toBe(true);
    expect(rows[0]?.slice(0, 8)).toEqual([...MULTI_ROUND_QA_COLUMNS]);
    expect(rows[0]).toEqual([...REQUEST_COLUMNS]);
    expect(new Set(REQUEST_COLUMNS).size).toBe(REQUEST_COLUMNS.length);
    for (const r of rows) expect(r).toHaveLength(REQUEST_COLUMNS.length);
  });

  it('writes one row per request, warmup and failures included', () => {
    expect(objs).toHaveLength(6);
    expect(objs.map((o) => o.request_id)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(objs.map((o) => o.outcome)).toEqual(['ok', 'failed', 'failed', 'cancelled', 'ok', 'ok']);
    expect(objs.map((o) => o.phase)).toEqual(['measure', 'measure', 'measure', 'measure', 'warmup', 'measure']);
  });

  it('gives multi-round-qa.py\'s columns in seconds (launch and finish as epoch seconds)', () => {
    const o = objs[0] as Record<string, string>;
    expect(Number(o.prompt_tokens)).toBe(612);
    expect(Number(o.generation_tokens)).toBe(7);
    expect(Number(o.ttft)).toBeCloseTo(0.05, 9); // 1060 - 1010 ms
    expect(Number(o.generation_time)).toBeCloseTo(0.065, 9); // 1125 - 1060 ms
    expect(Number(o.user_id)).toBe(121);
    expect(Number(o.question_id)).toBe(2); // the 1-based round
    expect(Number(o.launch_time)).toBeCloseTo((WALL + 1010) / 1000, 6);
    expect(Number(o.finish_time)).toBeCloseTo((WALL + 1125) / 1000, 6);
    expect(Number(o.intended_time)).toBeCloseTo((WALL + 1000) / 1000, 6);
  });

  it('gives pd-bench\'s own columns in ms, per the formulas', () => {
    const o = objs[0] as Record<string, string>;
    expect(o).toMatchObject({
      error_class: '',
      http_status: '200',
      error_message: '',
      schedule_lag_ms: '10',
      late: '0',
      ttfb_ms: '20',
      ttft_ms: '50',
      ttst_ms: '8',
      e2el_ms: '115',
      ttft_from_intended_ms: '60',
      cached_tokens: '512',
      token_source: 'usage',
      prompt_tokens_estimate: '600',
      content_chunks: '4',
      finish_reason: 'length',
      server_prompt_ms: '',
    });
    expect(Number(o.tpot_ms)).toBeCloseTo(65 / 6, 3);
    expect(Number(o.itl_mean_ms)).toBeCloseTo(58 / 6, 3); // per-token gaps 8, 10 x 5
    expect(Number(o.itl_max_ms)).toBe(10);
    const l = objs[5] as Record<string, string>;
    expect(l.server_prompt_ms).toBe('12.346');
    expect(l.server_predicted_ms).toBe('40.5');
    expect(Number(l.itl_max_ms)).toBe(30);
  });

  it('keeps failed requests with their error class, status and message, and leaves unknown values empty', () => {
    const f = objs[1] as Record<string, string>;
    expect(f).toMatchObject({
      prompt_tokens: '',
      generation_tokens: '',
      ttft: '',
      generation_time: '',
      user_id: '122',
      question_id: '1',
      outcome: 'failed',
      error_class: 'http_error',
      http_status: '500',
      late: '1',
      ttft_ms: '',
      tpot_ms: '',
      itl_mean_ms: '',
      content_chunks: '0',
    });
    expect(Number(f.schedule_lag_ms)).toBe(50);
    expect(Number(f.e2el_ms)).toBe(60);
    expect(Number(f.launch_time)).toBeCloseTo((WALL + 1450) / 1000, 6);
    expect(objs[2]).toMatchObject({ error_class: 'connection_reset', error_message: 'other side closed' });
    expect(objs[3]).toMatchObject({ outcome: 'cancelled', error_class: 'cancelled', error_message: 'run interrupted' });
  });

  it('quotes commas, quotes and newlines in error messages so the file parses back exactly', () => {
    expect((objs[1] as Record<string, string>).error_message).toBe(NASTY);
    // The quoted field is in the raw text with doubled quotes.
    expect(text).toContain('"upstream said: ""bad, very bad""\nline 2, with comma\r\nand ""quotes"""');
  });

  it('requestRow uses the origin it is given', () => {
    const row = requestRow(record(), 0);
    expect(row.slice(0, 8)).toEqual([612, 7, 0.05, 0.065, 121, 2, 1.01, 1.125]);
  });
});

describe('summary.csv and summary.json', () => {
  const result = resultOf([record(), failed, reset, cancelled, warm, llamaCpp], { runId: 'run, "one"' });

  it('writes summary.json (the RunResult, no secret) and a one-row summary.csv with a matching header', () => {
    const d = join(dir, 'summary');
    writeRunSummary(d, result);
    const json = readFileSync(join(d, 'summary.json'), 'utf8');
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(result)));
    expect(json).not.toContain('sk-secret');
    const rows = parseCsv(readFileSync(join(d, 'summary.csv'), 'utf8'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(summaryColumns());
    expect(rows[1]).toHaveLength(summaryColumns().length);
    const o = asObjects(rows)[0] as Record<string, string>;
    expect(o).toMatchObject({
      run_id: 'run, "one"', // quoted and parsed back
      label: 'run-pd@1.1qps',
      interrupted: 'false',
      base_url: 'http://127.0.0.1:8000/v1',
      model: 'mistral',
      configured_qps: '1.1',
      expected_rate: '2.2',
      launch_rate: '2.15',
      request_throughput: '2.1',
      output_throughput: '105',
      measured_duration_s: '60',
      launched: '5', // warmup excluded
      ok: '2',
      failed: '2',
      cancelled: '1',
      late: '1',
      cached_token_share: '0.25',
      token_source: 'usage',
    });
    expect(Number(o.ttft_p50_ms)).toBeCloseTo(50, 1);
    expect(Number(o.ttft_max_ms)).toBe(50);
    expect(Number(o.itl_max_ms)).toBe(30); // the llama.cpp request without per-chunk usage: 30 ms chunk gap
    expect(Number(o.e2el_max_ms)).toBe(115);
    expect(o.ttfb_mean_ms).toBe(String(result.metrics.ttfb_ms.mean));
  });

  it('has a column for each headline and each latency statistic', () => {
    const cols = summaryColumns();
    expect(new Set(cols).size).toBe(cols.length);
    for (const m of ['ttft', 'itl', 'tpot', 'e2el', 'ttfb', 'schedule_lag', 'ttft_from_intended']) {
      for (const s of ['mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max']) expect(cols).toContain(`${m}_${s}_ms`);
    }
    expect(summaryRow(result)).toHaveLength(cols.length);
  });

  it('writes empty cells for metrics with no samples and for an unknown cached share', () => {
    const empty = resultOf([failed], { throughput: { cachedTokenShare: null } });
    const d = join(dir, 'summary-empty');
    writeSummaryCsv(d, [empty]);
    const o = asObjects(parseCsv(readFileSync(join(d, 'summary.csv'), 'utf8')))[0] as Record<string, string>;
    expect(o.ttft_p50_ms).toBe('');
    expect(o.cached_token_share).toBe('');
    expect(o.failed).toBe('1');
  });

  it('a sweep writes one row per point', () => {
    const d = join(dir, 'sweep');
    const a = resultOf([record()], { mutate: (r) => (r.throughput.configuredQps = 2) });
    const b = resultOf([record()], { mutate: (r) => (r.throughput.configuredQps = 1) });
    writeSummaryCsv(d, [a, b]);
    const objs = asObjects(parseCsv(readFileSync(join(d, 'summary.csv'), 'utf8')));
    expect(objs.map((o) => o.configured_qps)).toEqual(['2', '1']);
  });
});

describe('console summary', () => {
  const result = resultOf([record(), failed, reset, cancelled, warm]);

  it('shows counts with error classes, the three rates and the latency table', () => {
    const s = formatSummary(result);
    expect(s).toContain('== pd-bench run-pd@1.1qps — http://127.0.0.1:8000/v1 model mistral');
    expect(s).toContain('requests: 4 launched, 1 ok, 2 failed, 1 cancelled, 1 late');
    expect(s).toMatch(/http_error 1/);
    expect(s).toMatch(/connection_reset 1/);
    expect(s).toContain('rate: configured 1.10 QPS, schedule 2.200 req/s, launched 2.150 req/s, completed 2.100 req/s');
    expect(s).toContain('cached share 25.0%');
    const ttft = s.split('\n').find((l) => l.startsWith('TTFT '));
    expect(ttft?.trim().split(/\s+/)).toEqual(['TTFT', '1', '50.0', '50.0', '50.0', '50.0', '50.0', '50.0', '50.0', '50.0']);
    expect(s).toContain('note: a note, with a comma');
    expect(formatSummary({ ...result, interrupted: true })).toContain('(INTERRUPTED)');
  });

  it('shows the per-round view: requests, TTFT, ITL, prompt length and cached share by round', () => {
    const r1 = record({ id: 10, userId: 130, round: 1, promptTokens: 500, cachedTokens: 0 });
    const r2 = record({ id: 11, userId: 130, round: 2, promptTokens: 700, cachedTokens: 600 });
    const s = formatSummary(resultOf([r1, r2]));
    const head = s.split('\n').findIndex((l) => l.startsWith('by round'));
    expect(head).toBeGreaterThan(0);
    const rows = s.split('\n').slice(head + 1, head + 3).map((l) => l.trim().split(/\s+/));
    expect(rows[0]?.[0]).toBe('1');
    expect(rows[0]?.[6]).toBe('500');
    expect(rows[0]?.[7]).toBe('0.0%');
    expect(rows[1]?.[6]).toBe('700');
    expect(rows[1]?.[7]).toBe(`${((600 / 700) * 100).toFixed(1)}%`);
    // A single-round run has no per-round table.
    expect(formatSummary(resultOf([r1]))).not.toContain('by round');
  });

  it('formats a log window', () => {
    const line = formatWindow(
      { startS: 0, endS: 30, launched: 66, completed: 64, failed: 1, cancelled: 0, inFlight: 3, ttftP50Ms: 22.04, ttftP99Ms: 28.9, itlP50Ms: 7.281, itlP99Ms: null, outputTokensPerS: 108.6, requestsPerS: 2.133 },
      'run-pd@1.1qps',
    );
    expect(line).toBe(
      '[run-pd@1.1qps 0-30s] launched 66, done 64, failed 1, in flight 3; 2.13 req/s, 109 out tok/s; TTFT p50 22.0 p99 28.9 ms; ITL p50 7.28 p99 - ms',
    );
  });

  it('a window with no time or nothing in it prints no rates', () => {
    const base = { launched: 0, completed: 0, failed: 0, cancelled: 0, inFlight: 0, ttftP50Ms: null, ttftP99Ms: null, itlP50Ms: null, itlP99Ms: null, outputTokensPerS: 0, requestsPerS: 0 };
    // The last window after the drain: 0.41 s, two completions ("4.89 req/s" before).
    const sliver = formatWindow({ ...base, startS: 60, endS: 60.41, completed: 2, ttftP50Ms: 21, ttftP99Ms: 24, itlP50Ms: 7, itlP99Ms: 9, outputTokensPerS: 48.8, requestsPerS: 2 / 0.41 }, 'pd', 30);
    expect(sliver).toBe('[pd 60-60s] launched 0, done 2, failed 0, in flight 0; 0.41 s, too short for rates; TTFT p50 21.0 p99 24.0 ms; ITL p50 7.00 p99 9.00 ms');
    expect(sliver).not.toMatch(/req\/s|tok\/s/);
    // A whole window in which nothing was launched or finished (a stalled server): its counts alone.
    expect(formatWindow({ ...base, startS: 30, endS: 60, inFlight: 3 }, 'pd', 30)).toBe('[pd 30-60s] launched 0, done 0, failed 0, in flight 3');
    // A zero-length window.
    expect(formatWindow({ ...base, startS: 60, endS: 60, completed: 1 }, 'pd')).not.toMatch(/req\/s/);
    // Sub-second --log-interval: its full windows keep their rates.
    expect(formatWindow({ ...base, startS: 0.4, endS: 0.8, completed: 2, requestsPerS: 5, outputTokensPerS: 30 }, 'pd', 0.4)).toContain('5.00 req/s, 30 out tok/s');
  });
});

describe('side-by-side report', () => {
  const colocated = resultOf([record()], { runId: 'colo' });
  const pd = resultOf([record({ firstTokenMs: 1085, chunkTimesMs: [1085, 1093, 1113, 1143], endMs: 1150 })], {
    runId: 'pd',
    throughput: { requestThroughput: 2.1, outputThroughput: 84, cachedTokenShare: null },
  });

  it('puts each run in a column, the first as the baseline, with relative differences', () => {
    const s = formatSideBySide([
      { name: 'colocated', result: colocated, gpus: 2 },
      { name: 'pd', result: pd, gpus: 2 },
    ]);
    const lines = s.split('\n');
    expect(lines[0]?.trim().split(/\s{2,}/)).toEqual(['colocated (2 GPU)', 'pd (2 GPU)']);
    expect(lines[1]).toMatch(/^-+( +-+){2}$/);
    const row = (label: string): string => lines.find((l) => l.startsWith(label)) as string;
    expect(row('TTFT p50 (ms)')).toMatch(/50\.0\s+75\.0 \(\+50\.0%\)$/); // 1085 - 1010 = 75 ms
    expect(row('E2E p50 (ms)')).toMatch(/115\.0\s+140\.0 \(\+21\.7%\)$/);
    expect(row('ITL p50 (ms)')).toMatch(/10\.00\s+10\.00 \(\+0\.0%\)$/);
    expect(row('completed req/s')).toMatch(/2\.100\s+2\.100 \(\+0\.0%\)$/);
    expect(row('output tok/s ')).toMatch(/105\.0\s+84\.0 \(-20\.0%\)$/);
    expect(row('cached prompt tokens (%)')).toMatch(/25\.0\s+-$/);
    expect(row('failed requests')).toMatch(/0\s+0 \(=\)$/);
    expect(row('output tok/s per GPU')).toMatch(/52\.5\s+42\.0 \(-20\.0%\)$/);
    expect(lines.at(-1)).toBe('(differences relative to colocated; same seed, same users, same schedule)');
    expect(lines).toHaveLength(2 + SIDE_BY_SIDE_ROWS.length + 1 + 1);
  });

  it('omits the per-GPU row unless every run gives its GPU count', () => {
    const s = formatSideBySide([
      { name: 'a', result: colocated, gpus: 2 },
      { name: 'b', result: pd },
    ]);
    expect(s).not.toContain('per GPU');
    expect(s.split('\n')[0]?.trim().split(/\s{2,}/)).toEqual(['a (2 GPU)', 'b']);
  });

  it('compares three runs against the first and is empty with none', () => {
    const s = formatSideBySide([
      { name: 'a', result: colocated },
      { name: 'b', result: pd },
      { name: 'c', result: colocated },
    ]);
    expect(s.split('\n').find((l) => l.startsWith('TTFT p50'))).toMatch(/50\.0\s+75\.0 \(\+50\.0%\)\s+50\.0 \(\+0\.0%\)$/);
    expect(formatSideBySide([])).toBe('');
  });
});
