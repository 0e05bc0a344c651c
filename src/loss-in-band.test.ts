// Upstream loss told in-band, end to end: a feed gap and a lapped fan-out reach a WebSocket client, an MQTT subscriber
// on a real mosquitto and the REST snapshot, after every event that preceded the loss, for exactly the affected symbols.
import mqtt from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { writeQuote, writeSymbolDirectory, writeTrade } from '../feeds/native-encoder.js'
import { SoupServer } from '../feeds/soup-server.js'
import { loadConfig } from './config.js'
import { createLogger } from './log.js'
import { startTickcast } from './server.js'
import type { Tickcast } from './server.js'
import { mosquittoAvailable, startMosquitto } from '../test-support/mosquitto.js'
import { startTcpProxy } from '../test-support/tcp-proxy.js'
import { waitFor } from '../test-support/wait-for.js'

type Event = Record<string, unknown> & { e: string; s: string; n: number }

const running: Array<{ stop(): Promise<unknown> }> = []
afterEach(async () => { for (const r of running.splice(0).reverse()) await r.stop() })

const TS = 1_732_619_000_000_000
const b = Buffer.alloc(64)
const AAPL = 1, MSFT = 2, TSLA = 3

/** A native SoupBinTCP feed the test writes by hand; a small recovery store, so a long enough outage loses data. */
async function feed(symbols: string[], recoveryBytes = 64 * 1024 * 1024): Promise<{ soup: SoupServer; port: number }> {
  const soup = new SoupServer({ sessionId: 'LOSS', recoveryBytes, blockBytes: 1024 })
  const port = await soup.listen()
  running.push({ stop: () => soup.close() })
  symbols.forEach((name, k) => soup.append(b, 0, writeSymbolDirectory(b, 0, k + 1, TS, 0, name, -4, 0, 1, 1)))
  return { soup, port }
}
const quote = (soup: SoupServer, locate: number, bid: number): number => soup.append(b, 0, writeQuote(b, 0, locate, TS, 0, 0, bid, 100, bid + 1, 100))
const trade = (soup: SoupServer, locate: number, px: number, id: number): number => soup.append(b, 0, writeTrade(b, 0, locate, TS, 0, 0x42, px, 1, id))

/** A WebSocket client recording every data event in arrival order. */
class Client {
  readonly events: Event[] = []
  readonly ws: WebSocket
  constructor(url: string) {
    this.ws = new WebSocket(`${url}?format=json`)
    this.ws.on('message', (data: Buffer) => { const m = JSON.parse(data.toString()); if (Array.isArray(m)) this.events.push(...(m as Event[])) })
    running.push({ stop: async () => { this.ws.terminate() } })
  }
  opened(): Promise<void> { return new Promise((r, j) => { this.ws.once('open', () => r()); this.ws.once('error', j) }) }
  of(symbol: string): Event[] { return this.events.filter((e) => e.s === symbol) }
  markers(symbol: string): string[] { return this.of(symbol).filter((e) => e.e === 'stale' || e.e === 'fresh').map((e) => `${e.e}:${e.reason ?? ''}`) }
}

/**
 * The stream of one symbol is explainable: a snapshot, then data events each one past the last sequence seen, and
 * markers that carry the last sequence (a lapped marker may move it on: it names the events lost before it).
 */
function expectExplained(events: Event[]): void {
  let last = -1
  for (const e of events) {
    if (e.e === 'snap') { last = e.n; continue }
    if (e.e === 'stale' && e.reason === 'lapped') { expect(e.n, `${e.s} lapped marker`).toBeGreaterThanOrEqual(last); last = e.n; continue }
    if (e.e === 'stale' || e.e === 'fresh') { expect(e.n, `${e.s} ${e.e} marker after ${last}`).toBe(last); continue }
    expect(e.n, `${e.s} ${e.e} after ${last}`).toBe(last + 1)
    last = e.n
  }
}

