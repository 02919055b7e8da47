// `--scrape` on the command line: `role=URL` for run, `target:role=URL` for compare (each target has its own
// engines). Validates everything before any traffic and hands out one ServerScraper per run.
import { Scraper, maskCredentials, parseScrapeTargets, type ScrapeTarget } from '../scrape/scraper.js';
import type { ScrapeResult, ServerScraper } from '../scrape/types.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import type { TlsSettings } from '../util/tls.js';

export const DEFAULT_SCRAPE_INTERVAL_S = 5;

export function parseScrapeInterval(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_SCRAPE_INTERVAL_S;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0.05 || n > 3600) {
    throw new ConfigError([{ field: '--scrape-interval', value: raw, allowed: 'allowed: seconds from 0.05 to 3600' }]);
  }
  return n;
}

/** A scraper that is built when the run's measured phase starts (series times are seconds since then). */
export function serverScraper(targets: ScrapeTarget[], intervalS: number, tls?: TlsSettings): ServerScraper {
  let s: Scraper | undefined;
  return {
    start(origin: bigint): void {
      s = new Scraper({ targets, intervalS, tls }, origin);
      s.start();
    },
    stop(): Promise<ScrapeResult> {
      return s ? s.stop() : Promise.resolve({ intervalS, roles: [] });
    },
  };
}

export interface ScrapePlan {
  /** A fresh scraper for each run of the target (undefined when none of its roles is scraped). */
  forTarget(name: string): ServerScraper | undefined;
}

/** `targetNames` undefined: a plain run (role=URL); otherwise compare (target:role=URL). `tls`: --ca-file / --insecure. */
export function scraperFor(raw: readonly string[], intervalRaw: string | undefined, targetNames?: readonly string[], tls?: TlsSettings): ScrapePlan {
  const intervalS = parseScrapeInterval(intervalRaw);
  const byTarget = new Map<string, string[]>();
  const issues: ConfigIssue[] = [];
  for (const text of raw) {
    if (!targetNames) {
      byTarget.set('', [...(byTarget.get('') ?? []), text]);
      continue;
    }
    const colon = text.indexOf(':');
    const eq = text.indexOf('=');
    const name = colon > 0 && (eq < 0 || colon < eq) ? text.slice(0, colon) : '';
    if (!targetNames.includes(name)) {
      issues.push({ field: '--scrape', value: maskCredentials(text), allowed: `allowed: TARGET:ROLE=URL with TARGET one of ${targetNames.join(', ')}, e.g. ${targetNames[0] ?? 'pd'}:prefill=http://10.0.0.5:8000/metrics` });
      continue;
    }
    byTarget.set(name, [...(byTarget.get(name) ?? []), text.slice(colon + 1)]);
  }
  const parsed = new Map<string, ScrapeTarget[]>();
  for (const [name, texts] of byTarget) {
    try {
      parsed.set(name, parseScrapeTargets(texts));
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues);
      else throw err;
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    forTarget(name: string): ServerScraper | undefined {
      const t = parsed.get(targetNames ? name : '');
      return t && t.length > 0 ? serverScraper(t, intervalS, tls) : undefined;
    },
  };
}
