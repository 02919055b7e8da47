// Pure analysis of one measurement: the mock's send log (the truth) joined with pd-bench's per-request stamps.
// All times are converted to ns relative to the steady-state window's start, as plain numbers (exact: every
// value is far below 2^53 ns), so nothing here depends on which process took the stamp: both read Linux's
// CLOCK_MONOTONIC through process.hrtime.bigint(), one clock for the machine (the workers check it).
import { readFileSync } from 'node:fs';

export interface MockRequest {
  user: string | null;
  path: string;
  status: number;
  /** Request body fully read (ns, window-relative). */
  recv: number;
  /** Each content chunk's write (ns, window-relative). */
  send: number[];
}

export interface MockSummary {
  wall_s: number;
  cpu_s: number;
  max_rss_bytes: number;
  loop_delay_ms: { p50: number; p99: number; max: number } | null;
}

export interface ClientRequest {
  user: number;
  round: number;
  phase: string;
  outcome: string;
  sent: number;
  first: number | null;
  end: number;
  chunks: number[];
}

export function readMockLog(path: string, baseNs: bigint): { requests: MockRequest[]; summary: MockSummary | undefined } {
  const requests: MockRequest[] = [];
  let summary: MockSummary | undefined;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line) as Record<string, unknown>;
    if (o.event === 'summary') {
      summary = o as unknown as MockSummary;
      continue;
    }
    const recvAbs = BigInt(o.recv as string);
    if (recvAbs === 0n) continue; // the body never arrived: nothing was timed
    const recv = Number(recvAbs - baseNs);
    requests.push({
      user: o.user as string | null,
      path: o.path as string,
      status: o.status as number,
      recv,
      send: (o.send as number[]).map((d) => recv + d),
    });
  }
  return { requests, summary };
}

export function readRecords(path: string, t0Ns: bigint, baseNs: bigint): ClientRequest[] {
  const shift = Number(t0Ns - baseNs);
  const out: ClientRequest[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line) as { user: number; round: number; phase: string; outcome: string; sent: number; first: number | null; end: number; chunks: number[] };
    out.push({
      user: o.user,
      round: o.round,
      phase: o.phase,
      outcome: o.outcome,
      sent: o.sent + shift,
      first: o.first === null ? null : o.first + shift,
      end: o.end + shift,
      chunks: o.chunks.map((c) => c + shift),
    });
  }
  return out;
}

