// Owns the names, help and labels of every tickcast metric, wired to the plain counters of each stage.
// Must never add per-symbol or per-client labels: series count stays independent of symbols and connections.
import { DECODE_BAD_LENGTH, DECODE_BAD_VALUE, DECODE_UNKNOWN_SYMBOL, DECODE_UNKNOWN_TYPE } from '../errors.js'
import type { DispatchStats } from '../fanout/dispatcher.js'
import type { MqttStats } from '../fanout/mqtt-publisher.js'
import type { WsStats } from '../fanout/ws-stats.js'
import { CLOSE_REASONS, CONTROL_ERROR_CODES, UPGRADE_REJECT_REASONS } from '../fanout/ws-stats.js'
import type { FeedStats } from '../feed/feed-stats.js'
import type { SymbolTable } from '../model/symbols.js'
import type { TickRing } from '../ring/ring-buffer.js'
import type { MetricsRegistry, Sample } from './registry.js'

export interface MetricSources {
  feeds: readonly FeedStats[]
  ring: TickRing
  symbols: SymbolTable
  dispatch: DispatchStats
  ws: WsStats
  mqtt: MqttStats | null
}

const DECODE_CODES: ReadonlyArray<[number, string]> = [
  [DECODE_BAD_LENGTH, 'bad_length'], [DECODE_UNKNOWN_TYPE, 'unknown_type'], [DECODE_BAD_VALUE, 'bad_value'], [DECODE_UNKNOWN_SYMBOL, 'unknown_symbol'],
]

function perFeed(feeds: readonly FeedStats[], read: (f: FeedStats) => number): () => Sample[] {
  return () => feeds.map((f) => ({ labels: { feed: f.name }, value: read(f) }))
}

function perKey<K extends string>(keys: readonly K[], label: string, rec: Record<K, number>): () => Sample[] {
  return () => keys.map((k) => ({ labels: { [label]: k }, value: rec[k] }))
}

export function registerCatalogue(m: MetricsRegistry, s: MetricSources): void {
  const { feeds, ring, dispatch, ws, mqtt } = s
  m.gauge('tickcast_feed_connected', 'Whether the feed session is connected (1) or not (0).', perFeed(feeds, (f) => f.connected))
  m.gauge('tickcast_feed_logged_in', 'Whether the feed session is logged in (1) or not (0).', perFeed(feeds, (f) => f.loggedIn))
  m.counter('tickcast_feed_messages_total', 'Sequenced feed messages accepted.', perFeed(feeds, (f) => f.messages))
  m.counter('tickcast_feed_bytes_total', 'Bytes received from the feed.', perFeed(feeds, (f) => f.bytes))
  m.counter('tickcast_feed_reconnects_total', 'Feed reconnect attempts.', perFeed(feeds, (f) => f.reconnects))
  m.counter('tickcast_feed_duplicates_total', 'Feed messages skipped as already seen.', perFeed(feeds, (f) => f.duplicates))
  m.counter('tickcast_feed_sequence_gaps_total', 'Feed sequence gaps that could not be recovered.', perFeed(feeds, (f) => f.gaps))
  m.counter('tickcast_feed_messages_missed_total', 'Feed messages lost in unrecoverable gaps.', perFeed(feeds, (f) => f.missed))
  m.counter('tickcast_feed_heartbeat_timeouts_total', 'Feed links declared dead after silence.', perFeed(feeds, (f) => f.heartbeatTimeouts))
  m.counter('tickcast_feed_bad_frames_total', 'Feed frames with an impossible length (connection dropped).', perFeed(feeds, (f) => f.badFrames))
  m.counter('tickcast_feed_decode_errors_total', 'Feed messages rejected by the decoder, by code.',
    () => feeds.flatMap((f) => DECODE_CODES.map(([code, name]) => ({ labels: { feed: f.name, code: name }, value: f.decodeErrors[code] }))))
  m.gauge('tickcast_feed_last_message_age_seconds', 'Seconds since the feed last sent anything (NaN before the first byte).',
    perFeed(feeds, (f) => (performance.now() - f.lastReceiveMs) / 1000))

  m.gauge('tickcast_ring_capacity_slots', 'Ring buffer capacity.', () => ring.capacity)
  m.counter('tickcast_ring_events_total', 'Events written to the ring.', () => ring.cursor + 1)
  m.counter('tickcast_ring_lapped_events_total', 'Events overwritten before the fan-out read them.', () => dispatch.lapped)
  m.gauge('tickcast_symbols', 'Symbols known across all feeds.', () => s.symbols.size)

  m.counter('tickcast_fanout_batches_total', 'Ring drains (one per event-loop turn with data).', () => dispatch.batches)
  m.counter('tickcast_fanout_events_total', 'Events applied to the last-value cache and offered to subscribers.', () => dispatch.events)
  m.counter('tickcast_ws_published_frames_total', 'Data frames published to symbol topics (each reaches every subscriber).', () => dispatch.frames)
  m.counter('tickcast_ws_published_bytes_total', 'Bytes of data frames published to symbol topics.', () => dispatch.frameBytes)
  m.histogram('tickcast_fanout_data_age_seconds', 'Feed receive to WebSocket publish, oldest event of each batch.', () => dispatch.ageAtPublishSec)

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
  m.counter('tickcast_ws_backpressure_drops_total', 'Messages uWS dropped for a connection over its backpressure limit.', () => ws.backpressureDrops)

  if (mqtt) {
    m.gauge('tickcast_mqtt_connected', 'Whether the MQTT publisher is connected (1) or not (0).', () => mqtt.connected)
    m.counter('tickcast_mqtt_publishes_total', 'MQTT PUBLISH packets written.', () => mqtt.publishes)
    m.counter('tickcast_mqtt_published_bytes_total', 'MQTT payload bytes written.', () => mqtt.bytes)
    m.counter('tickcast_mqtt_skipped_disconnected_total', 'Events not published because the broker was unreachable.', () => mqtt.skippedDisconnected)
    m.counter('tickcast_mqtt_conflated_total', 'Quote updates superseded while the broker connection was backed up.', () => mqtt.conflated)
    m.counter('tickcast_mqtt_trades_dropped_total', 'Trades and status events dropped while the broker connection was backed up.', () => mqtt.tradesDropped)
    m.counter('tickcast_mqtt_reconnects_total', 'MQTT reconnects.', () => mqtt.reconnects)
    m.counter('tickcast_mqtt_invalid_topics_total', 'Events refused because the symbol cannot be a topic level.', () => mqtt.invalidTopics)
  }

  // Event-loop lag: prom-client's process metrics (nodejs_eventloop_lag_*_seconds) in the process registry.
}

