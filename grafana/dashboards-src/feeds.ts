// Owns the Feeds dashboard: per configured feed, is it up and fresh, what arrives, what is lost, rejected or retried.
// Must never use a metric outside src/metrics/catalogue.ts; every query filters on `$instance` and `$feed`.
import type { Dashboard } from '@grafana/schema'
import { dashboard, INST, instanceVar, labelVar, OK_ONLY, q, rateBy, stat, timeseries, ZERO_IS_GOOD } from './kit.js'

const FEED = 'feed=~"$feed"'
const SEL = `${INST},${FEED}`

export function feedsDashboard(): Dashboard {
  return dashboard('tickcast-feeds', 'tickcast / Feeds',
    'Health of every configured feed: connection, freshness, rates, sequence gaps, duplicates (A/B arbitration and replay overlap), reconnects, decode errors.',
    [instanceVar, labelVar('feed', 'Feed', 'tickcast_feed_connected', true)], [
      stat({ title: 'Connected', unit: 'none', w: 6, description: 'TCP session to the feed established (per feed).',
        queries: [q(`tickcast_feed_connected{${SEL}}`, '{{feed}}')], thresholds: [['red', null], ['green', 1]],
        mappings: { 0: { text: 'DOWN', color: 'red' }, 1: { text: 'UP', color: 'green' } } }),
      stat({ title: 'Logged in', unit: 'none', w: 6, description: 'SoupBinTCP login accepted (per feed); connected but not logged in means the feed refused the session.',
        queries: [q(`tickcast_feed_logged_in{${SEL}}`, '{{feed}}')], thresholds: [['red', null], ['green', 1]],
        mappings: { 0: { text: 'NO', color: 'red' }, 1: { text: 'YES', color: 'green' } } }),
      stat({ title: 'Last message age', unit: 's', w: 6, description: 'Seconds since the feed last sent anything, heartbeats included. Over 5 s the feed is stale (readiness fails).',
        queries: [q(`tickcast_feed_last_message_age_seconds{${SEL}}`, '{{feed}}')], thresholds: [['green', null], ['yellow', 1], ['red', 5]] }),
      stat({ title: 'Next sequence', unit: 'none', w: 6, decimals: 0, description: 'Next session sequence number expected from the feed: the resume point after a reconnect.',
        queries: [q(`tickcast_feed_next_sequence{${SEL}}`, '{{feed}}')], thresholds: OK_ONLY }),

      timeseries({ title: 'Messages in', unit: 'suffix: msg/s', description: 'Sequenced messages accepted per second, per feed (after resume de-duplication).',
        queries: [q(rateBy('tickcast_feed_messages_total', 'feed', FEED), '{{feed}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'Bytes in', unit: 'Bps', description: 'Bytes per second read from the feed socket, per feed.',
        queries: [q(rateBy('tickcast_feed_bytes_total', 'feed', FEED), '{{feed}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'Sequence gaps and missed messages', unit: 'ops', description: 'Unrecoverable sequence gaps per second and the messages they covered. Clients receive a gap event for each.',
        queries: [
          q(rateBy('tickcast_feed_sequence_gaps_total', 'feed', FEED), 'gaps {{feed}}'),
          q(rateBy('tickcast_feed_messages_missed_total', 'feed', FEED), 'missed {{feed}}'),
        ], thresholds: ZERO_IS_GOOD }),
      timeseries({ title: 'GLIMPSE snapshots', unit: 'ops', description: 'Feeds with glimpse= (ITCH, native): snapshots applied per second (at start and after each gap: the books are synced again, the gap stale lifted) and failed attempts (retried; the books stay partial meanwhile).',
        queries: [
          q(rateBy('tickcast_feed_snapshots_total', 'feed', FEED), 'applied {{feed}}'),
          q(rateBy('tickcast_feed_snapshot_failures_total', 'feed', FEED), 'failed {{feed}}'),
        ], thresholds: ZERO_IS_GOOD }),
      timeseries({ title: 'Duplicates (arbitration)', unit: 'ops', description: 'Messages per second skipped as already seen: the losing copy of A/B line arbitration, or replay overlap after a resume. Expected non-zero with two lines.',
        queries: [q(rateBy('tickcast_feed_duplicates_total', 'feed', FEED), '{{feed}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'Reconnects and dead links', unit: 'ops', description: 'Reconnect attempts, links declared dead after silence, end-of-session messages and impossible frame lengths, per second.',
        queries: [
          q(rateBy('tickcast_feed_reconnects_total', 'feed', FEED), 'reconnects {{feed}}'),
          q(rateBy('tickcast_feed_heartbeat_timeouts_total', 'feed', FEED), 'heartbeat timeouts {{feed}}'),
          q(rateBy('tickcast_feed_end_of_session_total', 'feed', FEED), 'end of session {{feed}}'),
          q(rateBy('tickcast_feed_bad_frames_total', 'feed', FEED), 'bad frames {{feed}}'),
        ], thresholds: ZERO_IS_GOOD }),
      timeseries({ title: 'Decode errors by code', unit: 'ops', stack: true, description: 'Messages rejected by the payload decoder per second, by feed and status code (bad_length, unknown_type, bad_value, unknown_symbol).',
        queries: [q(rateBy('tickcast_feed_decode_errors_total', 'feed, code', FEED), '{{feed}} {{code}}')], thresholds: ZERO_IS_GOOD }),
      timeseries({ title: 'Last message age', unit: 's', description: 'Seconds since each feed last sent anything. The red line is the 5 s staleness bound.',
        queries: [q(`tickcast_feed_last_message_age_seconds{${SEL}}`, '{{feed}}')], thresholds: [['green', null], ['yellow', 1], ['red', 5]] }),
      timeseries({ title: 'A/B lines connected', unit: 'none', description: 'Per line of an A/B feed: 1 while the line is connected. One line down still delivers everything; both down is an outage.',
        queries: [q(`tickcast_feed_line_connected{${SEL}}`, '{{feed}} {{line}}')], thresholds: [['red', null], ['green', 1]], min: 0, max: 1 }),
      timeseries({ title: 'A/B arbitration: wins per line', unit: 'ops', stack: true, description: 'Messages per second each line delivered first (forwarded downstream). A healthy pair splits wins; one line winning everything means the other is slower.',
        queries: [q(rateBy('tickcast_feed_line_won_total', 'feed, line', FEED), '{{feed}} {{line}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'A/B arbitration: duplicates per line', unit: 'ops', description: 'Copies per second each line delivered after the other line already had: the losing side of the arbitration.',
        queries: [q(rateBy('tickcast_feed_line_duplicates_total', 'feed, line', FEED), '{{feed}} {{line}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'A/B line lag', unit: 'none', description: 'Sequences each line is behind the leading line (0 for the leader). A growing lag means that line is falling behind and will stop winning.',
        queries: [q(`tickcast_feed_line_lag_messages{${SEL}}`, '{{feed}} {{line}}')], thresholds: [['green', null], ['yellow', 1000], ['red', 100000]] }),
      timeseries({ title: 'Order books partial', unit: 'none', description: 'ITCH books that may miss orders (late join, gap, unknown order references): their quotes still flow, flagged partial to every consumer. Back to 0 once a snapshot rebuilds them.',
        queries: [q(`tickcast_feed_partial_books{${SEL}}`, '{{feed}}')], thresholds: ZERO_IS_GOOD }),
      timeseries({ title: 'Late joins and unknown order references', unit: 'ops', stack: true, description: 'Symbols learned from an order/trade/status message (no directory entry seen) and, by message type, executions/cancels/deletes/replaces of orders the book never saw, per second.',
        queries: [
          q(rateBy('tickcast_feed_late_join_symbols_total', 'feed', FEED), 'late joins {{feed}}'),
          q(rateBy('tickcast_feed_unknown_order_refs_total', 'feed, type', FEED), 'unknown order {{type}} {{feed}}'),
        ], thresholds: OK_ONLY }),
      timeseries({ title: 'Unattributable events and refusals', unit: 'ops', stack: true, description: 'Events that reached no symbol, by reason; symbol definitions refused to a feed, by reason (owner: another feed owns the symbol; pattern; quota; capacity); quotes a book built that were refused.',
        queries: [
          q(rateBy('tickcast_feed_unattributable_total', 'feed, reason', FEED), 'unattributable {{reason}} {{feed}}'),
          q(rateBy('tickcast_feed_symbol_refusals_total', 'feed, reason', FEED), 'refused {{reason}} {{feed}}'),
          q(rateBy('tickcast_feed_quotes_refused_total', 'feed', FEED), 'quotes refused {{feed}}'),
        ], thresholds: ZERO_IS_GOOD }),
      timeseries({ title: 'Bad frame streak', unit: 'none', description: 'Connections in a row that ended on an implausible frame: the line backs off by it (capped) and logs each at warn. Above 0 for long = the feed keeps sending garbage.',
        queries: [q(`tickcast_feed_bad_frame_streak{${SEL}}`, '{{feed}}')], thresholds: [['green', null], ['yellow', 1], ['red', 5]] }),
      timeseries({ title: 'Symbols', unit: 'none', description: 'Symbols known across all feeds (the symbol directory grows, never shrinks).',
        queries: [q(`tickcast_symbols{${INST}}`, '{{instance}}')], thresholds: OK_ONLY }),
    ])
}
