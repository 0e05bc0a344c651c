// The catalogue on a real server fed by the embedded simulator: promtool-clean, and its series count is set by
// configuration only (10 vs 1,000 WebSocket clients, 50 vs 500 symbols give the same number of series).
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { loadConfig } from '../config.js'
import { DispatchStats } from '../fanout/dispatcher.js'
import { MqttStats } from '../fanout/mqtt-stats.js'
import { WsStats } from '../fanout/ws-stats.js'
import { FeedStats, LineStats } from '../feed/feed-stats.js'
import { createLogger } from '../log.js'
import { SharedSymbols } from '../model/shared-symbols.js'
import { SymbolTable } from '../model/symbols.js'
import { TickRing } from '../ring/ring-buffer.js'
import { startTickcast } from '../server.js'
import type { Tickcast } from '../server.js'
import { startInProcessSimulator } from '../../test-support/embedded-simulator.js'
import { binaryAvailable, PROMTOOL_BIN, promtoolCheckMetrics } from '../../test-support/prometheus.js'
import { waitFor } from '../../test-support/wait-for.js'
import { registerCatalogue } from './catalogue.js'
import { HttpStats } from './http-stats.js'
import { LINT_FAILING_DEFAULTS, MetricsRegistry } from './registry.js'

const running: Array<{ stop(): Promise<unknown> }> = []
afterEach(async () => { for (const r of running.splice(0).reverse()) await r.stop() })

async function server(flags: string[]): Promise<Tickcast> {
  const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--sim-rate', '3000', ...flags], {})
  if (cli.kind !== 'run') throw new Error('bad test config')
  const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false, startSimulator: startInProcessSimulator })
  running.push(t)
  return t
}

/** n clients, each subscribed to `pick(k)` (default: every symbol); resolves once each has its `subscribed` ack. */
async function clients(url: string, n: number, pick: (k: number) => string = () => '*'): Promise<WebSocket[]> {
  const out: WebSocket[] = []
  for (let k = 0; k < n; k++) {
    const ws = new WebSocket(`${url}?format=${k % 2 === 0 ? 'json' : 'msgpack'}`)
    running.push({ stop: async () => { ws.terminate() } })
    out.push(ws)
  }
  await Promise.all(out.map((ws, k) => new Promise<void>((resolve, reject) => {
    ws.once('error', reject)
    ws.on('message', (d: Buffer, binary: boolean) => { if (!binary && d.toString().includes('"subscribed"')) resolve() })
    ws.once('open', () => ws.send(JSON.stringify({ op: 'subscribe', symbols: [pick(k)], snapshot: false })))
  })))
  return out
}

/** Sample lines of an exposition (one per series), and the value of one series. */
function series(body: string): string[] { return body.split('\n').filter((l) => l !== '' && !l.startsWith('#')) }
function value(body: string, name: string): number {
  const line = series(body).find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'))
  if (line === undefined) throw new Error(`no series ${name}`)
  return Number(line.slice(line.lastIndexOf(' ') + 1))
}

const promtool = await binaryAvailable(PROMTOOL_BIN)
if (!promtool) console.warn(`\n!!! ${PROMTOOL_BIN} not found: promtool lint tests SKIPPED (install Debian 'prometheus'; CI never skips)\n`)

describe('metrics catalogue on a running server', () => {
  it('fails in CI when promtool is missing', () => {
    if (process.env.CI) expect(promtool, 'promtool is required in CI (installed by .ci/run)').toBe(true)
  })

  it.runIf(promtool)('passes `promtool check metrics` on the app registry after real traffic', async () => {
    const t = await server(['--sim-symbols', '50'])
    const [ws] = await clients(t.url, 2)
    ws.send('not json') // a control error, so labelled error counters are non-zero too
    await waitFor(() => t.feeds[0].stats.messages > 500 && (t.mqtt?.stats.publishes ?? 0) > 0 && t.dispatcher.stats.batches > 10, 10_000, 'traffic')
    const body = await t.metrics.app.metrics()
    expect(value(body, 'tickcast_ws_control_errors_total{code="MALFORMED"}')).toBe(1)
    expect(value(body, 'tickcast_ws_data_age_seconds_count')).toBeGreaterThan(0)
    expect(value(body, 'tickcast_mqtt_data_age_seconds_count')).toBeGreaterThan(0)
    const lint = await promtoolCheckMetrics(body)
    expect(lint.output).toBe('')
    expect(lint.code).toBe(0)
  })

  it.runIf(promtool)('passes `promtool check metrics` on the process registry (the three `_total` gauges removed at the source)', async () => {
    const m = new MetricsRegistry(true)
    const body = await m.process.metrics()
    for (const name of LINT_FAILING_DEFAULTS) expect(body).not.toContain(name)
    expect(body).toMatch(/^nodejs_active_handles\{/m) // the lint-clean sibling (by type) still carries the count
    const lint = await promtoolCheckMetrics(body)
    expect(lint.output).toBe('')
    expect(lint.code).toBe(0)
  })

  it.runIf(promtool)('a real /metrics scrape (process metrics on) lints clean with every feed and line family present from start', async () => {
    // two feeds that never connect: a single-line one and an A/B pair; their families must exist before any byte
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none',
      '--feed', 'solo=native:tcp://127.0.0.1:1', '--feed', 'ab=native:tcp://127.0.0.1:1,tcp://127.0.0.1:1'], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: true })
    running.push(t)
    const res = await fetch(t.metricsUrl)
    expect(res.status).toBe(200)
    const body = await res.text()
    expect(body).toContain('nodejs_heap_size_used_bytes') // the process registry is part of the scrape
    for (const [feed, line] of [['solo', 'A'], ['ab', 'A'], ['ab', 'B']]) {
      expect(value(body, `tickcast_feed_line_connected{feed="${feed}",line="${line}"}`)).toBe(0)
      expect(value(body, `tickcast_feed_line_won_total{feed="${feed}",line="${line}"}`)).toBe(0)
    }
    expect(value(body, 'tickcast_feed_connected{feed="solo"}')).toBe(0)
    expect(value(body, 'tickcast_feed_sequence_gaps_total{feed="ab"}')).toBe(0)
    const lint = await promtoolCheckMetrics(body)
    expect(lint.output).toBe('')
    expect(lint.code).toBe(0)
  })

  it('exposes the same series for 10 clients × 50 symbols as for 1,000 clients × 500 symbols', async () => {
    const small = await server(['--sim-symbols', '50'])
    await clients(small.url, 10)
    await waitFor(() => small.symbols.size >= 50 && small.dispatcher.stats.frames > 100, 10_000, '50 symbols flowing')
    const a = await small.metrics.app.metrics()

    const big = await server(['--sim-symbols', '500'])
    await waitFor(() => big.symbols.size >= 500, 15_000, '500 symbols')
    // a thousand connections, each on one symbol (all on `*` would make this test parse the stream 1,000 times)
    await clients(big.url, 1000, (k) => big.symbols.name[k % big.symbols.size])
    await waitFor(() => big.symbols.size >= 500 && big.dispatcher.stats.frames > 100, 15_000, '500 symbols flowing')
    const b = await big.metrics.app.metrics()

    expect(value(a, 'tickcast_ws_connections')).toBe(10)
    expect(value(b, 'tickcast_ws_connections')).toBe(1000)
    expect(value(b, 'tickcast_symbols')).toBeGreaterThanOrEqual(10 * value(a, 'tickcast_symbols'))
    const names = (body: string): string[] => series(body).map((l) => l.slice(0, l.lastIndexOf(' ')).replace(/(version|node)="[^"]*"/g, ''))
    expect(names(b)).toEqual(names(a))
    expect(series(a).length).toBeLessThan(400)
  }, 40_000)
})

