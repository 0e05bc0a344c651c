// Owns the Bus dashboard: ingest nodes publishing to NATS JetStream (--bus) and edges consuming it (--source):
// connections, publish and consume rates, de-duplication, failures and re-sends, edge lag against the /readyz bound.
// Must never use a metric outside src/metrics/bus-metrics.ts and catalogue.ts; every query filters on `$instance`.
import type { Dashboard } from '@grafana/schema'
import { dashboard, INST, instanceVar, OK_ONLY, q, quantile, rateBy, stat, timeseries, ZERO_IS_GOOD } from './kit.js'

/** /readyz on an edge fails above 50,000 messages behind (src/server.ts BUS_READY_MAX_LAG): warn at a fifth of it. */
const LAG_STEPS = [['green', null], ['yellow', 10_000], ['red', 50_000]] as const
const UP_DOWN = { 0: { text: 'DOWN', color: 'red' }, 1: { text: 'UP', color: 'green' } }

export function busDashboard(): Dashboard {
  return dashboard('tickcast-bus', 'tickcast / Bus',
    'The NATS JetStream bus between ingest nodes (--bus) and edge nodes (--source): connections, events published and consumed, hot-hot de-duplication, failures and re-sends, how far each edge is behind the stream.',
    [instanceVar], [
      stat({ title: 'Ingest → bus', unit: 'none', w: 6, description: 'Every selected ingest node\'s connection to the bus is up (min over instances; no value: no ingest node selected).',
        queries: [q(`min(tickcast_bus_publish_connected{${INST}})`, 'publish')], thresholds: [['red', null], ['green', 1]], mappings: UP_DOWN }),
      stat({ title: 'Bus → edges', unit: 'none', w: 6, description: 'Every selected edge\'s connection to the bus is up (min over instances). While down the edge marks its symbols stale and /readyz fails.',
        queries: [q(`min(tickcast_bus_consume_connected{${INST}})`, 'consume')], thresholds: [['red', null], ['green', 1]], mappings: UP_DOWN }),
      stat({ title: 'Worst edge lag', unit: 'none', w: 6, decimals: 0, description: 'Stream messages the furthest-behind edge has yet to apply. /readyz on an edge fails above 50,000.',
        queries: [q(`max(tickcast_bus_consume_lag_messages{${INST}})`, 'lag')], thresholds: LAG_STEPS }),
      stat({ title: 'Publish failures', unit: 'none', w: 6, decimals: 0, description: 'Publishes that failed over the dashboard range (bus down, no ack in time); each one makes the node re-send from it, in order.',
        queries: [q(`sum(increase(tickcast_bus_publish_failures_total{${INST}}[$__range]))`, 'failures')], thresholds: ZERO_IS_GOOD }),

      timeseries({ title: 'Published and acknowledged', unit: 'ops', description: 'Per second over the ingest nodes: events published to the stream (re-sends included), acknowledgements, and the duplicates among them (hot-hot: the other ingest node stored the event first).',
        queries: [
          q(rateBy('tickcast_bus_publishes_total', ''), 'published'),
          q(rateBy('tickcast_bus_publish_acks_total', ''), 'acknowledged'),
          q(rateBy('tickcast_bus_publish_duplicates_total', ''), 'duplicates (dedup hits)'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'Consumed per edge', unit: 'ops', description: 'Bus messages each edge applied per second. Every edge consumes the whole stream: the lines should lie on top of each other and on the stored rate (published − duplicates).',
        queries: [
          q(`sum by (instance) (rate(tickcast_bus_consume_messages_total{${INST}}[$__rate_interval]))`, '{{instance}}'),
          q(`${rateBy('tickcast_bus_publishes_total', '')} - ${rateBy('tickcast_bus_publish_duplicates_total', '')}`, 'stored (published − duplicates)'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'Edge lag', unit: 'none', description: 'Stream messages each edge is behind the stream\'s last sequence (sampled every 500 ms). Lines at 10,000 and at the /readyz bound of 50,000.',
        queries: [q(`tickcast_bus_consume_lag_messages{${INST}}`, '{{instance}}')], thresholds: LAG_STEPS }),
      timeseries({ title: 'Failures, re-sends, laps, duplicates dropped', unit: 'ops', description: 'Per second: failed publishes, events re-sent after them, events the ring writer overwrote before the publisher read them (lost to the bus), and records an edge dropped as already applied (re-sent or redelivered).',
        queries: [
          q(rateBy('tickcast_bus_publish_failures_total', ''), 'publish failures'),
          q(rateBy('tickcast_bus_publish_resent_events_total', ''), 're-sent'),
          q(rateBy('tickcast_bus_publish_lapped_events_total', ''), 'lapped (lost)'),
          q(rateBy('tickcast_bus_consume_duplicates_total', ''), 'dropped by edges (already applied)'),
        ], thresholds: ZERO_IS_GOOD }),
      timeseries({ title: 'Publishes in flight', unit: 'none', description: 'Publishes awaiting the stream\'s acknowledgement per ingest node: rises with JetStream commit latency (replicas on other nodes) before anything fails.',
        queries: [q(`tickcast_bus_publish_inflight_messages{${INST}}`, '{{instance}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'Edge data age', unit: 's', description: 'Bus receive → WebSocket publish on the selected edges, oldest event of each batch (the ingest node\'s own age to the bus is on its Overview). Lines at 1 ms and 10 ms.',
        queries: [
          q(quantile(0.5, 'tickcast_ws_data_age_seconds'), 'p50'),
          q(quantile(0.99, 'tickcast_ws_data_age_seconds'), 'p99'),
        ], thresholds: [['green', null], ['yellow', 0.001], ['red', 0.01]] }),
    ])
}
