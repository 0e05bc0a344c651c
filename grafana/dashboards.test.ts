// The dashboards as a contract: checked-in JSON equals the generator's output, panels are complete, every metric
// they name exists, and every query of every panel returns data from a real Prometheus scraping a real tickcast.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Dashboard, Panel } from '@grafana/schema'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startSimulator } from '../feeds/sim/simulator.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/log.js'
import { startTickcast } from '../src/server.js'
import type { Tickcast } from '../src/server.js'
import { binaryAvailable, PROMETHEUS_BIN, startPrometheus } from '../test-support/prometheus.js'
import type { Prometheus } from '../test-support/prometheus.js'
import { waitFor } from '../test-support/wait-for.js'
import { buildDashboards, serialize } from './build.js'

const DIR = join(import.meta.dirname, 'dashboards')
const built = buildDashboards()
const dashboards = Object.entries(built)
/** Grafana's own macros; any other `$name` must be a templating variable of the dashboard. */
const GLOBALS = ['__rate_interval', '__interval', '__range']

function panelsOf(d: Dashboard): Panel[] { return (d.panels ?? []) as Panel[] }
function exprsOf(d: Dashboard): Array<{ panel: string; expr: string }> {
  return panelsOf(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: `${d.uid} / ${p.title}`, expr: String(t.expr) })))
}
/** The Bus dashboard needs ingest and edge nodes on a NATS cluster: its live proof is grafana/bus-dashboard.test.ts. */
const BUS_DASHBOARD = 'tickcast-bus.json'
const allExprs = dashboards.filter(([f]) => f !== BUS_DASHBOARD).flatMap(([, d]) => exprsOf(d))

/** Metric names in a PromQL expression: identifiers with tickcast's prefix or prom-client's process prefixes. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(?:tickcast|nodejs|process)_[a-z0-9_]+/g)].map((m) => m[0])
}

/** The expression as Grafana sends it for the given instance regex (1 s scrapes → $__rate_interval = 4 s). */
function substitute(expr: string, instance: string): string {
  return expr.replaceAll('$__rate_interval', '4s').replaceAll('$__interval', '1s').replaceAll('$__range', '1m')
    .replaceAll('$instance', instance).replaceAll('$feed', '.*')
}

describe('generated dashboards', () => {
  it('checked-in JSON is exactly what grafana/build.ts generates (run `npm run grafana:build`)', () => {
    expect(readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()).toEqual(Object.keys(built).sort())
    for (const [file, d] of dashboards) expect(readFileSync(join(DIR, file), 'utf8'), `${file} is stale`).toBe(serialize(d))
  })

  it('every panel has a unit, a description, thresholds, a query, a unique id and fits the 24-column grid', () => {
    const uids = new Set<string>()
    for (const [, d] of dashboards) {
      expect(uids.has(d.uid as string)).toBe(false); uids.add(d.uid as string)
      const ids = new Set<number>()
      for (const p of panelsOf(d)) {
        const what = `${d.uid} / ${p.title}`
        expect(p.description, what).toMatch(/\w{4,}/)
        expect(p.fieldConfig?.defaults.unit, what).toBeTruthy()
        expect(p.fieldConfig?.defaults.thresholds?.steps.length, what).toBeGreaterThan(0)
        expect(p.targets?.length, what).toBeGreaterThan(0)
        expect(p.datasource, what).toEqual({ type: 'prometheus', uid: '${datasource}' })
        expect(ids.has(p.id as number), what).toBe(false); ids.add(p.id as number)
        const g = p.gridPos as NonNullable<Panel['gridPos']>
        expect(g.x + g.w, what).toBeLessThanOrEqual(24)
      }
      expect(ids.size).toBeGreaterThanOrEqual(6)
    }
  })

  it('every query filters on $instance, uses $__rate_interval in rate(), and only defined variables', () => {
    for (const [, d] of dashboards) {
      const vars = new Set([...(d.templating?.list ?? []).map((v) => v.name), ...GLOBALS])
      expect(vars.has('instance') && vars.has('datasource')).toBe(true)
      for (const { panel, expr } of exprsOf(d)) {
        expect(expr, panel).toContain('instance=~"$instance"')
        for (const m of expr.matchAll(/\b(?:rate|increase)\([^[]*\[([^\]]+)\]/g)) expect(['$__rate_interval', '$__range'], `${panel}: ${expr}`).toContain(m[1])
        for (const m of expr.matchAll(/\$\{?(\w+)/g)) expect(vars.has(m[1]), `${panel}: $${m[1]}`).toBe(true)
      }
    }
  })
})

/**
 * A tickcast fed by one simulator over two lines (so the A/B panels have data), with the embedded broker, process
 * metrics on, and clients causing the events panels show (a control error, a normal close).
 */
async function workload(): Promise<{ t: Tickcast; sockets: WebSocket[]; stop(): Promise<void> }> {
  const sim = await startSimulator({ port: 0, rate: 2000, symbols: 50, seed: 5, directoryEverySec: 0 })
  const line = `tcp://127.0.0.1:${sim.port}`
  const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--feed', `sim=native:${line},${line}`], {})
  if (cli.kind !== 'run') { await sim.stop(0); throw new Error('bad test config') }
  const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: true }).catch(async (e: unknown) => { await sim.stop(0); throw e })
  const sockets: WebSocket[] = []
  const open = (q: string): Promise<WebSocket> => new Promise((resolve, reject) => {
    const ws = new WebSocket(`${t.url}?format=${q}`)
    sockets.push(ws)
    ws.once('open', () => resolve(ws)); ws.once('error', reject)
  })
  const json = await open('json'), pack = await open('msgpack')
  json.send(JSON.stringify({ op: 'subscribe', symbols: ['*'] }))
  pack.send(JSON.stringify({ op: 'subscribe', symbols: ['A*'] }))
  json.send('{"op":') // MALFORMED: a control error
  const bye = await open('json')
  bye.close(1000) // a normal close
  const stop = async (): Promise<void> => { for (const s of sockets) s.terminate(); await t.stop(); await sim.stop(0) }
  await waitFor(() => t.ws.stats.controlErrors.MALFORMED === 1 && t.ws.stats.closes.normal === 1 && t.dispatcher.stats.frames > 0
    && t.feeds[0].stats.lines.every((l) => l.messages > 0), 10_000, 'workload events')
  return { t, sockets, stop }
}

