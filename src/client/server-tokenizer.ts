// The target's own tokenizer over HTTP, for prompts of exact token lengths (`--tokenizer server`). vLLM and
// llama.cpp's llama-server both serve /tokenize and /detokenize at the server root (beside /v1) with
// different shapes; the dialect is detected once. Chat prompts are counted as the server will serve them:
// vLLM tokenizes `messages` through its chat template, llama-server renders them with /apply-template first.
import { Agent, request } from '../util/undici.js';
import { tlsHint, type TlsSettings } from '../util/tls.js';
import { TargetError } from '../errors.js';
import { causeText, throwIfInterrupted } from './preflight.js';
import { deadline } from '../util/deadline.js';
import { excerpt } from './openai-stream.js';
// The interface lives with its user (prompt fitting in workload/); this module implements it over HTTP.
import type { ChatLikeMessage, PromptTokenizer } from '../workload/exact-prompts.js';

export type { ChatLikeMessage, PromptTokenizer } from '../workload/exact-prompts.js';

export type TokenizerDialect = 'vllm' | 'llamacpp';

export interface ServerTokenizerOptions {
  baseUrl: string;
  model: string;
  apiKey: string | undefined;
  timeoutMs?: number;
  /** The user's interrupt: stops the fitting at once (InterruptedError, exit 130). */
  signal?: AbortSignal | undefined;
  /** --ca-file / --insecure (default: undici's global agent, Node's trust store). */
  tls?: TlsSettings | undefined;
}

const isNumberArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');

export class ServerTokenizer implements PromptTokenizer {
  readonly root: string;
  readonly dialect: TokenizerDialect;
  #o: ServerTokenizerOptions;
  #dispatcher: Agent | undefined;

  private constructor(o: ServerTokenizerOptions, root: string, dialect: TokenizerDialect, dispatcher: Agent | undefined) {
    this.#o = o;
    this.root = root;
    this.dialect = dialect;
    this.#dispatcher = dispatcher;
  }

  /** Closes the connections of its own TLS agent, if it has one (the global agent is not ours to close). */
  async close(): Promise<void> {
    await this.#dispatcher?.close();
  }

  /** The server root: the base URL without its trailing /v1. */
  static rootOf(baseUrl: string): string {
    return baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  }

  /** Finds out which dialect the target speaks, or fails with the URL and what it answered. */
  static async connect(o: ServerTokenizerOptions): Promise<ServerTokenizer> {
    const root = ServerTokenizer.rootOf(o.baseUrl);
    const probe = new ServerTokenizer(o, root, 'vllm', o.tls ? new Agent({ connect: { ...o.tls } }) : undefined);
    try {
      // One body both understand: vLLM reads `prompt` (and answers with `count`), llama-server reads `content`.
      const doc = await probe.#post('/tokenize', { model: o.model, prompt: 'hello', content: 'hello', add_special_tokens: false, add_special: false });
      if (typeof doc.count === 'number') return probe;
      if (isNumberArray(doc.tokens)) return new ServerTokenizer(o, root, 'llamacpp', probe.#dispatcher);
      throw new TargetError('PDB_TARGET_REJECTED', `${root}/tokenize`, `--tokenizer server: ${root}/tokenize answered an unknown shape: ${excerpt(JSON.stringify(doc))}`);
    } catch (err) {
      await probe.close();
      throw err;
    }
  }

  async #post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const url = `${this.root}${path}`;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.#o.apiKey) headers.authorization = `Bearer ${this.#o.apiKey}`;
    let status: number;
    let text: string;
    const timeoutMs = this.#o.timeoutMs ?? 60_000;
    const limit = deadline(timeoutMs, this.#o.signal);
    try {
      const res = await request(url, { method: 'POST', headers, body: JSON.stringify(body), signal: limit.signal, ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}) });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throwIfInterrupted(this.#o.signal, 'prompt fitting (--tokenizer server)');
      throw new TargetError('PDB_TARGET_UNREACHABLE', url, `--tokenizer server: POST ${url}: ${causeText(err, timeoutMs)}${tlsHint(err)}`, { cause: err });
    } finally {
      limit.clear();
    }
    if (status !== 200) {
      throw new TargetError('PDB_TARGET_REJECTED', url, `--tokenizer server: POST ${url} answered HTTP ${status}: ${excerpt(text)} (the target needs /tokenize and /detokenize, as vLLM and llama-server have; or use --tokenizer estimate)`, {
        status,
        bodyExcerpt: excerpt(text),
      });
    }
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new TargetError('PDB_TARGET_REJECTED', url, `--tokenizer server: POST ${url} did not return JSON: ${excerpt(text)}`, { status });
    }
  }

  #ids(doc: Record<string, unknown>, path: string): number[] {
    // llama-server answers [{id, piece}] when pieces are asked for; plain ids otherwise.
    const t = doc.tokens;
    if (isNumberArray(t)) return t;
    if (Array.isArray(t) && t.every((x) => typeof x === 'object' && x !== null && typeof (x as { id?: unknown }).id === 'number')) return t.map((x) => (x as { id: number }).id);
    throw new TargetError('PDB_TARGET_REJECTED', `${this.root}${path}`, `--tokenizer server: ${this.root}${path} answered without a token list: ${excerpt(JSON.stringify(doc))}`);
  }

  async tokenize(text: string): Promise<number[]> {
    const body = this.dialect === 'vllm' ? { model: this.#o.model, prompt: text, add_special_tokens: false } : { content: text, add_special: false };
    return this.#ids(await this.#post('/tokenize', body), '/tokenize');
  }

  async detokenize(ids: readonly number[]): Promise<string> {
    const doc = await this.#post('/detokenize', this.dialect === 'vllm' ? { model: this.#o.model, tokens: ids } : { tokens: ids });
    const s = this.dialect === 'vllm' ? doc.prompt : doc.content;
    if (typeof s !== 'string') throw new TargetError('PDB_TARGET_REJECTED', `${this.root}/detokenize`, `--tokenizer server: ${this.root}/detokenize answered without text: ${excerpt(JSON.stringify(doc))}`);
    return s;
  }

  async countChat(messages: readonly ChatLikeMessage[]): Promise<number> {
    if (this.dialect === 'vllm') {
      const doc = await this.#post('/tokenize', { model: this.#o.model, messages, add_generation_prompt: true });
      if (typeof doc.count === 'number') return doc.count;
      return this.#ids(doc, '/tokenize').length;
    }
    const tpl = await this.#post('/apply-template', { messages });
    if (typeof tpl.prompt !== 'string') throw new TargetError('PDB_TARGET_REJECTED', `${this.root}/apply-template`, `--tokenizer server: ${this.root}/apply-template answered without a prompt`);
    return this.#ids(await this.#post('/tokenize', { content: tpl.prompt, add_special: true, parse_special: true }), '/tokenize').length;
  }

  async countCompletion(prompt: string): Promise<number> {
    const body = this.dialect === 'vllm' ? { model: this.#o.model, prompt, add_special_tokens: true } : { content: prompt, add_special: true };
    const doc = await this.#post('/tokenize', body);
    if (typeof doc.count === 'number') return doc.count;
    return this.#ids(doc, '/tokenize').length;
  }
}