describe('catalogue wiring', () => {
  function sources(): { m: MetricsRegistry; feed: FeedStats; ring: TickRing; dispatch: DispatchStats; http: HttpStats } {
    const m = new MetricsRegistry(false), feed = new FeedStats('nasdaq'), ring = new TickRing(1024), dispatch = new DispatchStats(), http = new HttpStats()
    const a = new LineStats('nasdaq', 'A'), b = new LineStats('nasdaq', 'B')
    a.connected = 1; a.messages = 10; a.won = 7; a.arbDuplicates = 3; b.messages = 4; b.won = 3; b.arbDuplicates = 1; b.lagMessages = 2
    feed.lines.push(a, b)
    registerCatalogue(m, { feeds: [feed], ring, symbols: new SymbolTable(new SharedSymbols(16)), dispatch, ws: new WsStats(), mqtt: new MqttStats(), http })
    return { m, feed, ring, dispatch, http }
  }

  it('exports A/B line counters with feed and line labels when the feed keeps them', async () => {
    const { m } = sources()
    const body = await m.app.metrics()
    expect(body).toContain('tickcast_feed_line_won_total{feed="nasdaq",line="A"} 7')
    expect(body).toContain('tickcast_feed_line_lag_messages{feed="nasdaq",line="B"} 2')
    expect(body).toContain('tickcast_feed_line_duplicates_total{feed="nasdaq",line="B"} 1')
    expect(body).toContain('tickcast_feed_line_connected{feed="nasdaq",line="B"} 0')
  })

  it('exports a single-line feed as its line A: the feed counters, every message won, no lag', async () => {
    const m = new MetricsRegistry(false), feed = new FeedStats('iex')
    registerCatalogue(m, { feeds: [feed], ring: new TickRing(1024), symbols: new SymbolTable(new SharedSymbols(16)), dispatch: new DispatchStats(), ws: new WsStats(), mqtt: null })
    feed.connected = 1; feed.messages = 42; feed.reconnects = 2
    const body = await m.app.metrics()
    expect(body).toContain('tickcast_feed_line_connected{feed="iex",line="A"} 1')
    expect(body).toContain('tickcast_feed_line_won_total{feed="iex",line="A"} 42')
    expect(body).toContain('tickcast_feed_line_reconnects_total{feed="iex",line="A"} 2')
    expect(body).toContain('tickcast_feed_line_duplicates_total{feed="iex",line="A"} 0')
    expect(body).not.toContain('line="B"')
  })

  it('derives ring fill and consumer lag from the writer cursor and what the dispatcher consumed', async () => {
    const { m, ring, dispatch } = sources()
    for (let k = 0; k < 10; k++) ring.advance()
    dispatch.events = 4
    const body = await m.app.metrics()
    expect(value(body, 'tickcast_ring_fill_slots')).toBe(6)
    expect(value(body, 'tickcast_ring_consumer_lag_events{consumer="fanout"}')).toBe(6)
    expect(value(body, 'tickcast_ring_events_total')).toBe(10)
  })

  it('counts HTTP requests by route and status class only', async () => {
    const { m, http } = sources()
    http.count('snapshot', 200); http.count('snapshot', 404); http.count('snapshot', 400); http.count('other', 404)
    const body = await m.app.metrics()
    expect(body).toContain('tickcast_http_requests_total{route="snapshot",status="2xx"} 1')
    expect(body).toContain('tickcast_http_requests_total{route="snapshot",status="4xx"} 2')
    expect(body).toContain('tickcast_http_requests_total{route="other",status="4xx"} 1')
    expect(series(body).filter((l) => l.startsWith('tickcast_http_requests_total')).length).toBe(24)
  })
})
