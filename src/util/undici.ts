// The parts of undici pd-bench uses — Pool, Agent and the request API — loaded without the rest of the package.
// undici's index also loads fetch, cookies, WebSocket, EventSource, the cache stores and the mock agents, about
// 0.1 CPU-s that every run, worker thread and shard pod paid before its first request (bench/STARTUP.md). undici 7
// has no `exports` map, so its files can be required one by one; if a later undici moves them, the whole package is
// loaded instead (same classes, only slower), and test/unit/undici-parts.test.ts fails so that the move is noticed.
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

type Parts = Pick<typeof Undici, 'Pool' | 'Agent' | 'getGlobalDispatcher'>;

const requireCjs = createRequire(import.meta.url);

function loadParts(): { parts: Parts; from: 'parts' | 'package' } {
  try {
    const Dispatcher = requireCjs('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
    const api = requireCjs('undici/lib/api/index.js') as Record<string, unknown>;
    if (typeof api.request !== 'function') throw new Error('undici/lib/api has no request');
    // What undici's index does: the request API lives on Dispatcher.prototype. Assigning it twice (if the index
    // is loaded too, as the tests do) installs the same functions again.
    Object.assign(Dispatcher.prototype, api);
    const Pool = requireCjs('undici/lib/dispatcher/pool.js') as Parts['Pool'];
    const Agent = requireCjs('undici/lib/dispatcher/agent.js') as Parts['Agent'];
    const { getGlobalDispatcher } = requireCjs('undici/lib/global.js') as Pick<Parts, 'getGlobalDispatcher'>;
    if (typeof Pool !== 'function' || typeof Agent !== 'function' || typeof getGlobalDispatcher !== 'function') {
      throw new Error('undici/lib moved');
    }
    return { parts: { Pool, Agent, getGlobalDispatcher }, from: 'parts' };
  } catch {
    // Not swallowed: the fallback loads the documented entry point, which has everything the parts had.
    return { parts: requireCjs('undici') as typeof Undici, from: 'package' };
  }
}

const loaded = loadParts();

/** Which way undici was loaded: 'parts' unless its files moved (then a test fails). */
export const undiciLoadedFrom = loaded.from;

export const Pool = loaded.parts.Pool;
export type Pool = Undici.Pool;
export const Agent = loaded.parts.Agent;
export type Agent = Undici.Agent;
export type { Dispatcher } from 'undici';

type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher?: Undici.Dispatcher };

/**
 * undici's `request(url, options)`: one request on `options.dispatcher`, or on undici's global agent. The method
 * must be given (undici's own default of PUT-when-there-is-a-body is not kept).
 */
export function request(url: string | URL, options: RequestOptions): Promise<Undici.Dispatcher.ResponseData> {
  const u = typeof url === 'string' ? new URL(url) : url;
  const { dispatcher = loaded.parts.getGlobalDispatcher(), ...rest } = options;
  return dispatcher.request({ ...rest, origin: u.origin, path: `${u.pathname}${u.search}` });
}