async function rest(t: Tickcast, symbol: string): Promise<{ n: number; stale: string | null }> {
  const r = await fetch(`http://127.0.0.1:${t.port}/v1/snapshot/${symbol}`)
  return await r.json() as { n: number; stale: string | null }
}

describe('upstream loss, in-band and in order, on every output', () => {
  it.skipIf(!mosquittoAvailable() && !process.env.CI)('a feed gap, then a lapped fan-out: WebSocket, MQTT and REST each learn it for exactly the affected symbols', async () => {
    const broker = await startMosquitto()
    running.push(broker)
    const a = await feed(['AAPL', 'MSFT', 'TSLA'], 16 * 1024), other = await feed(['IBM'])
    const line = await startTcpProxy(a.port) // the network between feed A and tickcast, where the outage happens
    running.push({ stop: () => line.close() })
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--ring-capacity', '1024', '--ws-max-backpressure-bytes', '64MiB',
      '--ws-slow-hard-limit-bytes', '256MiB', '--feed', `a=native:tcp://127.0.0.1:${line.port}`, '--feed', `b=native:tcp://127.0.0.1:${other.port}`,
      '--mqtt-url', broker.url, '--mqtt-format', 'json'], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
    running.push(t)

    const mq = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 })
    running.push({ stop: () => mq.endAsync(true) })
    const mqttStates: Event[] = [], mqttQuotes: Event[] = []
    mq.on('message', (topic, payload) => { (topic.includes('/state/') ? mqttStates : mqttQuotes).push(JSON.parse(payload.toString()) as Event) })
    await mq.subscribeAsync(['md/v1/state/+', 'md/v1/quotes/+'])
    const mqttState = (s: string): Event | undefined => mqttStates.filter((e) => e.s === s).at(-1)

    for (const [soup, locate, bid] of [[a.soup, AAPL, 1000], [a.soup, MSFT, 2000], [a.soup, TSLA, 3000], [other.soup, 1, 4000]] as const) quote(soup, locate, bid)
    await waitFor(() => t.symbols.size === 4 && t.lvc.hasQuote(3), 5000, 'four symbols quoted')
    const c = new Client(t.url)
    await c.opened()
    c.ws.send(JSON.stringify({ op: 'subscribe', symbols: ['AAPL', 'MSFT', 'TSLA', 'IBM'] }))
    await waitFor(() => c.events.filter((e) => e.e === 'snap').length === 4, 3000, 'four snapshots')
    await waitFor(() => ['AAPL', 'MSFT', 'TSLA', 'IBM'].every((s) => mqttState(s)?.e === 'fresh'), 5000, 'each symbol\'s first state on MQTT')
    for (let k = 0; k < 20; k++) { quote(a.soup, AAPL, 1001 + k); trade(a.soup, MSFT, 2000, k + 1); quote(other.soup, 1, 4001 + k) }
    await waitFor(() => c.of('AAPL').length === 21 && c.of('MSFT').length === 21 && c.of('IBM').length === 21, 3000, 'live updates')

    // 1. A feed gap: the line drops, and while it is down the feed writes past its 16 KiB recovery store.
    const before = { AAPL: c.of('AAPL').at(-1)!.n, MSFT: c.of('MSFT').at(-1)!.n, TSLA: c.of('TSLA').at(-1)!.n }
    line.dropAll()
    for (let k = 0; k < 2000; k++) trade(a.soup, MSFT, 2001, 100 + k) // MSFT only: AAPL and TSLA lose nothing themselves…
    await waitFor(() => t.feeds[0].stats.gaps === 1 && c.markers('TSLA').length === 1, 5000, 'the gap told to clients')
    // …but a feed gap can hide any of the feed's symbols' messages: all three are stale; IBM (feed b) is not
    for (const s of ['AAPL', 'MSFT', 'TSLA']) expect(c.markers(s), s).toEqual(['stale:feed_gap'])
    expect(c.markers('IBM')).toEqual([])
    for (const s of ['AAPL', 'TSLA'] as const) {
      const events = c.of(s), k = events.findIndex((e) => e.e === 'stale')
      expect(events[k].n, `${s}: the marker comes after every event before the loss`).toBe(before[s])
    }
    await waitFor(() => mqttState('TSLA')?.e === 'stale', 3000, 'TSLA stale on MQTT')
    expect(mqttState('TSLA')).toMatchObject({ reason: 'feed_gap', n: before.TSLA })
    expect(mqttState('IBM')!.e).toBe('fresh')
    expect((await rest(t, 'AAPL')).stale).toBe('feed_gap')
    expect((await rest(t, 'IBM')).stale).toBeNull()
    // AAPL's next quote is its whole top of book again: fresh, on every output; TSLA waits for one
    quote(a.soup, AAPL, 1100)
    await waitFor(() => c.markers('AAPL').length === 2, 3000, 'AAPL fresh')
    expect(c.of('AAPL').slice(-2).map((e) => e.e)).toEqual(['q', 'fresh'])
    await waitFor(() => mqttState('AAPL')?.e === 'fresh', 3000, 'AAPL fresh on MQTT')
    expect((await rest(t, 'AAPL')).stale).toBeNull()
    expect((await rest(t, 'TSLA')).stale).toBe('feed_gap')

    // 2. A lapped fan-out: TSLA's trade, then far more than the 1,024-slot ring holds in one burst.
    quote(a.soup, TSLA, 3100) // TSLA fresh again first, so the lap is what makes it stale
    await waitFor(() => c.markers('TSLA').length === 2, 3000, 'TSLA fresh')
    const tslaBefore = c.of('TSLA').at(-1)!.n
    trade(a.soup, TSLA, 3100, 9999)
    for (let k = 0; k < 30_000; k++) quote(a.soup, k % 2 === 0 ? AAPL : MSFT, 1200 + (k % 100))
    const lastSeq = quote(a.soup, AAPL, 1300)
    await waitFor(() => t.feeds[0].stats.messages >= lastSeq - 4 - 2000 && c.of('AAPL').at(-1)?.e !== undefined && t.dispatcher.stats.lapped > 0, 10_000, 'the burst through')
    await waitFor(() => c.markers('TSLA').length === 3, 5000, 'TSLA told of the lap')
    expect(c.markers('TSLA')[2]).toBe('stale:lapped')
    expect(c.of('TSLA').at(-1)!.n).toBe(tslaBefore) // named after its last delivered event; its trade was lost here
    await waitFor(() => t.lvc.staleReason(t.symbols.idOf('TSLA')) !== 0, 3000, 'TSLA lapped in the cache behind REST')
    expect((await rest(t, 'TSLA')).stale).toBe('lapped')
    await waitFor(() => mqttState('TSLA')?.reason === 'lapped', 3000, 'TSLA lapped on MQTT')
    expect(c.markers('IBM')).toEqual([]) // never touched by either loss
    expect(mqttStates.filter((e) => e.s === 'IBM').map((e) => e.e)).toEqual(['fresh'])
    // AAPL: every jump its stream makes is explained by a lapped marker just before it, and a quote makes it fresh
    await waitFor(() => c.of('AAPL').at(-1)?.e === 'fresh' || c.of('AAPL').at(-1)?.n === t.lvc.seq[t.symbols.idOf('AAPL')], 5000, 'AAPL caught up')
    expect(c.markers('AAPL')).toContain('stale:lapped')
    expect((await rest(t, 'AAPL')).stale).toBeNull()
    // MSFT's quotes repaired its feed gap inside the burst, and the lap took the feed's fresh marker with it: the
    // reader takes the feed's current word, so MSFT ends fresh, not stuck on a gap the feed has long since revoked
    await waitFor(() => c.markers('MSFT').at(-1) === 'fresh:', 3000, 'MSFT fresh')
    expect((await rest(t, 'MSFT')).stale).toBeNull()
    for (const s of ['AAPL', 'MSFT', 'TSLA', 'IBM']) expectExplained(c.of(s))
    // MQTT never shows a quote older than what preceded the marker it sent
    expect(mqttQuotes.length).toBeGreaterThan(0)
  })
})
