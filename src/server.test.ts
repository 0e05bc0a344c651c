// End to end through the real pipeline: simulator (real SoupBinTCP server) → TCP → ingest → ring → dispatcher →
// real uWS WebSocket clients and a real mosquitto broker.
import mqtt from 'mqtt'
import { unpack } from 'msgpackr'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startSimulator } from '../feeds/sim/simulator.js'
import type { RunningSimulator } from '../feeds/sim/simulator.js'
import { loadConfig } from './config.js'
import { writeQuote, writeSymbolDirectory, writeTrade } from '../feeds/native-encoder.js'
import { SoupServer } from '../feeds/soup-server.js'
import type { EmbeddedSimulatorOptions } from './embedded-feed.js'
import { createLogger } from './log.js'
import { startTickcast } from './server.js'
import type { Tickcast } from './server.js'
import { startInProcessSimulator } from '../test-support/embedded-simulator.js'
import { mosquittoAvailable, startMosquitto } from '../test-support/mosquitto.js'
import { startTcpProxy } from '../test-support/tcp-proxy.js'
import { sleep, waitFor } from '../test-support/wait-for.js'

type Event = Record<string, unknown> & { e: string; s: string; n: number }

const running: Array<{ stop(): Promise<unknown> }> = []
afterEach(async () => { for (const r of running.splice(0).reverse()) await r.stop() })

async function server(flags: string[]): Promise<Tickcast> {
  const cli = loadConfig(['--port', '0', '--log-level', 'silent', ...flags], {})
  if (cli.kind !== 'run') throw new Error('bad test config')
  const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
  running.push(t)
  return t
}

async function simulator(rate: number, symbols = 50): Promise<RunningSimulator> {
  const sim = await startSimulator({ port: 0, rate, symbols, seed: 7, directoryEverySec: 0 })
  running.push({ stop: () => sim.stop(0) })
  return sim
}

/** A WebSocket client that records data events (arrays) and control replies (objects) in arrival order. */
class Client {
  readonly events: Event[] = []
  readonly control: Array<Record<string, unknown>> = []
  /** text data frames exactly as received */
  readonly rawText: string[] = []
  readonly ws: WebSocket
  closeCode = 0
  constructor(url: string, readonly format: 'json' | 'msgpack') {
    this.ws = new WebSocket(`${url}?format=${format}`)
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      const m = isBinary ? unpack(data) : JSON.parse(data.toString())
      if (Array.isArray(m)) { this.events.push(...(m as Event[])); if (!isBinary) this.rawText.push(data.toString()) } else this.control.push(m)
    })
    this.ws.on('close', (code) => { this.closeCode = code })
    running.push({ stop: async () => { this.ws.terminate() } })
  }
  opened(): Promise<void> { return new Promise((r, j) => { this.ws.once('open', () => r()); this.ws.once('error', j) }) }
  send(m: object): void { this.ws.send(JSON.stringify(m)) }
  of(symbol: string): Event[] { return this.events.filter((e) => e.s === symbol) }
}

/** Every symbol's stream starts with one snapshot and then counts up by exactly one. */
function expectSnapshotThenContiguous(events: Event[]): Map<string, number> {
  const last = new Map<string, number>()
  for (const e of events) {
    const prev = last.get(e.s)
    if (prev === undefined) expect(e.e, `first event of ${e.s}`).toBe('snap')
    else expect(e.n, `${e.s} after ${prev}`).toBe(prev + 1)
    last.set(e.s, e.n)
  }
  return last
}

