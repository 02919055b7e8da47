// A tolerant parser for the Prometheus text exposition format (0.0.4), which also reads what OpenMetrics 1.0
// pages add (`# EOF`, `_total`/`_created` samples of a counter family, exemplars, float timestamps) and the
// quoted UTF-8 metric names of Prometheus 3. It reads what vLLM, LMCache, llama.cpp's server and
// production-stack's router serve on /metrics. It never throws on input: a line it cannot read is skipped and
// counted, so one bad exporter line cannot cost the whole scrape.

export type PromType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'summary'
  | 'untyped'
  | 'unknown'
  | 'info'
  | 'stateset'
  | 'gaugehistogram';

const TYPES: ReadonlySet<string> = new Set<PromType>(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'unknown', 'info', 'stateset', 'gaugehistogram']);

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** As written: milliseconds in the Prometheus text format, seconds in OpenMetrics. */
  timestamp?: number;
}

export interface MalformedLine {
  /** 1-based. */
  line: number;
  /** The line, cut to 200 characters. */
  text: string;
  reason: string;
}

/** What a scan found besides the samples it handed to the callback. */
export interface PromScanSummary {
  /** TYPE per family name as declared. */
  types: Map<string, PromType>;
  samples: number;
  malformed: number;
  /** The first few malformed lines, for error messages. */
  malformedExamples: MalformedLine[];
  /** An OpenMetrics `# EOF` ended the page (anything after it is ignored). */
  eof: boolean;
}

export interface PromParseResult {
  samples: PromSample[];
  types: Record<string, PromType>;
  malformed: number;
  malformedExamples: MalformedLine[];
  eof: boolean;
}

export interface ScanOptions {
  /**
   * Build label objects for the callback. The syntax is checked either way; a caller that only sums by name
   * (the scraper, on pages of up to megabytes) saves an object per sample by turning this off.
   */
  labels?: boolean;
  /** How many malformed lines to keep as examples (default 5). */
  maxExamples?: number;
}

export type SampleCallback = (name: string, value: number, labels: Record<string, string> | undefined, timestamp: number | undefined) => void;

const MAX_EXAMPLE_CHARS = 200;

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09;
const isNameStart = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
const isNameChar = (c: number): boolean => isNameStart(c) || (c >= 0x30 && c <= 0x39);
// Label names may not contain ':' (metric names may).
const isLabelStart = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
const isLabelChar = (c: number): boolean => isLabelStart(c) || (c >= 0x30 && c <= 0x39);

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A sample value or timestamp as Go's strconv.ParseFloat reads what exporters write: decimals, exponents,
 * NaN and (+/-)Inf in any case. Hex floats and digit separators are not accepted (no exporter writes them).
 */
export function parsePromNumber(tok: string): number | undefined {
  if (DECIMAL.test(tok)) return Number(tok);
  switch (tok.toLowerCase()) {
    case 'nan':
      return NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    default:
      return undefined;
  }
}

/** Sets a key even when it is `__proto__`, which is a valid label name. */
function setOwn(o: Record<string, string>, k: string, v: string): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

class LineError extends Error {}

/** A cursor over one line; methods throw LineError, caught once per line. */
class Cursor {
  i = 0;
  constructor(readonly s: string) {}

  get done(): boolean {
    return this.i >= this.s.length;
  }

  peek(): number {
    return this.s.charCodeAt(this.i);
  }

  skipBlanks(): number {
    const start = this.i;
    while (this.i < this.s.length && isBlank(this.s.charCodeAt(this.i))) this.i++;
    return this.i - start;
  }

  expect(ch: string, what: string): void {
    if (this.s[this.i] !== ch) throw new LineError(`expected ${what} at column ${this.i + 1}`);
    this.i++;
  }

  word(start: (c: number) => boolean, rest: (c: number) => boolean, what: string): string {
    const from = this.i;
    if (this.done || !start(this.peek())) throw new LineError(`expected ${what} at column ${this.i + 1}`);
    this.i++;
    while (this.i < this.s.length && rest(this.s.charCodeAt(this.i))) this.i++;
    return this.s.slice(from, this.i);
  }

  /** A double-quoted string with \\, \" and \n escapes; other escapes are kept as written. */
  quoted(): string {
    this.expect('"', 'a quote');
    let out = '';
    let from = this.i;
    for (;;) {
      if (this.i >= this.s.length) throw new LineError('unterminated quoted string');
      const c = this.s.charCodeAt(this.i);
      if (c === 0x22) {
        out += this.s.slice(from, this.i);
        this.i++;
        return out;
      }
      if (c === 0x5c) {
        out += this.s.slice(from, this.i);
        const n = this.s[this.i + 1];
        if (n === undefined) throw new LineError('unterminated quoted string');
        out += n === 'n' ? '\n' : n === '\\' || n === '"' ? n : '\\' + n;
        this.i += 2;
        from = this.i;
        continue;
      }
      this.i++;
    }
  }

