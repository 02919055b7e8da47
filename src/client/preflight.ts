// Preflight: before any measured traffic, prove the target is an OpenAI-compatible server that accepts our
// requests (GET /models, then one short streamed request), failing fast with the URL and the cause.
import { Agent, request } from '../util/undici.js';
import { tlsHint, type TlsSettings } from '../util/tls.js';
import type { Endpoint } from '../config/options.js';
import { InterruptedError, TargetError } from '../errors.js';
import { requestBody } from './openai-request.js';
import { deadline } from '../util/deadline.js';
import { TargetClient } from './target-client.js';
import { excerpt } from './openai-stream.js';

export interface PreflightResult {
  models: string[];
  model: string;
  /** Warnings worth showing (for example a model name the server does not list). */
  warnings: string[];
}

export interface PreflightOptions {
  baseUrl: string;
  model: string | undefined;
  apiKey: string | undefined;
  endpoint: Endpoint;
  userIdHeader: string;
  timeoutMs?: number;
  /** The user's interrupt: stops the preflight at once (InterruptedError, exit 130). */
  signal?: AbortSignal | undefined;
  /** --ca-file / --insecure (default: undici's global agent, Node's trust store). */
  tls?: TlsSettings | undefined;
}

/** One line on why a request failed: error codes as words, a timeout as what it means. */
export function causeText(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: unknown; message?: string; cause?: { code?: unknown; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const word = (c: unknown): string | undefined => (typeof c === 'string' ? c : undefined);
  return [...new Set([word(e?.code), e?.message, word(e?.cause?.code), e?.cause?.message].filter((x) => x))].join(': ');
}

/** Raises InterruptedError if the user interrupted. */
export function throwIfInterrupted(signal: AbortSignal | undefined, during: string): void {
  if (signal?.aborted) throw new InterruptedError(`interrupted during ${during}; nothing was measured`);
}

export async function preflight(o: PreflightOptions): Promise<PreflightResult> {
  // Its own agent only when TLS settings differ from the global agent's; closed however the preflight ends.
  const dispatcher = o.tls ? new Agent({ connect: { ...o.tls } }) : undefined;
  try {
    return await check(o, dispatcher);
  } finally {
    await dispatcher?.close();
  }
}

async function check(o: PreflightOptions, dispatcher: Agent | undefined): Promise<PreflightResult> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const modelsUrl = `${o.baseUrl}/models`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.apiKey) headers.authorization = `Bearer ${o.apiKey}`;
  let status: number;
  let text: string;
  const limit = deadline(timeoutMs, o.signal);
  try {
    const res = await request(modelsUrl, { method: 'GET', headers, signal: limit.signal, ...(dispatcher ? { dispatcher } : {}) });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    throwIfInterrupted(o.signal, 'the preflight');
    if ((err as { name?: string }).name === 'TimeoutError') {
      throw new TargetError('PDB_TARGET_UNREACHABLE', modelsUrl, `GET ${modelsUrl}: ${causeText(err, timeoutMs)} (the server accepted the connection but did not answer)`, { cause: err });
    }
    const hint = tlsHint(err) || ' (is the server or port-forward running?)';
    throw new TargetError('PDB_TARGET_UNREACHABLE', modelsUrl, `cannot reach ${modelsUrl}: ${causeText(err, timeoutMs)}${hint}`, { cause: err });
  } finally {
    limit.clear();
  }
  if (status !== 200) {
    throw new TargetError('PDB_TARGET_REJECTED', modelsUrl, `GET ${modelsUrl} answered HTTP ${status}: ${excerpt(text)}${status === 401 || status === 403 ? ' (check --api-key / OPENAI_API_KEY)' : status === 404 ? ' (is --base-url the /v1 root, e.g. http://localhost:30080/v1?)' : ''}`, {
      status,
      bodyExcerpt: excerpt(text),
    });
  }
  let models: string[] = [];
  try {
    const doc = JSON.parse(text) as { data?: Array<{ id?: unknown }> };
    models = (doc.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
  } catch {
    throw new TargetError('PDB_TARGET_REJECTED', modelsUrl, `GET ${modelsUrl} did not return JSON (is --base-url the /v1 root?): ${excerpt(text)}`, { status });
  }
  const warnings: string[] = [];
  let model = o.model;
  if (!model) {
    if (models.length === 0) {
      throw new TargetError('PDB_TARGET_REJECTED', modelsUrl, `GET ${modelsUrl} lists no models; pass --model`, { status });
    }
    model = models[0] as string;
  } else if (models.length > 0 && !models.includes(model)) {
    warnings.push(`model "${model}" is not among those the server lists (${models.slice(0, 5).join(', ')}); routers may still accept it`);
  }

  // One short streamed request through the same client code as the run.
  const client = new TargetClient({
    baseUrl: o.baseUrl,
    apiKey: o.apiKey,
    endpoint: o.endpoint,
    connections: 1,
    requestTimeoutMs: timeoutMs,
    timeoutName: 'the preflight timeout of',
    userIdHeader: o.userIdHeader,
    t0: process.hrtime.bigint(),
    tls: o.tls,
  });
  try {
    const rec = await client.send({
      id: -1,
      phase: 'warmup',
      userId: 0,
      round: 1,
      intendedMs: 0,
      late: false,
      body: requestBody([{ role: 'user', content: 'Say hello.' }], { endpoint: o.endpoint, model, maxTokens: 2, continuousUsage: false, ignoreEos: false }),
      promptTokensEstimate: 3,
    }, o.signal);
    throwIfInterrupted(o.signal, 'the preflight');
    if (rec.outcome !== 'ok') {
      const url = `${o.baseUrl}/${o.endpoint === 'chat' ? 'chat/completions' : 'completions'}`;
      throw new TargetError(
        rec.errorClass === 'connect_error' ? 'PDB_TARGET_UNREACHABLE' : 'PDB_TARGET_REJECTED',
        url,
        `preflight request to ${url} failed (${rec.errorClass}): ${rec.errorMessage ?? 'unknown'}`,
        { status: rec.httpStatus },
      );
    }
  } finally {
    await client.close();
  }
  return { models, model, warnings };
}
