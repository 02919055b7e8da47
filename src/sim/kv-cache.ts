// KV memory of one simulated replica, in 16-token blocks: a prefix cache of hashed prompt blocks (shared
// by every request whose prompt starts with them, evicted LRU when nobody uses them) plus private blocks
// (the partial last prompt block and the generated tokens). A request reserves everything it can need at
// admission, so a full cache makes new requests wait instead of failing or preempting.
import { BLOCK_TOKENS } from './sim-tokenizer.js';

interface Entry {
  refs: number;
}

export interface Reservation {
  /** Prompt tokens found in the cache (whole blocks; the last prompt token is always recomputed). */
  cachedTokens: number;
  hashed: number[];
  privateBlocks: number;
}

export class KvCache {
  readonly capacityBlocks: number;
  /** In least-recently-used-first order: a touch deletes and re-inserts the entry. */
  #entries = new Map<number, Entry>();
  #private = 0;
  #pinned = 0;
  hitTokens = 0;
  queriedTokens = 0;

  constructor(capacityTokens: number) {
    this.capacityBlocks = Math.floor(capacityTokens / BLOCK_TOKENS);
  }

  get usedBlocks(): number {
    return this.#entries.size + this.#private;
  }

  /** Share of blocks held by running requests (what vLLM's kv_cache_usage_perc reports). */
  get usage(): number {
    return (this.#pinned + this.#private) / this.capacityBlocks;
  }

  /** Leading prompt blocks already cached (without taking them). */
  cachedPrefixBlocks(blocks: readonly number[]): number {
    let n = 0;
    while (n < blocks.length && this.#entries.has(blocks[n] as number)) n++;
    return n;
  }

  /**
   * Reserves KV for a request of `promptTokens` (with `blocks` hashes) that may generate `maxTokens`, or
   * returns undefined when it does not fit even after evicting every unused cached block.
   */
  reserve(blocks: readonly number[], promptTokens: number, maxTokens: number, countQuery = true): Reservation | undefined {
    const hit = this.cachedPrefixBlocks(blocks);
    const newHashed = blocks.length - hit;
    const privateBlocks = Math.ceil((promptTokens + maxTokens) / BLOCK_TOKENS) - blocks.length;
    const need = newHashed + Math.max(privateBlocks, 0);
    if (need > this.capacityBlocks) return undefined;
    if (!this.#makeRoom(need, blocks, hit)) return undefined;
    for (const b of blocks) {
      const e = this.#entries.get(b);
      if (e) {
        if (e.refs++ === 0) this.#pinned++;
        this.#entries.delete(b);
        this.#entries.set(b, e);
      } else {
        this.#entries.set(b, { refs: 1 });
        this.#pinned++;
      }
    }
    this.#private += Math.max(privateBlocks, 0);
    // vLLM always computes at least the last prompt token, so a full hit still costs one token.
    const cachedTokens = Math.min(hit * BLOCK_TOKENS, promptTokens - 1);
    if (countQuery) {
      this.queriedTokens += promptTokens;
      this.hitTokens += Math.max(cachedTokens, 0);
    }
    return { cachedTokens: Math.max(cachedTokens, 0), hashed: [...blocks], privateBlocks: Math.max(privateBlocks, 0) };
  }

  release(r: Reservation): void {
    for (const b of r.hashed) {
      const e = this.#entries.get(b);
      if (e && --e.refs === 0) this.#pinned--;
    }
    this.#private -= r.privateBlocks;
  }

  /** Evicts least recently used unreferenced blocks (never the first `hit` of `blocks`) until `need` more fit. */
  #makeRoom(need: number, blocks: readonly number[], hit: number): boolean {
    let free = this.capacityBlocks - this.usedBlocks;
    if (free >= need) return true;
    // Only blocks nobody references can go; pinned ones and the prefix this request is about to reuse stay
    // (that prefix's pinned blocks are already in #pinned, so only its unreferenced ones are subtracted).
    let unpinnedHit = 0;
    for (let i = 0; i < hit; i++) if ((this.#entries.get(blocks[i] as number)?.refs ?? 0) === 0) unpinnedHit++;
    if (this.capacityBlocks - this.#pinned - this.#private - unpinnedHit < need) return false;
    const keep = hit > 0 ? new Set(blocks.slice(0, hit)) : undefined;
    for (const [h, e] of this.#entries) {
      if (free >= need) break;
      if (e.refs === 0 && !keep?.has(h)) {
        this.#entries.delete(h);
        free++;
      }
    }
    return free >= need;
  }
}
