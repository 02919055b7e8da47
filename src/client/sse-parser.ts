// Incremental Server-Sent-Events framing on Buffers; stamps nothing, parses no JSON: the caller stamps
// each read and parses every payload. Bare JSON lines (router error blobs, NDJSON, non-streamed bodies)
// come out as events too, a multi-line document as one event once its braces balance.

export type SseEventHandler = (data: string, arrivalNs: bigint) => void;

export interface SseParserOptions {
  /** Bytes one event (or one bare JSON document) may reach before the stream is given up on. Default 64 MiB. */
  maxEventBytes?: number;
}

/** A server that never ends an event would otherwise grow our buffers without bound. */
export class SseOverflowError extends Error {
  readonly code = 'PDB_SSE_OVERFLOW';
  readonly limitBytes: number;
  constructor(limitBytes: number, seenBytes: number) {
    super(`SSE event exceeds maxEventBytes=${limitBytes} (${seenBytes} bytes buffered without an event boundary)`);
    this.name = 'SseOverflowError';
    this.limitBytes = limitBytes;
  }
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
const LBRACE = 0x7b;

const DEFAULT_MAX_EVENT_BYTES = 64 * 1024 * 1024;
// A short tail kept as a view would pin the whole (possibly 64 KiB, possibly shared) read buffer
// for every idle stream; copying it is cheap. Long tails dominate their buffer anyway, so keep views.
const COPY_TAIL_BELOW = 4096;

export class SseParser {
  private readonly onEvent: SseEventHandler;
  private readonly maxEventBytes: number;

  // Pieces of the current unterminated line; concatenated once, when its terminator arrives.
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  // The previous read ended in CR: a LF opening this read belongs to that CRLF, not a blank line.
  private skipLeadingLf = false;
  private firstLine = true;

  private data = '';
  private hasData = false;
  private eventBytes = 0;

  // Bare JSON spread over several lines (only before any data: line). Completion is decided by balancing
  // braces outside strings, not by retrying JSON.parse per line: that would be quadratic on a long
  // pretty-printed body, and a malformed blob would swallow the rest of the stream waiting to parse.
  private raw: string | null = null;
  private rawDepth = 0;
  private sawDataLine = false;

  private count = 0;

  constructor(onEvent: SseEventHandler, options?: SseParserOptions) {
    this.onEvent = onEvent;
    const max = options?.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    if (!Number.isFinite(max) || max <= 0) throw new RangeError(`maxEventBytes must be a positive number, got ${max}`);
    this.maxEventBytes = max;
  }

  get eventCount(): number {
    return this.count;
  }