  /** Up to the next blank or end of line. */
  token(): string {
    const from = this.i;
    while (this.i < this.s.length && !isBlank(this.s.charCodeAt(this.i))) this.i++;
    return this.s.slice(from, this.i);
  }
}

/**
 * Reads `{a="b",c="d"}` (the opening brace already consumed). Returns the metric name when the set starts with
 * a bare quoted string (Prometheus 3's `{"name.with.dots", a="b"}`).
 */
function readLabels(c: Cursor, into: Record<string, string> | undefined, allowName: boolean): string | undefined {
  let name: string | undefined;
  let first = true;
  for (;;) {
    c.skipBlanks();
    if (c.done) throw new LineError('unterminated label set');
    if (c.s[c.i] === '}') {
      c.i++;
      return name;
    }
    let label: string;
    if (c.s[c.i] === '"') {
      label = c.quoted();
      c.skipBlanks();
      if (first && allowName && (c.s[c.i] === ',' || c.s[c.i] === '}')) {
        name = label;
        first = false;
        if (c.s[c.i] === ',') c.i++;
        continue;
      }
    } else {
      label = c.word(isLabelStart, isLabelChar, 'a label name');
      c.skipBlanks();
    }
    first = false;
    c.expect('=', "'=' after a label name");
    c.skipBlanks();
    const value = c.quoted();
    if (into) setOwn(into, label, value);
    c.skipBlanks();
    if (c.s[c.i] === ',') c.i++;
    else if (c.s[c.i] !== '}') throw new LineError(`expected ',' or '}' at column ${c.i + 1}`);
  }
}

/** Handles a `#` line: TYPE is kept, HELP and other comments are skipped. Returns true for `# EOF`. */
function readComment(line: string, types: Map<string, PromType>): boolean {
  const c = new Cursor(line);
  c.i = 1;
  c.skipBlanks();
  const keyword = c.token();
  if (keyword === 'EOF') {
    c.skipBlanks();
    return c.done;
  }
  if (keyword !== 'TYPE') return false;
  c.skipBlanks();
  const name = c.s[c.i] === '"' ? c.quoted() : c.word(isNameStart, isNameChar, 'a metric name');
  if (c.skipBlanks() === 0) throw new LineError('expected a type after the metric name');
  const type = c.token().toLowerCase();
  c.skipBlanks();
  if (!c.done) throw new LineError('unexpected text after the type');
  if (!TYPES.has(type)) throw new LineError(`unknown metric type "${type}"`);
  types.set(name, type as PromType);
  return false;
}

function readSample(line: string, wantLabels: boolean, cb: SampleCallback): void {
  const c = new Cursor(line);
  let name: string | undefined;
  const labels: Record<string, string> | undefined = wantLabels ? {} : undefined;
  let blank = 0;
  if (c.s[0] !== '{') {
    name = c.word(isNameStart, isNameChar, 'a metric name');
    blank = c.skipBlanks();
  }
  if (c.s[c.i] === '{') {
    c.i++;
    const quotedName = readLabels(c, labels, name === undefined);
    if (quotedName !== undefined) name = quotedName;
    blank = c.skipBlanks();
  }
  if (name === undefined || name === '') throw new LineError('sample without a metric name');
  if (blank === 0) throw new LineError(c.done ? 'no value' : 'expected a blank before the value');
  const vtok = c.token();
  const value = parsePromNumber(vtok);
  if (value === undefined) throw new LineError(`not a number: "${vtok.slice(0, 40)}"`);
  let timestamp: number | undefined;
  c.skipBlanks();
  if (!c.done && c.s[c.i] !== '#') {
    const ttok = c.token();
    timestamp = parsePromNumber(ttok);
    if (timestamp === undefined || !Number.isFinite(timestamp)) throw new LineError(`not a timestamp: "${ttok.slice(0, 40)}"`);
    c.skipBlanks();
  }
  // An OpenMetrics exemplar (`# {trace_id="..."} 0.5`) belongs to the sample; its syntax is not checked.
  if (!c.done && c.s[c.i] !== '#') throw new LineError(`unexpected text at column ${c.i + 1}`);
  cb(name, value, labels, timestamp);
}

/**
 * Calls `onSample` for every sample in page order without building an array. CRLF and LF line ends, blank
 * lines and leading blanks are accepted.
 */
