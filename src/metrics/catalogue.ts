// Owns the names, help and labels of every tickcast metric, wired to the plain counters of each stage.
// Must never add per-symbol or per-client labels: series count stays independent of symbols and connections.
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import type { EventLoopUtilization } from 'node:perf_hooks'
import { AUTH_FAILURE_REASONS } from '../auth/principal.js'
import { DECODE_BAD_LENGTH, DECODE_BAD_VALUE, DECODE_UNKNOWN_SYMBOL, DECODE_UNKNOWN_TYPE } from '../errors.js'
import type { DispatchStats } from '../fanout/dispatcher.js'
import type { MqttStats } from '../fanout/mqtt-stats.js'
import type { WsStats } from '../fanout/ws-stats.js'
import { CLOSE_REASONS, CONTROL_ERROR_CODES, UPGRADE_REJECT_REASONS } from '../fanout/ws-stats.js'
import { REFUSAL_REASONS, UNATTRIBUTABLE_REASONS, UNKNOWN_ORDER_TYPES } from '../feed/feed-stats.js'
import type { FeedStats, LineStats } from '../feed/feed-stats.js'
import type { SymbolTable } from '../model/symbols.js'
import type { TickRing } from '../ring/ring-buffer.js'
import { HTTP_ROUTES, HTTP_STATUS_CLASSES } from './http-stats.js'
import type { HttpStats } from './http-stats.js'
import type { MetricsRegistry, Sample } from './registry.js'
import { buildCommit } from './build-commit.js'
import { registerBusMetrics } from './bus-metrics.js'
import type { BusPublishStats } from '../bus/bus-publisher.js'
import type { BusConsumeStats } from '../bus/bus-source.js'

export interface MetricSources {
  feeds: readonly FeedStats[]
  ring: TickRing
  symbols: SymbolTable
  dispatch: DispatchStats
  ws: WsStats
  mqtt: MqttStats | null
  /** HTTP request counters, once src/http/routes.ts counts them */
  http?: HttpStats
  /** --bus: the ingest node's publisher to JetStream */
  bus?: BusPublishStats | null
  /** --source: the edge's consumer of the bus stream */
  busSource?: BusConsumeStats | null
}

/** The ring consumer's position; DispatchStats may expose it directly, else it is derived (see ringConsumerSeq). */
interface DispatchPosition { readSeq?: number }

const DECODE_CODES: ReadonlyArray<[number, string]> = [
  [DECODE_BAD_LENGTH, 'bad_length'], [DECODE_UNKNOWN_TYPE, 'unknown_type'], [DECODE_BAD_VALUE, 'bad_value'], [DECODE_UNKNOWN_SYMBOL, 'unknown_symbol'],
]

/** The one ring consumer today: the dispatcher (WebSocket and MQTT share its cursor). */
const FANOUT_CONSUMER = { consumer: 'fanout' }

function perFeed(feeds: readonly FeedStats[], read: (f: FeedStats) => number): () => Sample[] {
  return () => feeds.map((f) => ({ labels: { feed: f.name }, value: read(f) }))
}

function perKey<K extends string>(keys: readonly K[], label: string, rec: Record<K, number>): () => Sample[] {
  return () => keys.map((k) => ({ labels: { [label]: k }, value: rec[k] }))
}

/**
 * A single-line feed's only line is line A: its session counters are the feed's, it wins every message and lags
 * nothing. Exporting it keeps the line families present for every configured feed from start (alerts need that).
 */
function soleLine(f: FeedStats): LineStats {
  const view = Object.create(f) as LineStats & { line: string }
  Object.defineProperties(view, {
    line: { value: 'A' }, won: { get: () => f.messages }, arbDuplicates: { value: 0 }, lagMessages: { value: 0 },
  })
  return view
}

function perLine(feeds: readonly FeedStats[], read: (l: LineStats) => number): () => Sample[] {
  const sole = feeds.map(soleLine)
  return () => feeds.flatMap((f, k) => (f.lines.length > 0 ? f.lines : [sole[k]]).map((l) => ({ labels: { feed: f.name, line: l.line }, value: read(l) })))
}

/**
 * Last sequence the dispatcher has consumed. It starts at the ring cursor of its construction (−1: server.ts
 * builds it before any feed starts) and advances by every event it applied or skipped when lapped.
 */