describe('tickcast end to end', () => {
  it('refuses to boot with no feed when no simulator starter is handed in (src/ never imports feeds/)', async () => {
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none'], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    await expect(startTickcast(cli.config, createLogger('silent'), { processMetrics: false })).rejects.toMatchObject({ code: 'NO_FEED' })
  })

  it('starts the simulator it is handed when no feed is configured, and stops it with the server', async () => {
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--sim-symbols', '5', '--sim-rate', '500'], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    const asked: EmbeddedSimulatorOptions[] = []
    let stopped = 0
    const t = await startTickcast(cli.config, createLogger('silent'), {
      processMetrics: false,
      startSimulator: async (o) => { asked.push(o); const sim = await startInProcessSimulator(o); return { port: sim.port, stop: () => { stopped++; return sim.stop() } } },
    })
    running.push(t)
    await waitFor(() => t.symbols.size === 5, 5000, 'the simulated directory')
    expect(asked).toEqual([expect.objectContaining({ port: 0, symbols: 5, rate: 500 })])
    expect(t.simulatorPort).toBeGreaterThan(0)
    await t.stop()
    expect(stopped).toBe(1)
  })

  it('serves json, msgpack and pattern subscribers a snapshot then gap-free per-symbol sequences; unsubscribe stops them', async () => {
    const sim = await simulator(20_000)
    const t = await server(['--feed', `sim=native:tcp://127.0.0.1:${sim.port}`, '--mqtt-url', 'none'])
    await waitFor(() => t.symbols.size === 50, 5000, 'the directory')
    const json = new Client(t.url, 'json'), mp = new Client(t.url, 'msgpack'), pat = new Client(t.url, 'json')
    await Promise.all([json.opened(), mp.opened(), pat.opened()])
    const busy = t.symbols.name.slice(0, 3)
    json.send({ op: 'subscribe', symbols: busy, id: 'j' })
    mp.send({ op: 'subscribe', symbols: busy, id: 'm' })
    const prefix = busy[0][0]
    pat.send({ op: 'subscribe', symbols: [`${prefix}*`], id: 'p' })
    await waitFor(() => busy.every((s) => json.of(s).length > 20 && mp.of(s).length > 20), 10_000, 'updates for every subscribed symbol')
    for (const c of [json, mp, pat]) expectSnapshotThenContiguous(c.events)
    expect(json.control[0]).toMatchObject({ type: 'subscribed', id: 'j', symbols: busy })
    expect(pat.control[0]).toMatchObject({ type: 'subscribed', patterns: [`${prefix}*`] })
    const patternSymbols = new Set(pat.events.map((e) => e.s))
    expect([...patternSymbols].every((s) => s.startsWith(prefix))).toBe(true)
    expect(patternSymbols.has(busy[0])).toBe(true)
    // msgpack carries mantissa + exponent; json carries the same value as an exact decimal
    const q = mp.events.find((e) => e.e === 'q')!
    const twin = json.events.find((e) => e.s === q.s && e.n === q.n)
    if (twin) expect(String(twin.bp)).toBe(String(Number(`${q.bp}e${q.px}`)))

    json.send({ op: 'unsubscribe', symbols: busy, id: 'u' })
    await waitFor(() => json.control.some((c) => c.type === 'unsubscribed'), 2000, 'unsubscribe ack')
    await sleep(50) // frames already in flight may still land
    const seen = json.events.length
    await sleep(400)
    expect(json.events.length).toBe(seen)
    expect(mp.events.length).toBeGreaterThan(0)
  })

  it('keeps every per-symbol sequence gap-free while the feed connection is cut mid-frame again and again', async () => {
    const sim = await simulator(20_000, 20)
    const proxy = await startTcpProxy(sim.port) // the cuts happen on the network, between feed and server
    running.push({ stop: () => proxy.close() })
    const t = await server(['--feed', `sim=native:tcp://127.0.0.1:${proxy.port}`, '--mqtt-url', 'none'])
    await waitFor(() => t.symbols.size === 20, 5000, 'the directory')
    const c = new Client(t.url, 'json')
    await c.opened()
    c.send({ op: 'subscribe', symbols: ['*'], id: 'all' })
    const feed = t.feeds[0].stats
    for (let k = 1; k <= 5; k++) {
      await waitFor(() => feed.loggedIn === 1 && proxy.connectionCount === 1, 5000, 'feed logged in')
      await sleep(150)
      await proxy.cutMidFrame(1 + k * 7)
    }
    await waitFor(() => feed.loggedIn === 1 && feed.reconnects >= 5, 10_000, 'five reconnects')
    await sleep(300)
    expectSnapshotThenContiguous(c.events)
    expect(feed.missed).toBe(0)
    expect(feed.decodeErrors.reduce((a, b) => a + b, 0)).toBe(0)
    const total = c.events.filter((e) => e.e !== 'snap').length
    expect(total).toBeGreaterThan(1000)
  })

  it('delivers prices with up to 8 decimals exactly to JSON and msgpack clients', async () => {
    const soup = new SoupServer({ sessionId: 'EXACT' })
    const port = await soup.listen()
    running.push({ stop: () => soup.close() })
    const b = Buffer.alloc(64)
    const ts = 1_732_619_000_123_456
    soup.append(b, 0, writeSymbolDirectory(b, 0, 1, ts, 0, 'BTC-USD', -8, -8, 1, 1))
    const t = await server(['--feed', `x=native:tcp://127.0.0.1:${port}`, '--mqtt-url', 'none'])
    await waitFor(() => t.symbols.size === 1, 5000, 'the directory')
    const json = new Client(t.url, 'json'), mp = new Client(t.url, 'msgpack')
    await Promise.all([json.opened(), mp.opened()])
    json.send({ op: 'subscribe', symbols: ['BTC-USD'] }); mp.send({ op: 'subscribe', symbols: ['BTC-USD'] })
    await waitFor(() => json.events.length === 1 && mp.events.length === 1, 2000, 'snapshots')
    const cases: Array<[number, string]> = [
      [1, '0.00000001'], [12345, '0.00012345'], [987_654_321_098_765, '9876543.21098765'], [4_210_000_000, '42.1'], [100_000_000, '1'],
    ]
    for (const [m] of cases) soup.append(b, 0, writeQuote(b, 0, 1, ts, 0, 0, m, 123_456_789, m + 1, 1))
    soup.append(b, 0, writeTrade(b, 0, 1, ts, 0, 0x53, 12345, 5, 77))
    await waitFor(() => json.events.length === 7 && mp.events.length === 7, 5000, 'all updates')
    expect(t.feeds[0].stats.decodeErrors.reduce((a, b) => a + b, 0)).toBe(0)
    const texts: string[] = []
    for (const [k, [m, text]] of cases.entries()) {
      const e = json.events[k + 1]
      // the JSON text carries the exact decimal (not a float rendering), and it parses to that number
      expect(json.rawText.join('')).toContain(`"bp":${text},"bs":1.23456789`)
      expect(e.bp).toBe(Number(text))
      expect(e.bs).toBe(1.23456789)
      expect(mp.events[k + 1]).toMatchObject({ bp: m, ap: m + 1, px: -8, bs: 123_456_789, qx: -8 })
      texts.push(text)
    }
    expect(json.events[6]).toMatchObject({ e: 't', p: 0.00012345, q: 5e-8, side: 'S', id: 77 })
    const snap = await (await fetch(`http://127.0.0.1:${t.port}/v1/snapshot/BTC-USD`)).text()
    expect(snap).toContain('"bp":1,"bs":1.23456789')
    expect(snap).toContain('"p":0.00012345,"q":0.00000005')
    expect(texts).toHaveLength(cases.length)
  })

  it.skipIf(!mosquittoAvailable() && !process.env.CI)('publishes retained last quotes to a real mosquitto that a late subscriber receives', async () => {
    const broker = await startMosquitto()
    running.push(broker)
    const sim = await simulator(2_000, 10)
    const t = await server(['--feed', `sim=native:tcp://127.0.0.1:${sim.port}`, '--mqtt-url', broker.url, '--mqtt-format', 'json'])
    await waitFor(() => (t.mqtt?.stats.publishes ?? 0) > 200, 10_000, 'MQTT publishes')
    await t.feeds[0].stop() // freeze the market so the retained values are final
    await sleep(200)
    const sub = mqtt.connect(broker.url, { protocolVersion: 5 })
    running.push({ stop: () => sub.endAsync() })
    const retained = new Map<string, Event>()
    sub.on('message', (topic, payload, packet) => { if (packet.retain && topic.includes('/quotes/')) retained.set(topic, JSON.parse(payload.toString())) })
    await sub.subscribeAsync('md/v1/quotes/+')
    await waitFor(() => retained.size === t.symbols.size, 5000, 'a retained quote per symbol')
    for (const [topic, q] of retained) {
      const symbol = topic.split('/').at(-1)!
      const snap = JSON.parse(await (await fetch(`http://127.0.0.1:${t.port}/v1/snapshot/${symbol}`)).text())
      expect([q.s, q.bp, q.bs, q.ap, q.as]).toEqual([symbol, snap.bp, snap.bs, snap.ap, snap.as])
    }
  })
})
