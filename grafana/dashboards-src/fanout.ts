// Owns the Fan-out dashboard: ring headroom, WebSocket egress, slow consumers, backpressure, closes, control errors, auth.
// Must never use a metric outside src/metrics/catalogue.ts; every query filters on `$instance`.
import type { Dashboard } from '@grafana/schema'
import { dashboard, INST, instanceVar, OK_ONLY, q, quantile, rateBy, stat, timeseries, ZERO_IS_GOOD } from './kit.js'

const FILL = `max(tickcast_ring_fill_slots{${INST}} / tickcast_ring_capacity_slots{${INST}})`

export function fanoutDashboard(): Dashboard {
  return dashboard('tickcast-fanout', 'tickcast / Fan-out',
    'From the ring to the sockets: ring headroom and laps, publish rates, data age, slow consumers, backpressure and closes.',
    [instanceVar], [
      stat({ title: 'Ring fill', unit: 'percentunit', description: 'Slots between the writer and the slowest reader, as a share of capacity. At 100 % the reader is lapped: the symbols it lost events of are marked stale (lapped) in-band.',
        queries: [q(FILL, 'fill')], thresholds: [['green', null], ['yellow', 0.5], ['red', 0.9]], min: 0, max: 1 }),
      stat({ title: 'Connections', unit: 'none', description: 'Open WebSocket connections.',
        queries: [q(`sum(tickcast_ws_connections{${INST}})`, 'connections')], thresholds: OK_ONLY }),
      stat({ title: 'Subscriptions', unit: 'none', description: 'Explicit symbol subscriptions over all connections.',
        queries: [q(`sum(tickcast_ws_subscriptions{${INST}})`, 'subscriptions')], thresholds: OK_ONLY }),
      stat({ title: 'Slow-consumer closes', unit: 'none', decimals: 0, description: 'Connections closed with 4001 (slow consumer) over the dashboard range.',
        queries: [q(`sum(increase(tickcast_ws_closes_total{${INST},reason="slow_consumer"}[$__range]))`, 'closes')], thresholds: [['green', null], ['yellow', 1], ['red', 10]] }),
      stat({ title: 'Conflating now', unit: 'none', description: 'Connections currently receiving conflated updates (latest value per symbol) because they fell behind.',
        queries: [q(`sum(tickcast_ws_slow_conflating_connections{${INST}})`, 'conflating')], thresholds: [['green', null], ['yellow', 1], ['red', 10]] }),
      stat({ title: 'Ring laps', unit: 'none', decimals: 0, description: 'Times the feed writer lapped the fan-out over the dashboard range (events lost to every client).',
        queries: [q(`sum(increase(tickcast_ring_consumer_laps_total{${INST}}[$__range]))`, 'laps')], thresholds: [['green', null], ['red', 1]] }),

      timeseries({ title: 'Ring fill and consumer lag', unit: 'none', description: 'Events written but not yet read by each ring consumer, and the ring capacity it must stay under.',
        queries: [
          q(`sum by (consumer) (tickcast_ring_consumer_lag_events{${INST}})`, 'lag {{consumer}}'),
          q(`max(tickcast_ring_capacity_slots{${INST}})`, 'capacity'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'Ring lapped events', unit: 'ops', description: 'Events overwritten before the consumer read them, per second. Non-zero means the fan-out cannot keep up with the feed.',
        queries: [q(rateBy('tickcast_ring_consumer_lapped_events_total', 'consumer'), '{{consumer}}')], thresholds: ZERO_IS_GOOD }),
      timeseries({ title: 'Publish rate', unit: 'ops', description: 'Ring drains (batches), events fanned out and WebSocket data frames published per second; one frame per symbol and format per batch.',
        queries: [
          q(rateBy('tickcast_fanout_batches_total', ''), 'batches'),
          q(rateBy('tickcast_fanout_events_total', ''), 'events'),
          q(rateBy('tickcast_ws_published_frames_total', ''), 'topic frames'),
          q(rateBy('tickcast_ws_sent_frames_total', ''), 'direct frames'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'Events per batch', unit: 'none', description: 'Average events per ring drain. High values mean bursts (or a slow event loop) are being absorbed in batches.',
        queries: [q(`${rateBy('tickcast_fanout_events_total', '')} / ${rateBy('tickcast_fanout_batches_total', '')}`, 'events/batch')], thresholds: OK_ONLY }),
      timeseries({ title: 'WebSocket data age', unit: 's', description: 'Feed receive → WebSocket publish, oldest event of each batch. Lines at 1 ms and 10 ms.',
        queries: [
          q(quantile(0.5, 'tickcast_ws_data_age_seconds'), 'p50'),
          q(quantile(0.99, 'tickcast_ws_data_age_seconds'), 'p99'),
          q(quantile(0.999, 'tickcast_ws_data_age_seconds'), 'p99.9'),
        ], thresholds: [['green', null], ['yellow', 0.001], ['red', 0.01]] }),
      timeseries({ title: 'Egress bytes', unit: 'Bps', description: 'Bytes per second published to symbol topics (counted once, before uWS copies them to each subscriber) and sent directly (snapshots, control replies).',
        queries: [
          q(rateBy('tickcast_ws_published_bytes_total', ''), 'topics'),
          q(rateBy('tickcast_ws_sent_bytes_total', ''), 'direct'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'Slow consumers and backpressure', unit: 'ops', description: 'Messages uWS dropped for connections over their backpressure limit, and slow-consumer closes (4001), per second.',
        queries: [
          q(rateBy('tickcast_ws_backpressure_drops_total', ''), 'backpressure drops'),
          q(rateBy('tickcast_ws_closes_total', '', 'reason="slow_consumer"'), 'slow-consumer closes'),
        ], thresholds: ZERO_IS_GOOD }),
      timeseries({ title: 'Slow-consumer ladder', unit: 'ops', description: 'Per second: connections that fell behind and switched to conflated delivery, connections that recovered, catch-up snapshot events sent, trades skipped (signalled to the client, never silent), snapshot events sent to rate-capped subscriptions.',
        queries: [
          q(rateBy('tickcast_ws_slow_consumer_steps_total', 'step'), '{{step}}'),
          q(rateBy('tickcast_ws_catchup_snapshots_total', ''), 'catch-up snapshots'),
          q(rateBy('tickcast_ws_trades_skipped_total', ''), 'trades skipped'),
          q(rateBy('tickcast_ws_throttled_updates_total', ''), 'throttled updates'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'Conflated and throttled', unit: 'none', description: 'Connections currently conflated (slow consumers) and symbol subscriptions delivered at a capped rate (maxHz / maxAgeMs).',
        queries: [
          q(`sum(tickcast_ws_slow_conflating_connections{${INST}})`, 'conflating connections'),
          q(`sum(tickcast_ws_throttled_subscriptions{${INST}})`, 'throttled subscriptions'),
        ], thresholds: [['green', null], ['yellow', 1]] }),
      timeseries({ title: 'Closes by reason', unit: 'ops', stack: true, description: 'WebSocket connections closed per second, by reason (normal, idle, shutdown, slow_consumer, protocol, rate_limited, too_big, abnormal).',
        queries: [q(rateBy('tickcast_ws_closes_total', 'reason'), '{{reason}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'Connections opened', unit: 'ops', description: 'WebSocket connections accepted and upgrades refused (origin, version, format) per second.',
        queries: [
          q(rateBy('tickcast_ws_connections_total', ''), 'accepted'),
          q(rateBy('tickcast_ws_upgrades_rejected_total', 'reason'), 'rejected {{reason}}'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'Control messages and errors', unit: 'ops', description: 'Control messages received per second, and those answered with an error, by stable error code.',
        queries: [
          q(rateBy('tickcast_ws_control_messages_total', ''), 'received'),
          q(rateBy('tickcast_ws_control_errors_total', 'code'), 'error {{code}}'),
        ], thresholds: OK_ONLY }),

      // Auth and admission (README, Security): who was refused, and why
      stat({ title: 'Auth failures', unit: 'none', decimals: 0, description: 'Credentials refused (WebSocket and REST) over the dashboard range: missing, malformed, invalid, expired, unknown or revoked keys, the op:auth deadline, the per-address failure budget.',
        queries: [q(`sum(increase(tickcast_auth_failures_total{${INST}}[$__range]))`, 'failures')], thresholds: [['green', null], ['yellow', 1], ['red', 100]] }),
      stat({ title: 'Entitlement denials', unit: 'none', decimals: 0, description: 'Symbols refused (subscribe, REST) or taken away by a reload as not entitled, over the dashboard range.',
        queries: [q(`sum(increase(tickcast_auth_entitlement_denials_total{${INST}}[$__range]))`, 'denials')], thresholds: [['green', null], ['yellow', 1]] }),
      stat({ title: 'Refused pipelining', unit: 'none', decimals: 0, description: 'Pipelined HTTP requests over the per-address per-turn bound (each closed its connection), over the dashboard range.',
        queries: [q(`sum(increase(tickcast_http_pipelining_refused_total{${INST}}[$__range]))`, 'refused')], thresholds: [['green', null], ['yellow', 1]] }),
      timeseries({ title: 'Auth failures by reason', unit: 'ops', stack: true, description: 'Credentials refused per second, by reason. rate_limited: an address over its failure budget (burst 10, then 2/s) is refused without verification — a guessing attack shows here.',
        queries: [q(rateBy('tickcast_auth_failures_total', 'reason'), '{{reason}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'Denials and admission refusals', unit: 'ops', description: 'Per second: entitlement denials, WebSocket upgrades refused by reason (capacity, ip_limit, ip_rate, origin, ...), and pipelined HTTP requests refused.',
        queries: [
          q(rateBy('tickcast_auth_entitlement_denials_total', ''), 'entitlement denials'),
          q(rateBy('tickcast_ws_upgrades_rejected_total', 'reason'), 'upgrade refused {{reason}}'),
          q(rateBy('tickcast_http_pipelining_refused_total', ''), 'pipelining refused'),
        ], thresholds: OK_ONLY }),
    ])
}
