// Owns the dispatcher's contracts: what it hands frames to (WebSocket side), what sees every event (MQTT side), what a
// lapped reader conflates from, and the counters it keeps. Must never hold behaviour: dispatcher.ts does the work.
import type { LatestValues } from '../cache/latest-values.js'
import type { WireFormat } from '../codec/tick-codec.js'
import { LATENCY_BUCKETS_SEC, PlainHistogram } from '../metrics/histogram.js'
import type { TickRing } from '../ring/ring-buffer.js'

/** WebSocket side: per-symbol topics per format. */
export interface FrameSink {
  wants(id: number, format: WireFormat): boolean
  /** `trades` = trade events in the frame, so a connection that misses it (slow consumer) can be told the count */
  publish(id: number, format: WireFormat, frame: Uint8Array, trades: number): void
  /** connections holding the symbol outside the topic publish (conflating, throttled); optional for bench sinks */
  detachedWants?(id: number): boolean
  markDetached?(id: number, trades: number): void
  /** This consumer's SymbolTable has just learned `id` (its KIND_SYMBOL passed): patterns may now cover it. */
  symbolAdded(id: number): void
  /** A conflation skipped `count` trades of `id`: its topic in `format` is told (`trades_skipped`) before the snap. */
  tradesSkipped?(id: number, format: WireFormat, count: number): void
  /** The batch's frames are all handed out: a sink that merges them per connection writes them now. */
  endBatch?(): void
}

/** MQTT side: sees every data event after the cache has applied it, then one flush per batch (conflation point). */
export interface EventSink {
  offer(r: TickRing, i: number): void
  /**
   * the symbol's completeness as clients see it (LastValueCache.staleReason) changed in this batch; `quote`: a
   * conflation replaced its events with its latest value (in the cache), which the next flush publishes
   */
  stateChanged(id: number, quote?: boolean): void
  flush(): void
}

/**
 * Lapped readers recover by conflation (issue 12): from the writer's shared latest values they resume at the ring head
 * with a snapshot of every symbol that changed.
 */
export interface Conflation {
  latest: LatestValues
}

export class DispatchStats {
  batches = 0
  events = 0
  /** events overwritten before this consumer read them */
  lapped = 0
  laps = 0
  /** symbols this consumer marked stale (lapped) because it lost some of their events */
  lappedSymbols = 0
  /** symbols a lapped reader resumed from their latest value (a snap on their topics) */
  conflations = 0
  /** trades those conflations skipped (each topic was told with trades_skipped) */
  conflatedTrades = 0
  frames = 0
  frameBytes = 0
  /** receive → published (WebSocket frames handed to uWS), seconds; one observation per batch (its oldest event) */
  readonly ageAtPublishSec = new PlainHistogram(LATENCY_BUCKETS_SEC)
}
