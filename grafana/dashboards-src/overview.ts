// Owns the Overview dashboard: is data flowing in and out, how old is it at each stage, who is connected, what fails.
// Must never use a metric outside src/metrics/catalogue.ts or prom-client's process defaults.
import type { Dashboard } from '@grafana/schema'
import { dashboard, INST, instanceVar, OK_ONLY, q, quantile, rateBy, stat, timeseries, ZERO_IS_GOOD } from './kit.js'

const AGE_STEPS = [['green', null], ['yellow', 0.001], ['red', 0.01]] as const

export function overviewDashboard(): Dashboard {
  return dashboard('tickcast-overview', 'tickcast / Overview',
    'Throughput in and out, data age per stage, connections and errors of the selected tickcast instances.',
    [instanceVar], [
      stat({ title: 'Feeds up', unit: 'none', description: 'Lowest tickcast_feed_connected over all feeds: 1 = every feed connected, 0 = at least one feed down.',
        queries: [q(`min(tickcast_feed_connected{${INST}})`, 'feeds up')], thresholds: [['red', null], ['green', 1]],
        mappings: { 0: { text: 'DOWN', color: 'red' }, 1: { text: 'UP', color: 'green' } } }),
      stat({ title: 'Ingest', unit: 'suffix: msg/s', description: 'Sequenced feed messages accepted per second, all feeds.',
        queries: [q(rateBy('tickcast_feed_messages_total', ''), 'in')], thresholds: [['red', null], ['green', 1e-9]] }),
      stat({ title: 'WebSocket clients', unit: 'none', description: 'Open WebSocket connections.',
        queries: [q(`sum(tickcast_ws_connections{${INST}})`, 'connections')], thresholds: OK_ONLY }),
      stat({ title: 'Data age p99 (WebSocket)', unit: 's', description: 'p99 of feed receive → WebSocket publish over the rate window. Green under 1 ms, red over 10 ms.',
        queries: [q(quantile(0.99, 'tickcast_ws_data_age_seconds'), 'p99')], thresholds: AGE_STEPS }),
      stat({ title: 'Oldest feed', unit: 's', description: 'Seconds since the quietest feed last sent anything (heartbeats included). Red over 5 s: the feed is stale.',
        queries: [q(`max(tickcast_feed_last_message_age_seconds{${INST}})`, 'age')], thresholds: [['green', null], ['yellow', 1], ['red', 5]] }),
      stat({ title: 'Event loop busy', unit: 'percentunit', description: 'Event-loop utilisation since the previous scrape (highest instance). Near 100 % the process is saturated.',
        queries: [q(`max(tickcast_eventloop_utilization_ratio{${INST}})`, 'ELU')], thresholds: [['green', null], ['yellow', 0.7], ['red', 0.9]], min: 0, max: 1 }),

      timeseries({ title: 'Throughput in and out', unit: 'ops', description: 'Messages per second: accepted from feeds, fanned out from the ring, WebSocket frames published to symbol topics, MQTT publishes.',
        queries: [
          q(rateBy('tickcast_feed_messages_total', 'feed'), 'feed {{feed}} in'),
          q(rateBy('tickcast_fanout_events_total', ''), 'fan-out events'),
          q(rateBy('tickcast_ws_published_frames_total', ''), 'WebSocket frames'),
          q(rateBy('tickcast_mqtt_publishes_total', ''), 'MQTT publishes'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'Bytes in and out', unit: 'Bps', description: 'Bytes per second from feeds, published to WebSocket topics (once per topic, before uWS copies them to subscribers), sent directly to clients, and published to MQTT.',
        queries: [
          q(rateBy('tickcast_feed_bytes_total', 'feed'), 'feed {{feed}} in'),
          q(rateBy('tickcast_ws_published_bytes_total', ''), 'WebSocket topics'),
          q(rateBy('tickcast_ws_sent_bytes_total', ''), 'WebSocket direct'),
          q(rateBy('tickcast_mqtt_published_bytes_total', ''), 'MQTT'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'Data age per stage', unit: 's', description: 'Percentiles of the age of the oldest event of each batch when it leaves tickcast: feed receive → WebSocket publish and feed receive → MQTT publish. Lines at 1 ms and 10 ms.',
        queries: [
          q(quantile(0.5, 'tickcast_ws_data_age_seconds'), 'WebSocket p50'),
          q(quantile(0.99, 'tickcast_ws_data_age_seconds'), 'WebSocket p99'),
          q(quantile(0.999, 'tickcast_ws_data_age_seconds'), 'WebSocket p99.9'),
          q(quantile(0.5, 'tickcast_mqtt_data_age_seconds'), 'MQTT p50'),
          q(quantile(0.99, 'tickcast_mqtt_data_age_seconds'), 'MQTT p99'),
          q(quantile(0.999, 'tickcast_mqtt_data_age_seconds'), 'MQTT p99.9'),
        ], thresholds: AGE_STEPS }),
      timeseries({ title: 'Exchange → receive delay', unit: 's', description: 'Receive wall-clock time minus the exchange timestamp of the newest event in the ring, sampled per scrape. Includes clock skew between the venue and this host.',
        queries: [q(`tickcast_ring_exchange_delay_seconds{${INST}}`, '{{instance}}')], thresholds: [['green', null], ['yellow', 0.01], ['red', 0.1]] }),
      timeseries({ title: 'Connections and subscriptions', unit: 'none', description: 'Open WebSocket connections, explicit symbol subscriptions and pattern subscriptions over all connections.',
        queries: [
          q(`sum(tickcast_ws_connections{${INST}})`, 'connections'),
          q(`sum(tickcast_ws_subscriptions{${INST}})`, 'symbol subscriptions'),
          q(`sum(tickcast_ws_pattern_subscriptions{${INST}})`, 'pattern subscriptions'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'Errors and losses', unit: 'ops', description: 'Per second: feed decode errors, feed sequence gaps, ring laps, WebSocket control errors and abnormal closes, MQTT events skipped or dropped. All should be zero.',
        queries: [
          q(rateBy('tickcast_feed_decode_errors_total', ''), 'feed decode errors'),
          q(rateBy('tickcast_feed_sequence_gaps_total', ''), 'feed gaps'),
          q(rateBy('tickcast_ring_consumer_lapped_events_total', ''), 'ring lapped events'),
          q(rateBy('tickcast_ws_control_errors_total', ''), 'control errors'),
          q(rateBy('tickcast_ws_closes_total', '', 'reason!~"normal|shutdown"'), 'abnormal closes'),
          q(rateBy('tickcast_mqtt_skipped_disconnected_total', ''), 'MQTT skipped (disconnected)'),
          q(rateBy('tickcast_mqtt_trades_dropped_total', ''), 'MQTT trades dropped'),
        ], thresholds: ZERO_IS_GOOD }),
      timeseries({ title: 'Event-loop delay p99', unit: 's', description: 'p99 event-loop delay per scrape window (prom-client, 10 ms sampling resolution). Everything in tickcast runs on this loop.',
        queries: [q(`nodejs_eventloop_lag_p99_seconds{${INST}}`, '{{instance}}')], thresholds: [['green', null], ['yellow', 0.02], ['red', 0.1]] }),
      timeseries({ title: 'Memory', unit: 'bytes', description: 'Resident memory and V8 heap in use. A steady climb under constant load is a leak.',
        queries: [
          q(`process_resident_memory_bytes{${INST}}`, 'RSS {{instance}}'),
          q(`nodejs_heap_size_used_bytes{${INST}}`, 'heap used {{instance}}'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'CPU', unit: 'percentunit', description: 'Process CPU time per second (1 = one core). The ingest and fan-out share the main thread.',
        queries: [q(`rate(process_cpu_seconds_total{${INST}}[$__rate_interval])`, '{{instance}}')], thresholds: [['green', null], ['yellow', 0.7], ['red', 0.9]], min: 0 }),
    ])
}