describe('dashboards against a running tickcast', () => {
  let w: Awaited<ReturnType<typeof workload>> | null = null
  let body = ''
  beforeAll(async () => {
    w = await workload()
    const t = w.t
    await waitFor(() => (t.mqtt?.stats.publishes ?? 0) > 0, 10_000, 'MQTT publishes')
    body = (await t.metrics.metrics()).body
  })
  afterAll(async () => { await w?.stop() })

  it('names only metrics that the server exposes', () => {
    const exposed = new Set(body.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]))
    const used = new Set(allExprs.flatMap((e) => metricNames(e.expr)))
    expect(used.size).toBeGreaterThan(30)
    expect([...used].filter((n) => !exposed.has(n))).toEqual([])
  })
})

const haveProm = await binaryAvailable(PROMETHEUS_BIN)
if (!haveProm) console.warn(`\n!!! ${PROMETHEUS_BIN} not found: the real-Prometheus dashboard test is SKIPPED (install Debian 'prometheus'; CI never skips)\n`)

describe('every panel query against a real Prometheus', () => {
  it('fails in CI when prometheus is missing', () => {
    if (process.env.CI) expect(haveProm, 'prometheus is required in CI (installed by .ci/run)').toBe(true)
  })

  let w: Awaited<ReturnType<typeof workload>> | null = null
  let prom: Prometheus | null = null
  afterAll(async () => {
    await prom?.stop()
    await w?.stop()
  })

  it.runIf(haveProm)('returns a non-empty result for every query of every panel, variables substituted', async () => {
    w = await workload()
    const t: Tickcast = w.t
    const target = `127.0.0.1:${t.metricsPort}` // the metrics listener, not the client port
    prom = await startPrometheus({ targets: [target], scrapeIntervalSec: 1 })
    await prom.waitForUp()
    // rate() over $__rate_interval (4 s) needs two samples inside it: wait for three scrapes.
    const p = prom
    const deadline = Date.now() + 10_000
    for (;;) {
      const r = await p.query('count_over_time(up{job="tickcast"}[4s]) >= 3')
      if (r.result.length === 1) break
      if (Date.now() > deadline) throw new Error(`fewer than 3 scrapes in 4 s: ${p.log()}`)
      await new Promise((res) => setTimeout(res, 250))
    }
    const instance = target.replaceAll('.', '\\\\.')
    const failures: string[] = []
    for (const { panel, expr } of allExprs) {
      const promql = substitute(expr, instance)
      expect(promql, panel).not.toContain('$')
      const r = await p.query(promql)
      if (r.status !== 'success' || r.result.length === 0) failures.push(`${panel}: ${promql} → ${r.status} ${r.error ?? ''} (${r.result.length} series)`)
    }
    expect(failures).toEqual([])
    // Not just present: data is flowing through the panels that matter most.
    const ingest = await p.query(substitute('sum(rate(tickcast_feed_messages_total{instance=~"$instance"}[$__rate_interval]))', instance))
    expect(Number(ingest.result[0].value[1])).toBeGreaterThan(100)
    const p99 = await p.query(substitute('histogram_quantile(0.99, sum by (le) (rate(tickcast_ws_data_age_seconds_bucket{instance=~"$instance"}[$__rate_interval])))', instance))
    expect(Number.isFinite(Number(p99.result[0].value[1]))).toBe(true)
  }, 45_000)
})
