// Owns telling the operator that a feed line cannot connect: a warn log with its backoff state, rate-limited per line.
// Must never touch the session or run per message: it reads SoupClient.retryState on the feed's freshness timer.
import type { Logger } from 'pino'
import type { SoupClient } from './soup-client.js'

/** One warning per line at the first failure, then at most one per this period while it keeps failing. */
export const RETRY_WARN_EVERY_MS = 10_000

export class RetryWarnings {
  private readonly lastWarnMs: number[]
  private readonly warnedAttempts: number[]

  constructor(private readonly feed: string, private readonly lines: readonly SoupClient[], private readonly log: Logger,
    private readonly everyMs = RETRY_WARN_EVERY_MS) {
    this.lastWarnMs = lines.map(() => Number.NEGATIVE_INFINITY)
    this.warnedAttempts = lines.map(() => 0)
  }

  /** Called on the feed's timer: warns for each line that failed since its last warning, at most once per period. */
  check(nowMs: number): void {
    for (let k = 0; k < this.lines.length; k++) {
      const line = this.lines[k]
      if (line.loggedIn) { this.warnedAttempts[k] = 0; continue }
      const st = line.retryState
      if (st.attempts === 0 || st.attempts === this.warnedAttempts[k] || nowMs - this.lastWarnMs[k] < this.everyMs) continue
      this.lastWarnMs[k] = nowMs
      this.warnedAttempts[k] = st.attempts
      this.log.warn({ feed: this.feed, line: this.lines.length > 1 ? String.fromCharCode(65 + k) : undefined, address: `${st.host}:${st.port}`,
        attempts: st.attempts, error: st.lastFailure, retryInMs: st.backoffMs },
      'feed cannot connect: retrying with backoff (/readyz answers 503 until it logs in)')
    }
  }
}
