// The Bus dashboard against the real thing: a real Prometheus scrapes an ingest node and an edge joined by a real
// three-node NATS JetStream cluster, and every query of every panel returns data, variables substituted.
import type { Dashboard, Panel } from '@grafana/schema'
import { afterAll, describe, expect, it } from 'vitest'
import { simulator, stopAll, tickcast } from '../test-support/harness.js'
import type { Stoppable } from '../test-support/harness.js'
import { natsAvailable, startNatsCluster } from '../test-support/nats-cluster.js'
import { binaryAvailable, PROMETHEUS_BIN, startPrometheus } from '../test-support/prometheus.js'
import { waitFor } from '../test-support/wait-for.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/log.js'
import { startTickcast } from '../src/server.js'
import { buildDashboards } from './build.js'

const bus = buildDashboards()['tickcast-bus.json'] as Dashboard
const exprs = ((bus.panels ?? []) as Panel[]).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: String(p.title), expr: String(t.expr) })))
/** as Grafana sends it (1 s scrapes → $__rate_interval = 4 s), `$instance` = every scraped node */
const substitute = (expr: string, instance: string): string =>
  expr.replaceAll('$__rate_interval', '4s').replaceAll('$__interval', '1s').replaceAll('$__range', '1m').replaceAll('$instance', instance)

const running: Stoppable[] = []
afterAll(() => stopAll(running))
const haveProm = await binaryAvailable(PROMETHEUS_BIN)

describe('Bus dashboard against a real Prometheus, ingest node, edge and NATS cluster', () => {
  it('fails in CI when prometheus or nats-server is missing', () => {
    if (process.env.CI) expect(haveProm && natsAvailable(), 'prometheus and nats-server are required in CI (installed by .ci/run)').toBe(true)
  })

  it.runIf(haveProm && natsAvailable())('returns a non-empty result for every query of every panel', async () => {
    expect(exprs.length).toBeGreaterThanOrEqual(12)
    const cluster = await startNatsCluster()
    running.push(cluster)
    const sim = await simulator(running, 1000, 51, 10)
    const ingest = await tickcast(running, sim.port, {}, ['--bus', cluster.urls, '--bus-stream', 'G1', '--stream-epoch', 'sim-51'])
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--source', cluster.urls, '--bus-stream', 'G1', '--stream-epoch', 'sim-51'], {})
    if (cli.kind !== 'run') throw new Error('bad config')
    const edge = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
    running.push(edge)
    await waitFor(() => edge.dispatcher.stats.events > 100, 15_000, 'events through the bus to the edge')
    const targets = [`127.0.0.1:${ingest.metricsPort}`, `127.0.0.1:${edge.metricsPort}`]
    const prom = await startPrometheus({ targets, scrapeIntervalSec: 1 })
    running.push(prom)
    await prom.waitForUp()
    const deadline = Date.now() + 15_000
    for (;;) { // rate() over 4 s needs two samples of each target in it
      if ((await prom.query('count_over_time(up{job="tickcast"}[4s]) >= 3')).result.length === 2) break
      if (Date.now() > deadline) throw new Error(`fewer than 3 scrapes of both nodes in 4 s: ${prom.log()}`)
      await new Promise((r) => setTimeout(r, 250))
    }
    const instance = targets.map((t) => t.replaceAll('.', '\\\\.')).join('|')
    const failures: string[] = []
    for (const { panel, expr } of exprs) {
      const promql = substitute(expr, instance)
      expect(promql, panel).not.toContain('$')
      const r = await prom.query(promql)
      if (r.status !== 'success' || r.result.length === 0) failures.push(`${panel}: ${promql} → ${r.status} ${r.error ?? ''} (${r.result.length} series)`)
    }
    expect(failures).toEqual([])
    // not just present: events flow through the bus panels
    const consumed = await prom.query(substitute(`sum(rate(tickcast_bus_consume_messages_total{instance=~"$instance"}[$__rate_interval]))`, instance))
    expect(Number(consumed.result[0].value[1])).toBeGreaterThan(100)
    const up = await prom.query(substitute(`min(tickcast_bus_publish_connected{instance=~"$instance"}) + min(tickcast_bus_consume_connected{instance=~"$instance"})`, instance))
    expect(Number(up.result[0].value[1])).toBe(2)
  }, 90_000)
})
