// Owns the bus metric families: an ingest node's publishing to JetStream (--bus), an edge's consuming from it (--source).
// Must never query the bus at scrape time: it reads the plain counters BusPublisher and BusSource keep.
import type { BusPublishStats } from '../bus/bus-publisher.js'
import type { BusConsumeStats } from '../bus/bus-source.js'
import type { MetricsRegistry } from './registry.js'

/** Registered only for the side configured, so each family exists from start exactly on the nodes that have it. */
export function registerBusMetrics(m: MetricsRegistry, publish: BusPublishStats | null, consume: BusConsumeStats | null): void {
  if (publish !== null) {
    const p = publish
    m.gauge('tickcast_bus_publish_connected', 'Whether this ingest node\'s bus connection is up (1) or not (0).', () => (p.connected ? 1 : 0))
    m.counter('tickcast_bus_publishes_total', 'Events published to the bus stream, re-sends after a failure included.', () => p.published)
    m.counter('tickcast_bus_publish_acks_total', 'Publishes the stream acknowledged (stored, or recognised as a duplicate).', () => p.acked)
    m.counter('tickcast_bus_publish_duplicates_total', 'Acknowledgements that said duplicate: de-duplication by message id kept the copy the other ingest node (or an earlier attempt) stored.', () => p.duplicates)
    m.counter('tickcast_bus_publish_failures_total', 'Publishes that failed (bus down, no ack in time); publishing rewinds to the first of them.', () => p.failures)
    m.counter('tickcast_bus_publish_resent_events_total', 'Events published again after a failure (the stream drops those it already had by message id).', () => p.resent)
    m.counter('tickcast_bus_publish_lapped_events_total', 'Events the ring writer overwrote before the publisher read them: never on the bus.', () => p.lapped)
    m.gauge('tickcast_bus_publish_inflight_messages', 'Publishes awaiting the stream\'s acknowledgement.', () => p.inFlight)
  }
  if (consume !== null) {
    const c = consume
    m.gauge('tickcast_bus_consume_connected', 'Whether this edge\'s bus connection is up (1) or not (0).', () => (c.connected ? 1 : 0))
    m.counter('tickcast_bus_consume_messages_total', 'Bus messages this edge received from the stream, in stream order (the start-up seed included).', () => c.consumed)
    m.counter('tickcast_bus_consume_seeded_messages_total', 'Bus messages the start-up seed applied (the last one per subject, not the history); included in consume_messages.', () => c.seeded)
    m.gauge('tickcast_bus_consume_seed_seconds', 'How long the start-up seed took (subscribe to the stream\'s end as it was at start).', () => c.seedMs / 1000)
    m.counter('tickcast_bus_consume_skipped_messages_total', 'Stream messages never delivered to this edge: the history the start-up seed passed over, or messages that expired first (consumed + skipped = stream sequence).', () => c.skipped)
    m.counter('tickcast_bus_consume_marker_repeats_total', 'Stale/fresh records dropped because they changed nothing (each hot-hot ingest node publishes the markers it makes).', () => c.markerRepeats)
    m.counter('tickcast_bus_consume_gaps_total', 'Symbols whose stream jumped past the next n after the seed (history expired while this edge was away): each told to clients as stale (feed_gap), then fresh.', () => c.gaps)
    m.counter('tickcast_bus_consume_foreign_epoch_total', 'Records refused because their message id names another stream epoch than this edge\'s (BUS_EPOCH_MISMATCH: a later feed session on the same stream); /readyz fails once one is seen.', () => c.foreignEpoch)
    m.counter('tickcast_bus_consume_duplicates_total', 'Bus records dropped because their n was already applied (re-sent or redelivered).', () => c.duplicates)
    m.gauge('tickcast_bus_consume_stream_sequence', 'Stream sequence of the last bus message this edge applied.', () => c.streamSeq)
    // the stream's end is sampled every 500 ms: lag reads 0 when caught up, never below
    m.gauge('tickcast_bus_consume_lag_messages', 'Stream messages this edge is behind the stream\'s last sequence (/readyz fails above 50,000).',
      () => Math.max(0, c.streamLastSeq - c.streamSeq))
  }
}
