// Owns the Fleet dashboard: which instances run, which version and commit, uptime and restarts, and per-instance
// breakdowns where the other dashboards' sums would hide one bad node. Must never sum across instances.
import type { Dashboard, Panel } from '@grafana/schema'
import { dashboard, INST, instanceVar, OK_ONLY, q, stat, timeseries } from './kit.js'

/** Feed receive → WebSocket publish, every batch bucketed: a heatmap shows a bimodal or creeping age a p99 hides. */
function dataAgeHeatmap(): Panel {
  const base = timeseries({ title: 'Data age heatmap (WebSocket publish)', unit: 's', w: 24, description: 'Batches per second by data age bucket (feed receive → WebSocket publish, oldest event of each batch), over the selected instances. A second band or a drift upward shows trouble before p99 does.',
    queries: [q(`sum by (le) (rate(tickcast_ws_data_age_seconds_bucket{${INST}}[$__rate_interval]))`, '{{le}}')], thresholds: OK_ONLY })
  return {
    ...base, type: 'heatmap',
    targets: (base.targets ?? []).map((t) => ({ ...t, format: 'heatmap' })),
    options: { calculate: false, yAxis: { unit: 's' }, cellGap: 1, color: { mode: 'scheme', scheme: 'Oranges', steps: 64 }, tooltip: { show: true, yHistogram: true } },
  }
}

export function fleetDashboard(): Dashboard {
  const d = dashboard('tickcast-fleet', 'tickcast / Fleet',
    'Every tickcast instance side by side: up or not, version and commit, uptime and restarts (annotated), ingest, data age, clients and event-loop load per instance, and a data-age heatmap.',
    [instanceVar], [
      stat({ title: 'Instances up', unit: 'none', w: 6, decimals: 0, description: 'Instances Prometheus scrapes successfully right now (up == 1).',
        queries: [q(`count(up{${INST}} == 1)`, 'up')], thresholds: [['red', null], ['green', 1]] }),
      stat({ title: 'Instances down', unit: 'none', w: 6, decimals: 0, description: 'Instances whose last scrape failed (up == 0): see the TickcastInstanceDown alert.',
        queries: [q(`count(up{${INST}} == 0) or vector(0)`, 'down')], thresholds: [['green', null], ['red', 1]] }),
      stat({ title: 'Restarts', unit: 'none', w: 6, decimals: 0, description: 'Process restarts over the dashboard range, all instances (process_start_time_seconds changes). Restarts are also annotated on the graphs.',
        queries: [q(`sum(changes(process_start_time_seconds{${INST}}[$__range]))`, 'restarts')], thresholds: [['green', null], ['yellow', 1], ['red', 3]] }),
      stat({ title: 'Versions running', unit: 'none', w: 6, decimals: 0, description: 'Distinct version + commit pairs across the instances: more than one means a rollout in progress or a forgotten node.',
        queries: [q(`count(count by (version, commit) (tickcast_build_info{${INST}}))`, 'versions')], thresholds: [['green', null], ['yellow', 2]] }),

      timeseries({ title: 'Version and commit per instance', unit: 'none', description: 'One line per instance, labelled with its version, git commit and Node.js version (tickcast_build_info).',
        queries: [q(`tickcast_build_info{${INST}}`, '{{instance}} {{version}} {{commit}} node {{node}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'Uptime per instance', unit: 's', description: 'Seconds since each process started; a drop to zero is a restart.',
        queries: [q(`time() - process_start_time_seconds{${INST}}`, '{{instance}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'Feed messages per instance', unit: 'ops', description: 'Sequenced feed messages accepted per second, per instance: an instance far below the others is behind or disconnected.',
        queries: [q(`sum by (instance) (rate(tickcast_feed_messages_total{${INST}}[$__rate_interval]))`, '{{instance}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'Data age p99 per instance', unit: 's', description: 'p99 of feed receive → WebSocket publish per instance (the Overview aggregates, which hides one slow node). Lines at the 50 ms objective.',
        queries: [q(`histogram_quantile(0.99, sum by (instance, le) (rate(tickcast_ws_data_age_seconds_bucket{${INST}}[$__rate_interval])))`, '{{instance}}')],
        thresholds: [['green', null], ['red', 0.05]] }),
      timeseries({ title: 'WebSocket clients per instance', unit: 'none', description: 'Open WebSocket connections per instance: balance across the fleet, and who lost its clients.',
        queries: [q(`sum by (instance) (tickcast_ws_connections{${INST}})`, '{{instance}}')], thresholds: OK_ONLY }),
      timeseries({ title: 'Event-loop utilisation per instance', unit: 'percentunit', max: 1, min: 0, description: 'Share of time each event loop was busy; sustained over 0.9 is saturation (TickcastEventLoopSaturated).',
        queries: [q(`tickcast_eventloop_utilization_ratio{${INST}}`, '{{instance}}')], thresholds: [['green', null], ['yellow', 0.7], ['red', 0.9]] }),
      dataAgeHeatmap(),
    ])
  d.annotations = { list: [{
    name: 'Restarts', enable: true, iconColor: 'red', datasource: { type: 'prometheus', uid: '${datasource}' },
    // Prometheus annotation: the query in `target` (Grafana 10+), the title/text formats beside it
    target: { refId: 'Restarts', expr: `changes(process_start_time_seconds{${INST}}[2m]) > 0` },
    titleFormat: 'restart', textFormat: '{{instance}} restarted', step: '60s', useValueForTime: false,
  }] } as unknown as Dashboard['annotations']
  return d
}