  push(chunk: Buffer, arrivalNs: bigint): void {
    const len = chunk.length;
    if (len === 0) return;
    let pos = 0;
    if (this.skipLeadingLf) {
      this.skipLeadingLf = false;
      if (chunk[0] === LF) pos = 1;
    }
    // Cached next-terminator positions keep the scan linear when one read holds many lines.
    let nextLf = chunk.indexOf(LF, pos);
    let nextCr = chunk.indexOf(CR, pos);
    while (pos < len) {
      if (nextLf !== -1 && nextLf < pos) nextLf = chunk.indexOf(LF, pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = chunk.indexOf(CR, pos);
      let eol: number;
      if (nextLf === -1) {
        if (nextCr === -1) break;
        eol = nextCr;
      } else {
        eol = nextCr !== -1 && nextCr < nextLf ? nextCr : nextLf;
      }
      let next = eol + 1;
      if (chunk[eol] === CR) {
        if (next < len) {
          if (chunk[next] === LF) next++;
        } else {
          this.skipLeadingLf = true;
        }
      }
      if (this.pendingBytes === 0) {
        this.checkSize(eol - pos);
        this.line(chunk, pos, eol, arrivalNs);
      } else {
        const total = this.pendingBytes + (eol - pos);
        this.checkSize(total);
        this.pending.push(chunk.subarray(pos, eol));
        const whole = Buffer.concat(this.pending, total);
        this.pending.length = 0;
        this.pendingBytes = 0;
        this.line(whole, 0, whole.length, arrivalNs);
      }
      pos = next;
    }
    if (pos < len) {
      const tailLen = len - pos;
      this.checkSize(this.pendingBytes + tailLen);
      const tail = chunk.subarray(pos);
      this.pending.push(tailLen < COPY_TAIL_BELOW ? Buffer.from(tail) : tail);
      this.pendingBytes += tailLen;
    }
  }

  end(arrivalNs: bigint): void {
    this.skipLeadingLf = false;
    if (this.pendingBytes > 0) {
      const whole = Buffer.concat(this.pending, this.pendingBytes);
      this.pending.length = 0;
      this.pendingBytes = 0;
      this.line(whole, 0, whole.length, arrivalNs);
    }
    // Unparseable leftovers go out anyway: the consumer owns reporting the parse error.
    if (this.raw !== null) this.flushRaw(arrivalNs);
    if (this.hasData) this.flushData(arrivalNs);
  }

  private checkSize(lineBytes: number): void {
    const total = this.eventBytes + lineBytes;
    if (total > this.maxEventBytes) {
      // Drop what we hold so a caller that catches and abandons the stream frees it promptly.
      this.pending.length = 0;
      this.pendingBytes = 0;
      this.data = '';
      this.hasData = false;
      this.raw = null;
      this.eventBytes = 0;
      throw new SseOverflowError(this.maxEventBytes, total);
    }
  }

  private line(buf: Buffer, start: number, end: number, arrivalNs: bigint): void {
    if (this.firstLine) {
      this.firstLine = false;
      if (end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
    }

    if (this.raw !== null) {
      if (!isDataField(buf, start, end)) {
        this.appendRaw(buf.toString('utf8', start, end), end - start, arrivalNs);
        return;
      }
      // A real SSE field cannot be part of a JSON document: what we held was not one after all.
      this.flushRaw(arrivalNs);
    }

    if (start === end) {
      if (this.hasData) this.flushData(arrivalNs);
      else this.eventBytes = 0;
      return;
    }

    const c0 = buf[start];
    if (c0 === COLON) return;

    if (isDataField(buf, start, end)) {
      this.sawDataLine = true;
      let v = start + 4;
      if (v < end) {
        v++; // the colon
        if (v < end && buf[v] === SPACE) v++;
      }
      const value = buf.toString('utf8', v, end);
      if (this.hasData) {
        this.data += '\n' + value;
      } else {
        this.data = value;
        this.hasData = true;
      }
      this.eventBytes += end - start;
      return;
    }

    let i = start;
    while (i < end && (buf[i] === SPACE || buf[i] === TAB)) i++;
    if (i < end && buf[i] === LBRACE) {
      // Keep stream order: an event already under way was cut short by this blob, it did not absorb it.
      if (this.hasData) this.flushData(arrivalNs);
      const text = buf.toString('utf8', start, end);
      if (this.sawDataLine) {
        this.emit(text, arrivalNs);
        return;
      }
      this.raw = text;
      this.rawDepth = 0;
      this.eventBytes += end - start;
      this.scanRaw(text, arrivalNs);
      return;
    }
    // event:, id:, retry: and unknown fields carry nothing the benchmark consumes.
  }

  private appendRaw(text: string, bytes: number, arrivalNs: bigint): void {
    this.raw += '\n' + text;
    this.eventBytes += bytes + 1;
    this.scanRaw(text, arrivalNs);
  }

  /** Carries brace depth over one more line and dispatches once the top-level value has closed. */
  private scanRaw(text: string, arrivalNs: bigint): void {
    let depth = this.rawDepth;
    // JSON strings cannot span lines, so string state restarts per line; that also bounds the damage
    // an unterminated string in a malformed blob can do.
    let inString = false;
    let escape = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (escape) escape = false;
        else if (c === 0x5c) escape = true;
        else if (c === 0x22) inString = false;
      } else if (c === 0x22) {
        inString = true;
      } else if (c === 0x7b || c === 0x5b) {
        depth++;
      } else if (c === 0x7d || c === 0x5d) {
        depth--;
      }
    }
    this.rawDepth = depth;
    // Balanced (or over-closed, i.e. malformed): more lines cannot complete it, so hand it on as is.
    if (depth <= 0) this.flushRaw(arrivalNs);
  }

  private flushRaw(arrivalNs: bigint): void {
    const text = this.raw ?? '';
    this.raw = null;
    this.eventBytes = 0;
    this.emit(text, arrivalNs);
  }

  private flushData(arrivalNs: bigint): void {
    const text = this.data;
    this.data = '';
    this.hasData = false;
    this.eventBytes = 0;
    this.emit(text, arrivalNs);
  }

  private emit(text: string, arrivalNs: bigint): void {
    this.count++;
    this.onEvent(text, arrivalNs);
  }
}

/** `data` exactly, or `data:`; anything longer without the colon is some other field. */
function isDataField(buf: Buffer, start: number, end: number): boolean {
  const n = end - start;
  return (
    n >= 4 &&
    buf[start] === 0x64 &&
    buf[start + 1] === 0x61 &&
    buf[start + 2] === 0x74 &&
    buf[start + 3] === 0x61 &&
    (n === 4 || buf[start + 4] === COLON)
  );
}
