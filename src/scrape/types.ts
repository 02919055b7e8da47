// The scraper's interface; the server-metrics part of a RunResult it fills lives in result/server-metrics.ts.

import type { ScrapeResult } from '../result/server-metrics.js';

export type { ScrapeResult, ScrapeRoleResult } from '../result/server-metrics.js';

/** A running scrape of server metrics over one run: started at the measured phase, stopped after the drain. */
export interface ServerScraper {
  /** `originMs`: hrtime-based ms of the measured start (series times are seconds since it). */
  start(origin: bigint): void;
  stop(): Promise<ScrapeResult>;
}