export function ringConsumerSeq(d: DispatchStats): number {
  const direct = (d as DispatchStats & DispatchPosition).readSeq
  return typeof direct === 'number' ? direct : -1 + d.events + d.lapped
}

function packageVersion(): string {
  // src/metrics → ../../package.json; dist/src/metrics → ../../../package.json
  for (const rel of ['../../package.json', '../../../package.json']) {
    try { return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version } catch { /* next */ }
  }
  return 'unknown'
}

export function registerCatalogue(m: MetricsRegistry, s: MetricSources): void {
  const { feeds, ring, dispatch, ws, mqtt } = s
  const buildLabels = { version: packageVersion(), commit: buildCommit(), node: process.version }
  m.gauge('tickcast_build_info', 'Always 1; labels carry the tickcast version, git commit ($TICKCAST_COMMIT or the checkout) and Node.js version.', () => [{ labels: buildLabels, value: 1 }])

  // Feeds: one series per configured feed (label `feed`), so the count is set by configuration.
  m.gauge('tickcast_feed_connected', 'Whether the feed session is connected (1) or not (0).', perFeed(feeds, (f) => f.connected))
  m.gauge('tickcast_feed_logged_in', 'Whether the feed session is logged in (1) or not (0).', perFeed(feeds, (f) => f.loggedIn))
  m.counter('tickcast_feed_messages_total', 'Sequenced feed messages accepted.', perFeed(feeds, (f) => f.messages))
  m.counter('tickcast_feed_bytes_total', 'Bytes received from the feed.', perFeed(feeds, (f) => f.bytes))
  m.counter('tickcast_feed_reconnects_total', 'Feed reconnect attempts.', perFeed(feeds, (f) => f.reconnects))
  m.counter('tickcast_feed_duplicates_total', 'Feed messages skipped as already seen (replay overlap, A/B arbitration losers).', perFeed(feeds, (f) => f.duplicates))
  m.counter('tickcast_feed_sequence_gaps_total', 'Feed sequence gaps that could not be recovered.', perFeed(feeds, (f) => f.gaps))
  m.counter('tickcast_feed_messages_missed_total', 'Feed messages lost in unrecoverable gaps.', perFeed(feeds, (f) => f.missed))
  m.counter('tickcast_feed_snapshots_total', 'GLIMPSE snapshots applied to the feed\'s books (at start and after gaps).', perFeed(feeds, (f) => f.snapshots))
  m.counter('tickcast_feed_snapshot_messages_total', 'ITCH messages received in GLIMPSE snapshots.', perFeed(feeds, (f) => f.snapshotMessages))
  m.counter('tickcast_feed_snapshot_failures_total', 'GLIMPSE snapshot attempts that failed (retried with backoff; books stay partial).', perFeed(feeds, (f) => f.snapshotFailures))
  m.counter('tickcast_feed_heartbeat_timeouts_total', 'Feed links declared dead after silence.', perFeed(feeds, (f) => f.heartbeatTimeouts))
  m.counter('tickcast_feed_end_of_session_total', 'End-of-session messages received from the feed.', perFeed(feeds, (f) => f.endOfSession))
  m.counter('tickcast_feed_bad_frames_total', 'Feed frames with an impossible length or a length wrong for their packet type (connection dropped, re-login at last + 1).', perFeed(feeds, (f) => f.badFrames))
  m.gauge('tickcast_feed_bad_frame_streak', 'Connections in a row that ended on a bad frame (the line backs off by it); 0 once one ends otherwise.', perFeed(feeds, (f) => f.badFrameStreak))
  m.counter('tickcast_feed_late_join_symbols_total', 'ITCH symbols learned from an order, trade or status message because no directory entry was seen (their books start partial).', perFeed(feeds, (f) => f.lateJoins))
  m.gauge('tickcast_feed_partial_books', 'ITCH order books currently partial (late join, gap, unknown order references): their quotes are flagged.', perFeed(feeds, (f) => f.partialBooks))
  m.counter('tickcast_feed_unattributable_total', 'Feed events that reached no symbol, by reason (no_stock: the locate was never named; bad_symbol; refused).',
    () => feeds.flatMap((f) => UNATTRIBUTABLE_REASONS.map((reason, k) => ({ labels: { feed: f.name, reason }, value: f.unattributable[k] }))))
  m.counter('tickcast_feed_unknown_order_refs_total', 'ITCH executions, cancels, deletes and replaces of an order the book never saw, by message type.',
    () => feeds.flatMap((f) => UNKNOWN_ORDER_TYPES.map((type, k) => ({ labels: { feed: f.name, type }, value: f.unknownOrders[k] }))))
  m.counter('tickcast_feed_symbol_refusals_total', 'Symbol definitions refused to the feed, by reason (owner: another feed owns it; pattern; quota; capacity).',
    () => feeds.flatMap((f) => REFUSAL_REASONS.map((reason, k) => ({ labels: { feed: f.name, reason }, value: f.symbolRefusals[k] }))))
  m.counter('tickcast_feed_quotes_refused_total', 'Top-of-book quotes an ITCH book built that the normalizer refused (unknown or refused symbol, inexact value).', perFeed(feeds, (f) => f.quotesRefused))
  m.counter('tickcast_feed_decode_errors_total', 'Feed messages rejected by the decoder, by code.',
    () => feeds.flatMap((f) => DECODE_CODES.map(([code, name]) => ({ labels: { feed: f.name, code: name }, value: f.decodeErrors[code] }))))
  m.gauge('tickcast_feed_last_message_age_seconds', 'Seconds since the feed last sent anything (NaN before the first byte).',
    perFeed(feeds, (f) => (performance.now() - f.lastReceiveMs) / 1000))
  m.gauge('tickcast_feed_next_sequence', 'Next session sequence number expected from the feed.', perFeed(feeds, (f) => f.nextSeqGauge))

  // Lines (labels feed, line): A and B for an A/B feed, A alone for a single-line feed.
  {
    m.gauge('tickcast_feed_line_connected', 'Whether this line of the feed is connected (1) or not (0).', perLine(feeds, (l) => l.connected))
    m.gauge('tickcast_feed_line_logged_in', 'Whether this line of the feed is logged in (1) or not (0).', perLine(feeds, (l) => l.loggedIn))
    m.counter('tickcast_feed_line_messages_total', 'Sequenced messages this line delivered, won or not.', perLine(feeds, (l) => l.messages))
    m.counter('tickcast_feed_line_bytes_total', 'Bytes received on this line.', perLine(feeds, (l) => l.bytes))
    m.counter('tickcast_feed_line_won_total', 'Messages this line delivered first (forwarded downstream: won the A/B arbitration).', perLine(feeds, (l) => l.won))
    m.counter('tickcast_feed_line_duplicates_total', 'Copies this line delivered after the other line had (lost the arbitration).', perLine(feeds, (l) => l.arbDuplicates))
    m.gauge('tickcast_feed_line_lag_messages', 'Sequences this line is behind the leading line (0 for the leader).', perLine(feeds, (l) => l.lagMessages))
    m.counter('tickcast_feed_line_reconnects_total', 'Reconnect attempts of this line.', perLine(feeds, (l) => l.reconnects))
    m.gauge('tickcast_feed_line_last_message_age_seconds', 'Seconds since this line last sent anything (NaN before the first byte).',
      perLine(feeds, (l) => (performance.now() - l.lastReceiveMs) / 1000))
  }

  // Ring: the writer never waits, so fill and consumer lag are the early warning before a lap.
  m.gauge('tickcast_ring_capacity_slots', 'Ring buffer capacity.', () => ring.capacity)
  m.counter('tickcast_ring_events_total', 'Events written to the ring.', () => ring.cursor + 1)
  m.gauge('tickcast_ring_fill_slots', 'Slots between the writer and the slowest reader (capacity = about to lap).',
    () => Math.min(ring.capacity, ring.cursor - ringConsumerSeq(dispatch)))
  m.gauge('tickcast_ring_consumer_lag_events', 'Events written but not yet read by this consumer.', () => [{ labels: FANOUT_CONSUMER, value: ring.cursor - ringConsumerSeq(dispatch) }])
  m.counter('tickcast_ring_consumer_laps_total', 'Times the writer lapped this consumer.', () => [{ labels: FANOUT_CONSUMER, value: dispatch.laps }])
  m.counter('tickcast_ring_consumer_lapped_events_total', 'Events overwritten before this consumer read them.', () => [{ labels: FANOUT_CONSUMER, value: dispatch.lapped }])
  m.counter('tickcast_ring_consumer_lapped_symbols_total', 'Symbols this consumer marked stale (lapped) because a lap took some of their events.',
    () => [{ labels: FANOUT_CONSUMER, value: dispatch.lappedSymbols }])
  m.counter('tickcast_ring_consumer_conflations_total', 'Symbols a lapped consumer resumed from their latest value (a snap to their subscribers; ingest on its own thread).',
    () => [{ labels: FANOUT_CONSUMER, value: dispatch.conflations }])
  m.counter('tickcast_ring_consumer_conflated_trades_total', 'Trades those conflations skipped (subscribers told with trades_skipped).',
    () => [{ labels: FANOUT_CONSUMER, value: dispatch.conflatedTrades }])
  m.gauge('tickcast_ring_exchange_delay_seconds',
    'Receive wall-clock time minus exchange timestamp of the newest ring event (includes clock skew; NaN when empty).',
    () => {
      if (ring.cursor < 0) return Number.NaN
      const i = ring.cursor & ring.mask
      return (performance.timeOrigin + ring.recvTimeMs[i]) / 1000 - ring.exchTimeUs[i] / 1e6
    })
  m.gauge('tickcast_symbols', 'Symbols known across all feeds.', () => s.symbols.size)

  // Fan-out (dispatcher) and WebSocket egress.
  m.counter('tickcast_fanout_batches_total', 'Ring drains (one per event-loop turn with data).', () => dispatch.batches)
  m.counter('tickcast_fanout_events_total', 'Events applied to the last-value cache and offered to subscribers.', () => dispatch.events)
  m.counter('tickcast_ws_published_frames_total', 'Data frames published to symbol topics (each reaches every subscriber).', () => dispatch.frames)
  m.counter('tickcast_ws_published_bytes_total', 'Bytes of data frames published to symbol topics.', () => dispatch.frameBytes)
  m.histogram('tickcast_ws_data_age_seconds', 'Feed receive to WebSocket publish, oldest event of each batch.', () => dispatch.ageAtPublishSec)

  m.gauge('tickcast_ws_connections', 'Open WebSocket connections.', () => ws.connections)
  m.counter('tickcast_ws_connections_total', 'WebSocket connections accepted.', () => ws.connectionsTotal)
  m.gauge('tickcast_ws_subscriptions', 'Explicit symbol subscriptions over all connections.', () => ws.subscriptions)
  m.gauge('tickcast_ws_pattern_subscriptions', 'Pattern subscriptions over all connections.', () => ws.patterns)
  m.counter('tickcast_ws_sent_frames_total', 'Frames sent directly to one connection (control replies, snapshots).', () => ws.framesOut)
  m.counter('tickcast_ws_sent_bytes_total', 'Bytes sent directly to one connection.', () => ws.bytesOut)
  m.counter('tickcast_ws_control_messages_total', 'Control messages received.', () => ws.controlMessages)
  m.counter('tickcast_ws_control_errors_total', 'Control messages answered with an error, by code.', perKey(CONTROL_ERROR_CODES, 'code', ws.controlErrors))
  m.counter('tickcast_ws_closes_total', 'WebSocket connections closed, by reason.', perKey(CLOSE_REASONS, 'reason', ws.closes))
  m.counter('tickcast_ws_upgrades_rejected_total', 'WebSocket upgrades refused, by reason.', perKey(UPGRADE_REJECT_REASONS, 'reason', ws.upgradesRejected))
  m.counter('tickcast_auth_failures_total', 'Credentials refused (WebSocket and REST), by reason.', perKey(AUTH_FAILURE_REASONS, 'reason', ws.authFailures))
  m.counter('tickcast_auth_entitlement_denials_total', 'Symbols refused (subscribe, REST) or taken away (reload) as not entitled.', () => ws.entitlementDenials)
  m.counter('tickcast_ws_backpressure_drops_total', 'Messages uWS dropped for a connection over its backpressure limit.', () => ws.backpressureDrops)
  // Slow-consumer ladder: conflate (latest value per symbol), catch up with snapshots, recover or close (4001).
  m.gauge('tickcast_ws_slow_conflating_connections', 'Connections currently conflated because they fell behind.', () => ws.slowConflating)
  m.counter('tickcast_ws_slow_consumer_steps_total', 'Slow-consumer ladder steps taken, by step (conflate, recover).',
    () => [{ labels: { step: 'conflate' }, value: ws.slowConflateEntered }, { labels: { step: 'recover' }, value: ws.slowRecovered }])
  m.counter('tickcast_ws_catchup_snapshots_total', 'Snapshot events sent to bring a conflated connection up to date.', () => ws.slowCatchupSnapshots)
  m.counter('tickcast_ws_trades_skipped_total', 'Trades not delivered one by one (conflated or throttled) and signalled as skipped.', () => ws.tradesSkipped)
  m.gauge('tickcast_ws_throttled_subscriptions', 'Symbol subscriptions delivered at a capped rate (maxHz / maxAgeMs).', () => ws.throttledSubscriptions)
  m.counter('tickcast_ws_throttled_updates_total', 'Deliveries (updates, conflated updates with c, or snaps) sent to rate-capped subscriptions.', () => ws.throttledUpdates)

  if (mqtt) {
    m.gauge('tickcast_mqtt_connected', 'Whether the MQTT publisher is connected (1) or not (0).', () => mqtt.connected)
    m.counter('tickcast_mqtt_publishes_total', 'MQTT PUBLISH packets written.', () => mqtt.publishes)
    m.counter('tickcast_mqtt_published_bytes_total', 'MQTT payload bytes written.', () => mqtt.bytes)
    m.counter('tickcast_mqtt_skipped_disconnected_total', 'Events not published because the broker was unreachable.', () => mqtt.skippedDisconnected)
    m.counter('tickcast_mqtt_conflated_total', 'Quote updates superseded while the broker connection was backed up.', () => mqtt.conflated)
    m.counter('tickcast_mqtt_trades_dropped_total', 'Trades and status events dropped while the broker connection was backed up or at its Receive Maximum (QoS 1).', () => mqtt.tradesDropped)
    m.gauge('tickcast_mqtt_inflight_messages', 'QoS 1 publishes awaiting the broker\'s PUBACK (bounded by its Receive Maximum).', () => mqtt.readInflight())
    m.counter('tickcast_mqtt_reconnects_total', 'MQTT reconnects.', () => mqtt.reconnects)
    m.counter('tickcast_mqtt_invalid_topics_total', 'Events refused because the symbol cannot be a topic level.', () => mqtt.invalidTopics)
    m.gauge('tickcast_mqtt_backlog_bytes', 'Bytes written to the broker socket and not yet flushed to the kernel.', () => mqtt.readBacklogBytes())
    m.histogram('tickcast_mqtt_data_age_seconds', 'Feed receive to MQTT publish, oldest event of each batch.', () => mqtt.ageAtPublishSec)
  }

  registerBusMetrics(m, s.bus ?? null, s.busSource ?? null)

  const http = s.http
  if (http) {
    m.counter('tickcast_http_requests_total', 'HTTP requests answered, by route and status class.',
      () => HTTP_ROUTES.flatMap((route, r) => HTTP_STATUS_CLASSES.map((status, c) => ({ labels: { route, status }, value: http.requests[r * HTTP_STATUS_CLASSES.length + c] }))))
    m.counter('tickcast_http_pipelining_refused_total', 'Pipelined HTTP requests over the per-address per-turn bound; each closed its connection.',
      () => [{ labels: {}, value: http.pipeliningRefused }])
  }

  // Event loop: prom-client's nodejs_eventloop_lag_*_seconds (process registry) give the delay; utilisation
  // near 1 means saturation even while the delay still looks fine, and it is lint-clean in the app registry.
  let elu: EventLoopUtilization = performance.eventLoopUtilization()
  m.gauge('tickcast_eventloop_utilization_ratio', 'Share of time the event loop was busy since the previous scrape (0..1).', () => {
    const now = performance.eventLoopUtilization()
    const v = performance.eventLoopUtilization(now, elu).utilization
    elu = now
    return v
  })
}
