// Owns the main thread's view of a feed that runs on the ingest thread: its config, its last counters, stopping it.
// Must never hold session state: the counters are copies, refreshed every few tens of milliseconds.
import type { FeedConfig } from '../config.js'
import { FeedStats, LineStats } from '../feed/feed-stats.js'
import type { PayloadDecoder } from '../normalize/tick-sink.js'

/** What server.ts, /readyz and /metrics need of a feed, wherever it runs (feed/feed.ts's Feed has it too). */
export interface FeedHandle {
  readonly config: FeedConfig
  readonly stats: FeedStats
  /** the payload decoder, when the feed runs on this thread (tests look into ITCH books); absent on the ingest thread */
  readonly decoder?: PayloadDecoder
  /** logged in and heard from within `staleAfterMs` */
  isFresh(nowMs: number, staleAfterMs: number): boolean
  stop(): Promise<void>
}

export class RemoteFeed implements FeedHandle {
  readonly stats: FeedStats

  constructor(readonly config: FeedConfig, private readonly stopper: () => Promise<void>) {
    this.stats = new FeedStats(config.name)
  }

  /** The ingest thread's clock is shifted onto this thread's (ingest-worker.ts): lastReceiveMs compares directly. */
  isFresh(nowMs: number, staleAfterMs: number): boolean {
    return this.stats.loggedIn === 1 && nowMs - this.stats.lastReceiveMs <= staleAfterMs
  }

  stop(): Promise<void> { return this.stopper() }

  /** Takes the counters the ingest thread sent (a structured clone of its FeedStats). */
  update(from: FeedStats): void {
    copyCounters(from, this.stats)
    for (let k = 0; k < from.lines.length; k++) {
      const line = from.lines[k] as LineStats
      if (this.stats.lines.length <= k) this.stats.lines.push(new LineStats(this.stats.name, line.line))
      copyCounters(line, this.stats.lines[k])
    }
  }

  /** The ingest thread is gone: the feed is neither connected nor logged in (readiness fails). */
  lost(): void { this.stats.connected = 0; this.stats.loggedIn = 0 }
}

function copyCounters(from: object, to: object): void {
  const dst = to as Record<string, unknown>
  for (const [k, v] of Object.entries(from)) {
    if (typeof v === 'number') dst[k] = v
    else if (v instanceof Float64Array && dst[k] instanceof Float64Array) (dst[k] as Float64Array).set(v)
  }
}