/** Order statistics of a sample, in ms. Percentiles are nearest-rank on the full, sorted sample. */
export interface Dist {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function dist(valuesNs: ArrayLike<number>): Dist {
  const n = valuesNs.length;
  if (n === 0) return { n: 0, min: NaN, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  const a = Float64Array.from(valuesNs).sort();
  const at = (p: number): number => (a[Math.min(Math.max(Math.ceil((p / 100) * n) - 1, 0), n - 1)] as number) / 1e6;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[i] as number;
  return { n, min: (a[0] as number) / 1e6, p50: at(50), p99: at(99), max: (a[n - 1] as number) / 1e6, mean: sum / n / 1e6 };
}

export interface Accuracy {
  /** Requests joined and analysed (sent inside the window, ok at both ends, same chunk count). */
  requests: number;
  chunks: number;
  /** Requests that could not be joined, or whose chunk counts differ (should be 0). */
  unmatched: number;
  /** pd-bench's TTFT (first token stamp - sent stamp) minus the server's (first chunk write - body read). */
  ttftError: Dist;
  /** The two legs of that error: server body read - pd-bench sent stamp ... */
  requestLeg: Dist;
  /** ... and pd-bench first-token stamp - server first chunk write. */
  responseLeg: Dist;
  /** Per gap: pd-bench's chunk gap minus the server's write gap (signed) ... */
  itlError: Dist;
  /** ... and its absolute value. */
  itlAbsError: Dist;
  /** Every chunk: pd-bench's arrival stamp - the server's write. */
  chunkDelay: Dist;
  clientTtft: Dist;
  serverTtft: Dist;
  /** The mock's own lateness: each write - its due time (body read + TTFT + j * ITL). Not an error of pd-bench. */
  mockLateness: Dist;
}

/**
 * Joins pd-bench's records with the mock's log request by request: per user, in order (a user's turns are
 * sequential, so the k-th request the mock saw from user u is pd-bench's k-th request of user u).
 */
export function accuracy(mock: MockRequest[], client: ClientRequest[], windowEndNs: number, ttftMs: number, itlMs: number): Accuracy {
  const byUser = <T>(xs: T[], key: (x: T) => string, time: (x: T) => number): Map<string, T[]> => {
    const m = new Map<string, T[]>();
    for (const x of xs) {
      const k = key(x);
      let l = m.get(k);
      if (!l) m.set(k, (l = []));
      l.push(x);
    }
    for (const l of m.values()) l.sort((a, b) => time(a) - time(b));
    return m;
  };
  const gen = mock.filter((r) => r.path === '/v1/chat/completions' && r.user !== null);
  const mockBy = byUser(gen, (r) => r.user as string, (r) => r.recv);
  const clientBy = byUser(
    client.filter((r) => r.phase === 'measure'),
    (r) => String(r.user),
    (r) => r.sent,
  );
  const ttftErr: number[] = [];
  const reqLeg: number[] = [];
  const respLeg: number[] = [];
  const itlErr: number[] = [];
  const itlAbs: number[] = [];
  const delay: number[] = [];
  const cTtft: number[] = [];
  const sTtft: number[] = [];
  const late: number[] = [];
  let unmatched = 0;
  let requests = 0;
  const ttftNs = ttftMs * 1e6;
  const itlNs = itlMs * 1e6;
  for (const [user, cs] of clientBy) {
    const ms = mockBy.get(user) ?? [];
    unmatched += Math.abs(ms.length - cs.length);
    const n = Math.min(ms.length, cs.length);
    for (let k = 0; k < n; k++) {
      const c = cs[k] as ClientRequest;
      const m = ms[k] as MockRequest;
      if (c.sent < 0 || c.sent > windowEndNs) continue;
      if (c.outcome !== 'ok' || m.status !== 200 || c.first === null || c.chunks.length !== m.send.length || m.send.length === 0) {
        unmatched++;
        continue;
      }
      requests++;
      const s0 = m.send[0] as number;
      cTtft.push(c.first - c.sent);
      sTtft.push(s0 - m.recv);
      ttftErr.push(c.first - c.sent - (s0 - m.recv));
      reqLeg.push(m.recv - c.sent);
      respLeg.push(c.first - s0);
      for (let j = 0; j < m.send.length; j++) {
        const sj = m.send[j] as number;
        const cj = c.chunks[j] as number;
        delay.push(cj - sj);
        late.push(sj - (m.recv + ttftNs + j * itlNs));
        if (j > 0) {
          const e = cj - (c.chunks[j - 1] as number) - (sj - (m.send[j - 1] as number));
          itlErr.push(e);
          itlAbs.push(Math.abs(e));
        }
      }
    }
  }
  return {
    requests,
    chunks: delay.length,
    unmatched,
    ttftError: dist(ttftErr),
    requestLeg: dist(reqLeg),
    responseLeg: dist(respLeg),
    itlError: dist(itlErr),
    itlAbsError: dist(itlAbs),
    chunkDelay: dist(delay),
    clientTtft: dist(cTtft),
    serverTtft: dist(sTtft),
    mockLateness: dist(late),
  };
}

export interface Traffic {
  /** Content chunks the mock wrote inside the window (each is one token here). */
  chunks: number;
  /** Requests whose body the mock finished reading inside the window. */
  requests: number;
  /** Streams open at the mock (body read to last content chunk written): time-weighted mean and max over the window. */
  streamsMean: number;
  streamsMax: number;
  /** The mock's lateness against its own schedule, every chunk written inside the window. */
  mockLateness: Dist;
}

export function traffic(mock: MockRequest[], windowEndNs: number, ttftMs: number, itlMs: number): Traffic {
  let chunks = 0;
  let requests = 0;
  const events: [number, number][] = [];
  const late: number[] = [];
  for (const r of mock) {
    if (r.path !== '/v1/chat/completions') continue;
    if (r.recv >= 0 && r.recv < windowEndNs) requests++;
    r.send.forEach((s, j) => {
      if (s >= 0 && s < windowEndNs) {
        chunks++;
        late.push(s - (r.recv + ttftMs * 1e6 + j * itlMs * 1e6));
      }
    });
    const last = r.send[r.send.length - 1];
    if (last !== undefined) events.push([r.recv, 1], [last, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  let area = 0;
  let prev = 0;
  for (const [t, d] of events) {
    const from = Math.max(prev, 0);
    const to = Math.min(t, windowEndNs);
    if (to > from) area += open * (to - from);
    prev = t;
    open += d;
    if (t >= 0 && t <= windowEndNs) max = Math.max(max, open);
  }
  if (prev < windowEndNs) area += open * (windowEndNs - Math.max(prev, 0));
  return { chunks, requests, streamsMean: windowEndNs > 0 ? area / windowEndNs : 0, streamsMax: max, mockLateness: dist(late) };
}
