// Owns the messages between the main thread and the ingest thread, and what the ingest thread starts from.
// Must never carry per-tick data: events travel through the shared ring; these are control and counters only.
import type { LatestValuesHandle } from '../cache/latest-values.js'
import type { FeedConfig } from '../config.js'
import type { FeedStats } from '../feed/feed-stats.js'
import type { FeedTiming } from '../feed/feed.js'
import type { SharedSymbolsHandle } from '../model/shared-symbols.js'
import type { FeedClaim } from '../normalize/symbol-ownership.js'
import type { SymbolSequencesHandle } from '../normalize/symbol-sequences.js'
import type { RingHandle } from '../ring/ring-buffer.js'

export interface IngestWorkerData {
  ring: RingHandle
  symbols: SharedSymbolsHandle
  seqs: SymbolSequencesHandle
  latest: LatestValuesHandle
  feeds: readonly FeedConfig[]
  claims: readonly FeedClaim[]
  timing: FeedTiming
  logLevel: string
  /** the main thread's performance.timeOrigin: the ingest thread's clock is shifted onto it (ring recvTimeMs, freshness) */
  timeOrigin: number
  /** how often feed counters are sent to the main thread (its /metrics and /readyz read them) */
  statsIntervalMs: number
}

export type ToIngest =
  | { t: 'stop' }
  /** stop one feed (index in IngestWorkerData.feeds); answered with feedStopped */
  | { t: 'stopFeed'; index: number }

export type FromIngest =
  | { t: 'started' }
  | { t: 'failed'; message: string; code: string }
  /** every feed's counters, in IngestWorkerData.feeds order (structured clones of FeedStats) */
  | { t: 'stats'; feeds: FeedStats[] }
  | { t: 'feedStopped'; index: number }
  | { t: 'stopped' }
