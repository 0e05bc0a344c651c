// Owns the brief cache of the Prometheus scrape body: many scrapes within maxAgeMs cost one exposition.
// Must never serve a body older than maxAgeMs, nor run two expositions at once (concurrent callers share one).
export interface Scrape { contentType: string; body: string | Uint8Array }

/** Default: Prometheus scrapes every 15 s; 1 s keeps the figures fresh and a flood of /metrics cheap. */
export const SCRAPE_CACHE_MS = 1000

export function cachedScrape(scrape: () => Promise<Scrape>, maxAgeMs = SCRAPE_CACHE_MS): () => Promise<Scrape> {
  let last: Promise<Scrape> | null = null, at = -Infinity
  return () => {
    const now = performance.now()
    if (last === null || now - at > maxAgeMs) {
      at = now
      last = scrape()
      last.catch(() => { last = null }) // a failed exposition is not cached
    }
    return last
  }
}
