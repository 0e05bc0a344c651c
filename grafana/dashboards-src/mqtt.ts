// Owns the MQTT dashboard: broker session, publish rate, what was skipped, conflated or dropped, backlog, data age.
// Must never use a metric outside src/metrics/catalogue.ts; every query filters on `$instance`.
import type { Dashboard } from '@grafana/schema'
import { dashboard, INST, instanceVar, OK_ONLY, q, quantile, rateBy, stat, timeseries, ZERO_IS_GOOD } from './kit.js'

/** The publisher stops writing above 1 MiB queued on the socket (maxBufferedBytes): warn at half. */
const BACKLOG_STEPS = [['green', null], ['yellow', 512 * 1024], ['red', 1024 * 1024]] as const

export function mqttDashboard(): Dashboard {
  return dashboard('tickcast-mqtt', 'tickcast / MQTT',
    'The MQTT publisher: broker session, publishes, events skipped while disconnected, conflation and drops under backpressure, socket backlog, data age.',
    [instanceVar], [
      stat({ title: 'Broker', unit: 'none', w: 6, description: 'MQTT session to the broker established (CONNACK seen).',
        queries: [q(`min(tickcast_mqtt_connected{${INST}})`, 'connected')], thresholds: [['red', null], ['green', 1]],
        mappings: { 0: { text: 'DOWN', color: 'red' }, 1: { text: 'UP', color: 'green' } } }),
      stat({ title: 'Reconnects', unit: 'none', w: 6, decimals: 0, description: 'Reconnects to the broker over the dashboard range; each one republishes every retained quote from the last-value cache.',
        queries: [q(`sum(increase(tickcast_mqtt_reconnects_total{${INST}}[$__range]))`, 'reconnects')], thresholds: [['green', null], ['yellow', 1], ['red', 5]] }),
      stat({ title: 'Socket backlog', unit: 'bytes', w: 6, description: 'Bytes queued on the broker socket. Over 1 MiB the publisher stops writing: quotes conflate, trades drop.',
        queries: [q(`max(tickcast_mqtt_backlog_bytes{${INST}})`, 'backlog')], thresholds: BACKLOG_STEPS }),
      stat({ title: 'Data age p99', unit: 's', w: 6, description: 'p99 of feed receive → MQTT publish over the rate window. Green under 1 ms, red over 10 ms.',
        queries: [q(quantile(0.99, 'tickcast_mqtt_data_age_seconds'), 'p99')], thresholds: [['green', null], ['yellow', 0.001], ['red', 0.01]] }),

      timeseries({ title: 'Publishes', unit: 'ops', description: 'MQTT PUBLISH packets per second (one per dirty symbol per batch for quotes, every trade) and events offered by the fan-out.',
        queries: [
          q(rateBy('tickcast_mqtt_publishes_total', ''), 'publishes'),
          q(rateBy('tickcast_fanout_events_total', ''), 'events offered'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'Published bytes', unit: 'Bps', description: 'MQTT payload bytes per second.',
        queries: [q(rateBy('tickcast_mqtt_published_bytes_total', ''), 'payload')], thresholds: OK_ONLY }),
      timeseries({ title: 'Skipped, conflated and dropped', unit: 'ops', description: 'Per second: events not published while the broker was unreachable (quotes are republished on reconnect), quotes superseded while the socket was backed up, trades and status events dropped, symbols that cannot be topic levels.',
        queries: [
          q(rateBy('tickcast_mqtt_skipped_disconnected_total', ''), 'skipped (disconnected)'),
          q(rateBy('tickcast_mqtt_conflated_total', ''), 'quotes conflated'),
          q(rateBy('tickcast_mqtt_trades_dropped_total', ''), 'trades dropped'),
          q(rateBy('tickcast_mqtt_invalid_topics_total', ''), 'invalid topics'),
        ], thresholds: ZERO_IS_GOOD }),
      timeseries({ title: 'Socket backlog', unit: 'bytes', description: 'Bytes queued on the broker socket, sampled per scrape. Lines at 512 KiB and at the 1 MiB write limit.',
        queries: [q(`tickcast_mqtt_backlog_bytes{${INST}}`, '{{instance}}')], thresholds: BACKLOG_STEPS }),
      timeseries({ title: 'QoS 1 trades in flight', unit: 'none', description: 'With --mqtt-trades-qos 1: trades sent and not yet acknowledged (PUBACK). At the broker\'s Receive Maximum (mosquitto: max_inflight_messages, default 20) further trades are dropped and counted as trades dropped. Always 0 at QoS 0.',
        queries: [q(`tickcast_mqtt_inflight_messages{${INST}}`, '{{instance}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'Data age', unit: 's', description: 'Feed receive → MQTT publish, oldest event of each batch. Lines at 1 ms and 10 ms.',
        queries: [
          q(quantile(0.5, 'tickcast_mqtt_data_age_seconds'), 'p50'),
          q(quantile(0.99, 'tickcast_mqtt_data_age_seconds'), 'p99'),
          q(quantile(0.999, 'tickcast_mqtt_data_age_seconds'), 'p99.9'),
        ], thresholds: [['green', null], ['yellow', 0.001], ['red', 0.01]] }),
      timeseries({ title: 'Connection', unit: 'none', description: 'Broker session state (1 = connected) and reconnects within each rate window.',
        queries: [
          q(`tickcast_mqtt_connected{${INST}}`, 'connected {{instance}}'),
          q(`sum(increase(tickcast_mqtt_reconnects_total{${INST}}[$__rate_interval]))`, 'reconnects'),
        ], thresholds: OK_ONLY }),
    ])
}