export function scanPrometheusText(text: string, onSample: SampleCallback, options: ScanOptions = {}): PromScanSummary {
  const wantLabels = options.labels !== false;
  const maxExamples = options.maxExamples ?? 5;
  const types = new Map<string, PromType>();
  const summary: PromScanSummary = { types, samples: 0, malformed: 0, malformedExamples: [], eof: false };
  const counting: SampleCallback = (n, v, l, t) => {
    summary.samples++;
    onSample(n, v, l, t);
  };
  let pos = 0;
  let lineNo = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let line = text.slice(pos, end);
    pos = end + 1;
    lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    let start = 0;
    while (start < line.length && isBlank(line.charCodeAt(start))) start++;
    if (start === line.length) continue;
    if (start > 0) line = line.slice(start);
    try {
      if (line.charCodeAt(0) === 0x23) {
        if (readComment(line, types)) {
          summary.eof = true;
          break;
        }
      } else {
        readSample(line, wantLabels, counting);
      }
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      summary.malformed++;
      if (summary.malformedExamples.length < maxExamples) {
        summary.malformedExamples.push({ line: lineNo, text: line.slice(0, MAX_EXAMPLE_CHARS), reason: err.message });
      }
    }
  }
  return summary;
}

/** The whole page as an array of samples plus the declared types. */
export function parsePrometheusText(text: string, options: ScanOptions = {}): PromParseResult {
  const samples: PromSample[] = [];
  const s = scanPrometheusText(
    text,
    (name, value, labels, timestamp) => {
      const sample: PromSample = { name, labels: labels ?? {}, value };
      if (timestamp !== undefined) sample.timestamp = timestamp;
      samples.push(sample);
    },
    { ...options, labels: options.labels ?? true },
  );
  return { samples, types: Object.fromEntries(s.types), malformed: s.malformed, malformedExamples: s.malformedExamples, eof: s.eof };
}

/** How a sample name contributes to per-name sums: as a counter, a gauge, or not at all. */
export type SampleKind = 'counter' | 'gauge' | 'skip';

const dropSuffix = (name: string, suffix: string): string | undefined => (name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined);

/**
 * Classifies a sample name by the page's TYPE lines. Histogram and summary `_sum`/`_count` are counters (they
 * only grow); buckets, quantiles and `_created` timestamps are skipped, since summing them over label sets means
 * nothing. Without a TYPE, a `_total` name is a counter (the OpenMetrics convention) and anything else a gauge.
 */
export function classifySample(name: string, types: ReadonlyMap<string, PromType>): SampleKind {
  // prometheus_client (vLLM, LMCache, the router) writes each counter's and histogram's creation time as a
  // separate `X_created` gauge family in the 0.0.4 format; it is a Unix time, not a measurement.
  const created = dropSuffix(name, '_created');
  if (created !== undefined) {
    const t = types.get(created);
    if (t === 'counter' || t === 'histogram' || t === 'summary' || t === 'gaugehistogram' || types.get(created + '_total') === 'counter') return 'skip';
  }
  const own = types.get(name);
  if (own !== undefined) {
    switch (own) {
      case 'counter':
        return 'counter';
      case 'gauge':
      case 'info':
      case 'stateset':
        return 'gauge';
      case 'histogram':
      case 'summary':
      case 'gaugehistogram':
        // A bare sample of a summary family is a quantile.
        return 'skip';
      default:
        return name.endsWith('_total') ? 'counter' : 'gauge';
    }
  }
  for (const suffix of ['_sum', '_count'] as const) {
    const fam = dropSuffix(name, suffix);
    if (fam === undefined) continue;
    const t = types.get(fam);
    if (t === 'histogram' || t === 'summary') return 'counter';
  }
  for (const suffix of ['_gsum', '_gcount'] as const) {
    const fam = dropSuffix(name, suffix);
    if (fam !== undefined && types.get(fam) === 'gaugehistogram') return 'gauge';
  }
  const bucketFam = dropSuffix(name, '_bucket');
  if (bucketFam !== undefined) {
    const t = types.get(bucketFam);
    if (t === 'histogram' || t === 'gaugehistogram' || t === undefined) return 'skip';
  }
  const totalFam = dropSuffix(name, '_total');
  if (totalFam !== undefined) return 'counter';
  const infoFam = dropSuffix(name, '_info');
  if (infoFam !== undefined && types.get(infoFam) === 'info') return 'gauge';
  // Untyped `_sum`/`_count` (no TYPE line at all) are almost always histogram parts: they only grow.
  if (name.endsWith('_sum') || name.endsWith('_count')) return 'counter';
  return 'gauge';
}
