// The server-metrics part of a RunResult: Prometheus text endpoints scraped during the run, per role
// (prefill, decode, router, ...). Types only; scrape/scraper.ts fills them.

/** One scraped endpoint over one run. Metric keys are Prometheus series names summed over their label sets. */
export interface ScrapeRoleResult {
  role: string;
  /** The URL with any credentials removed. */
  url: string;
  /** Successful scrapes and failed ones (each failure's cause is kept in `errors`). */
  scrapes: number;
  failures: number;
  /** Up to 20 distinct failure messages with their counts. */
  errors: { message: string; count: number }[];
  /** Seconds since the run's measured start of each successful scrape. */
  timesS: number[];
  /** Time series of the key metrics (same length as timesS; null where a scrape lacked the metric). */
  series: Record<string, (number | null)[]>;
  /** Every counter and gauge at the first and the last successful scrape, and last - first for counters. */
  before: Record<string, number>;
  after: Record<string, number>;
  deltas: Record<string, number>;
  /** Derived figures from the deltas where the metrics exist (prefix cache hit rate, mean queue length, ...). */
  derived: Record<string, number | null>;
}

export interface ScrapeResult {
  intervalS: number;
  roles: ScrapeRoleResult[];
}
