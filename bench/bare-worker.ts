// The floor: the least a Node client must spend to read the same streams. The same schedule as pd-bench (the
// same pure schedule functions, so the same due times and the same streams in flight), the same undici Pool
// settings as pd-bench's TargetClient, one fixed request body of about the same size, and a dispatch handler
// that does not parse: no SSE framing, no JSON, no histograms, and none of pd-bench's other modules loaded, so
// its memory is the floor too. It does stamp, the way pd-bench does (one hrtime read per socket read), every
// read holding a content delta (found by a byte search), so its stamps give the timing floor of a Node client
// on this machine as well; the stamps are written out 1 MiB at a time, as pd-bench's are.
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { dueAt, planMultiRound, userAt, type MultiRoundParams, type UserPlan } from '../src/schedule/multi-round.js';
import { BatchedFile, sleep, workerMain, type WorkerResult } from './common.js';

const CONTENT = Buffer.from('"content":"');
const QUOTE = 0x22;
let bodyBytes = 0;

class StampingHandler implements Dispatcher.DispatchHandler {
  /** Stamped where pd-bench stamps it: when undici hands the request to a socket, after the pool's scan. */
  sentNs = 0n;
  readonly chunks: bigint[] = [];
  #resolve: (h: StampingHandler, ok: boolean) => void;
  #status = 0;
  endNs = 0n;
  constructor(resolve: (h: StampingHandler, ok: boolean) => void) {
    this.#resolve = resolve;
  }
  onRequestStart(): void {
    this.sentNs = process.hrtime.bigint();
  }
  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    this.#status = statusCode;
  }
  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    const at = process.hrtime.bigint();
    bodyBytes += chunk.length;
    // One stamp per content delta in this read ("content":"" is the role chunk's, not a token).
    for (let i = chunk.indexOf(CONTENT); i !== -1; i = chunk.indexOf(CONTENT, i + CONTENT.length)) {
      if (chunk[i + CONTENT.length] !== QUOTE) this.chunks.push(at);
    }
  }
  onResponseEnd(): void {
    this.endNs = process.hrtime.bigint();
    this.#resolve(this, this.#status === 200);
  }
  onResponseError(): void {
    this.endNs = process.hrtime.bigint();
    this.#resolve(this, false);
  }
}

workerMain('bare', async (spec, win, signal): Promise<Partial<WorkerResult>> => {
  const base = new URL(spec.baseUrl);
  const path = `${base.pathname.replace(/\/+$/, '')}/chat/completions`;
  const pool = new Pool(base.origin, {
    connections: null, // as pd-bench without --max-concurrency: a connection for every request in flight
    pipelining: 1,
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  // As long as pd-bench's bodies on average (its users carry a growing history; see bareContentChars).
  const body = JSON.stringify({
    model: spec.model,
    messages: [{ role: 'user', content: 'lorem ipsum dolor sit amet '.repeat(Math.max(Math.ceil((spec.bareContentChars ?? spec.historyTokens * 4) / 27), 1)) }],
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0,
    max_tokens: spec.answerLen,
    ignore_eos: true,
  });
  const headers = { 'content-type': 'application/json', accept: 'text/event-stream, application/json' };
  const counts = { launched: 0, ok: 0, failed: 0, cancelled: 0 };
  const out = spec.recordsPath ? new BatchedFile(spec.recordsPath) : undefined;
  const t0 = process.hrtime.bigint();
  const rel = (ns: bigint): number => Number(ns - t0);

  const send = (userId: number, round: number): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      counts.launched++;
      const done = (h: StampingHandler, ok: boolean): void => {
        if (out) {
          let c = '';
          for (const t of h.chunks) c += (c ? ',' : '') + String(rel(t));
          const first = h.chunks[0];
          out.write(
            `{"user":${userId},"round":${round},"phase":"measure","outcome":"${ok ? 'ok' : 'failed'}","sent":${rel(h.sentNs)},` +
              `"first":${first === undefined ? null : rel(first)},"end":${rel(h.endNs)},"tokens":${h.chunks.length},"chunks":[${c}]}\n`,
          );
        }
        resolve(ok);
      };
      pool.dispatch({ method: 'POST', path, headers: { ...headers, 'x-user-id': String(userId) }, body }, new StampingHandler(done));
    });

  const params: MultiRoundParams = { numUsers: spec.numUsers, numRounds: spec.numRounds, qps: spec.qps, initUserId: 0 };
  const plan = planMultiRound(params);
  const nowS = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
  win.schedule(t0, spec.steadyFromS, spec.timeS);
  // run.ts's pacing: due times on the schedule's grid; a turn due while the user is busy goes out after it.
  const user = async (u: UserPlan): Promise<void> => {
    for (let r = u.firstRound; r < spec.numRounds; r++) {
      const due = dueAt(plan, u, r);
      if (due >= spec.timeS || signal.aborted) return;
      await sleep((due - nowS()) * 1000, signal);
      if (signal.aborted) return;
      if (await send(u.userId, r + 1)) counts.ok++;
      else counts.failed++;
    }
  };
  const users: Promise<void>[] = [];
  try {
    for (let k = plan.firstJoinIndex; k < 0; k++) {
      const u = userAt(plan, params, k);
      if (u) users.push(user(u));
    }
    for (let k = 0; ; k++) {
      const u = userAt(plan, params, k) as UserPlan;
      if (u.joinAt >= spec.timeS || signal.aborted) break;
      await sleep((u.joinAt - nowS()) * 1000, signal);
      if (signal.aborted) break;
      users.push(user(u));
    }
    await Promise.all(users);
    await pool.destroy();
  } finally {
    out?.close();
  }
  return { t0Ns: t0.toString(), requests: counts, bodyBytes };
});
