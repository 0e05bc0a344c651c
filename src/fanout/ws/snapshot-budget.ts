// Owns one connection's snapshot budget: how many symbols' snapshots it may pull per second, as a token bucket.
// Must never cut a snapshot short (a subscribe is refused whole, before it changes anything) nor cost per data frame.
//
// Why: a snapshot is the one thing a client can make the server send at will. 50 clients toggling subscribe and
// unsubscribe of `*` pulled 3.3 GB in 30 s (~1,750× their request bytes). The bucket holds the whole universe (one
// `*` always fits) and refills at SNAPSHOT_SYMBOLS_PER_SEC, so churn averages that rate and no more.

/** Refill rate: ~100-200 KB/s of JSON snapshots per connection (200-400 bytes a symbol) (README, Security). */
export const SNAPSHOT_SYMBOLS_PER_SEC = 500
/** The bucket's size is the symbol universe, but never less than this (a client resyncing a handful stays free). */
export const SNAPSHOT_MIN_BURST = 2_000

export class SnapshotBudget {
  private tokens = Infinity
  private atMs = 0

  /** 0: a subscribe may snapshot now; else ms until it may (the debt of earlier snapshots refills first). */
  waitMs(universe: number, nowMs: number): number {
    const cap = Math.max(SNAPSHOT_MIN_BURST, universe)
    this.tokens = Math.min(cap, this.tokens + (nowMs - this.atMs) * SNAPSHOT_SYMBOLS_PER_SEC / 1000)
    this.atMs = nowMs
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens * 1000 / SNAPSHOT_SYMBOLS_PER_SEC)
  }

  /** `symbols` snapshots were sent (or queued): the bucket may go into debt, which the next waitMs() reports. */
  spend(symbols: number): void { this.tokens -= symbols }
}
