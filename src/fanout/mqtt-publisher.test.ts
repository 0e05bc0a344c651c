import { connectAsync } from 'mqtt'
import type { IPublishPacket, MqttClient } from 'mqtt'
import { unpack } from 'msgpackr'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FORMAT_JSON, FORMAT_MSGPACK, writeLastQuote } from '../codec/tick-codec.js'
import type { WireFormat } from '../codec/tick-codec.js'
import { startMosquitto } from '../../test-support/mosquitto.js'
import { Rig } from '../../test-support/mqtt-rig.js'
import { freePort } from '../../test-support/processes.js'
import type { Mosquitto } from '../../test-support/mosquitto.js'
import { MqttPublisher } from './mqtt-publisher.js'
import type { MqttPublisherOptions } from './mqtt-stats.js'

const silent = pino({ level: 'silent' })
interface Received { topic: string, payload: Buffer, packet: IPublishPacket }
interface Sub { client: MqttClient, msgs: Received[] }

let broker: Mosquitto
const cleanups: Array<() => Promise<unknown>> = []

beforeEach(async () => { broker = await startMosquitto() })
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.()
  await broker.stop()
})

async function subscribe(filter: string, opts: { reconnect?: boolean } = {}): Promise<Sub> {
  const client = await connectAsync(broker.url, { protocolVersion: 5, clean: true, reconnectPeriod: opts.reconnect === true ? 100 : 0, connectTimeout: 3000 })
  cleanups.push(() => client.endAsync(true))
  client.on('error', () => {}) // reconnect attempts while the broker is down
  const msgs: Received[] = []
  client.on('message', (topic, payload, packet) => { msgs.push({ topic, payload, packet }) })
  await client.subscribeAsync(filter, { qos: 1 })
  return { client, msgs }
}

async function startPublisher(rig: Rig, opts: Partial<MqttPublisherOptions> = {}): Promise<MqttPublisher> {
  const pub = new MqttPublisher({ url: broker.url, nodeId: 'node-1', reconnectPeriodMs: 100, ...opts }, rig.symbols, rig.lvc, silent)
  cleanups.push(() => pub.stop())
  rig.pub = pub
  await pub.start()
  return pub
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const quotesOf = (msgs: Received[]) => msgs.filter((m) => m.topic.startsWith('md/v1/quotes/'))

/** Decodes a quote payload and checks it field by field against the LVC (and byte for byte against the codec). */
function expectQuoteEqualsLvc(rig: Rig, format: WireFormat, m: Received): void {
  const id = rig.symbols.idOf(m.topic.slice('md/v1/quotes/'.length))
  expect(id).toBeGreaterThanOrEqual(0)
  const q = (format === FORMAT_JSON ? JSON.parse(m.payload.toString('utf8')) : unpack(m.payload)) as Record<string, number | string>
  expect(q.e).toBe('q')
  expect(q.s).toBe(rig.symbols.name[id])
  expect(q.n).toBe(rig.lvc.quoteSeq[id])
  if (format === FORMAT_MSGPACK) {
    expect([q.bp, q.bs, q.ap, q.as, q.px]).toEqual([rig.lvc.bidPrice[id], rig.lvc.bidSize[id], rig.lvc.askPrice[id], rig.lvc.askSize[id], -4])
  } else {
    expect(q.bp).toBe(Number(`${rig.lvc.bidPrice[id]}e-4`))
    expect(q.ap).toBe(Number(`${rig.lvc.askPrice[id]}e-4`))
  }
  const buf = Buffer.alloc(512)
  expect(m.payload.equals(buf.subarray(0, writeLastQuote(format, rig.lvc, rig.symbols, id, buf, 0)))).toBe(true)
}

describe('retained last quote', () => {
  for (const format of [FORMAT_MSGPACK, FORMAT_JSON] as const) {
    it(`reaches a subscriber that connects after the publish (${format === FORMAT_JSON ? 'JSON' : 'msgpack'}, MQTT 5 properties)`, async () => {
      const rig = new Rig(), a = rig.add('AAPL'), m = rig.add('MSFT')
      await startPublisher(rig, { format, quoteExpirySec: 60 })
      const watch = await subscribe('md/v1/quotes/+')
      rig.quote(a, 1891200); rig.quote(m, 4200000); rig.quote(a, 1891300); rig.pub?.flush()
      rig.quote(a, 1891500, 300); rig.pub?.flush()
      // Only once the broker has routed them is a new subscriber really "late" (else it may see them live).
      await waitFor('3 live quotes', () => watch.msgs.length === 3)
      const late = await subscribe('md/v1/quotes/+')
      await waitFor('2 retained quotes', () => late.msgs.length >= 2)
      expect(late.msgs.map((x) => x.topic).sort()).toEqual(['md/v1/quotes/AAPL', 'md/v1/quotes/MSFT'])
      for (const msg of late.msgs) {
        expect(msg.packet.retain).toBe(true)
        expectQuoteEqualsLvc(rig, format, msg)
        const p = msg.packet.properties ?? {}
        expect(p.contentType).toBe(format === FORMAT_JSON ? 'application/json' : 'application/x-msgpack')
        expect(p.payloadFormatIndicator === true).toBe(format === FORMAT_JSON)
        expect(p.messageExpiryInterval).toBeGreaterThan(55) // the broker sends the remaining lifetime
        expect(p.messageExpiryInterval).toBeLessThanOrEqual(60)
      }
      expect(rig.lvc.quoteSeq[a]).toBe(3)
    })
  }
})

describe('conflation and trades', () => {
  it('publishes exactly one quote per dirty symbol per flush, and every trade live (not retained)', async () => {
    const rig = new Rig(), ids = ['AAA', 'BBB', 'CCC'].map((s) => rig.add(s)), sentinel = rig.add('ZZZ')
    const pub = await startPublisher(rig)
    const sub = await subscribe('md/v1/+/+')
    const expected = new Map<number, number[]>(ids.map((id) => [id, []]))
    for (let batch = 0; batch < 2; batch++) {
      for (let k = 0; k < 50; k++) for (const id of ids) rig.quote(id, 1000 + batch * 100 + k)
      rig.trade(ids[0], 5000); rig.trade(ids[0], 5001)
      rig.pub?.flush()
      for (const id of ids) expected.get(id)?.push(rig.lvc.quoteSeq[id])
      // QoS 0 on one connection keeps order: once the sentinel trade arrives, the batch has arrived.
      rig.trade(sentinel, 1); rig.pub?.flush()
      await waitFor('sentinel', () => sub.msgs.filter((m) => m.topic === 'md/v1/trades/ZZZ').length === batch + 1)
    }
    const quotes = quotesOf(sub.msgs)
    expect(quotes.length).toBe(6) // 2 flushes × 3 symbols, not 2 × 150 offers
    for (const id of ids) {
      const mine = quotes.filter((m) => m.topic === `md/v1/quotes/${rig.symbols.name[id]}`).map((m) => (unpack(m.payload) as { n: number }).n)
      expect(mine).toEqual(expected.get(id)) // the latest quote of each batch
    }
    expect(expected.get(ids[0])).toEqual([50, 102]) // AAA's seq also counts its trades
    const trades = sub.msgs.filter((m) => m.topic === 'md/v1/trades/AAA')
    expect(trades.length).toBe(4)
    for (const t of trades) expect(t.packet.retain).toBe(false)
    expect(pub.stats.publishes).toBe(6 + 4 + 2 + 4) // + each symbol's retained state, once on its first data
    expect(pub.stats.skippedDisconnected).toBe(0)
  })
})

describe('per-symbol trading status', () => {
  it('goes live (not retained) on the trades topic as an "st" event, retained on its trading topic, and leaves the retained quote alone', async () => {
    const rig = new Rig(), id = rig.add('HALT')
    await startPublisher(rig)
    const sub = await subscribe('md/v1/+/HALT')
    rig.quote(id, 500); rig.status(id, 72); rig.pub?.flush() // 'H' = halted
    await waitFor('quote, status, trading status and state', () => sub.msgs.length === 4)
    const st = sub.msgs.find((m) => m.topic === 'md/v1/trades/HALT')
    expect(st?.packet.retain).toBe(false)
    expect(unpack(st?.payload ?? Buffer.alloc(0))).toMatchObject({ e: 'st', s: 'HALT', n: 2 })
    const late = await subscribe('md/v1/+/HALT')
    await waitFor('retained quote, trading status and state', () => late.msgs.length === 3)
    const trading = late.msgs.find((m) => m.topic === 'md/v1/trading/HALT')!
    expect(trading.packet.retain).toBe(true)
    expect(trading.payload.equals(st!.payload)).toBe(true) // the same event, kept by the broker
    expectQuoteEqualsLvc(rig, FORMAT_MSGPACK, late.msgs.find((m) => m.topic === 'md/v1/quotes/HALT')!)
    const state = late.msgs.find((m) => m.topic === 'md/v1/state/HALT')!
    expect(state.packet.retain).toBe(true)
    expect(unpack(state.payload)).toMatchObject({ e: 'fresh', s: 'HALT', n: 2 }) // complete, as of the flush
  })
})

describe('invalid symbols', () => {
  it('never become topics: counted, nothing published, nothing retained', async () => {
    const rig = new Rig(), good = rig.add('GOOD')
    const bad = ['BAD1', 'BAD2', 'BAD3', 'BAD4'].map((s) => rig.add(s))
    // SymbolTable.add refuses these names, so inject them the way a corrupted table would carry them.
    const injected = ['A/B', '+', '$SYS', 'X\u0000']
    bad.forEach((id, k) => { rig.symbols.name[id] = injected[k] })
    const pub = await startPublisher(rig)
    const all = await subscribe('#')
    for (const id of bad) { rig.quote(id, 100); rig.trade(id, 100) }
    rig.quote(good, 100); rig.pub?.flush()
    rig.trade(good, 1); rig.pub?.flush() // sentinel: everything before it has been delivered
    await waitFor('sentinel', () => all.msgs.some((m) => m.topic === 'md/v1/trades/GOOD'))
    expect(pub.stats.invalidTopics).toBe(8)
    expect(all.msgs.map((m) => m.topic).sort()).toEqual(['md/v1/quotes/GOOD', 'md/v1/state/GOOD', 'md/v1/status/node-1', 'md/v1/trades/GOOD'])
    expect(pub.stats.publishes).toBe(3)
    const fresh = await subscribe('#')
    await waitFor('retained set', () => fresh.msgs.length >= 3)
    await new Promise((r) => setTimeout(r, 50))
    expect(fresh.msgs.map((m) => m.topic).sort()).toEqual(['md/v1/quotes/GOOD', 'md/v1/state/GOOD', 'md/v1/status/node-1'])
  })
})

describe('node status', () => {
  it('is a retained online after start and offline after stop (stop is idempotent)', async () => {
    const rig = new Rig()
    const watch = await subscribe('md/v1/status/node-1')
    const pub = await startPublisher(rig)
    await waitFor('online routed', () => watch.msgs.length === 1)
    const before = await subscribe('md/v1/status/node-1')
    await waitFor('online', () => before.msgs.length === 1)
    expect(before.msgs[0].payload.toString()).toBe('online')
    expect(before.msgs[0].packet.retain).toBe(true)
    const stopping = pub.stop()
    expect(pub.stop()).toBe(stopping)
    await stopping
    expect(pub.stats.connected).toBe(0)
    await waitFor('offline routed', () => watch.msgs.length === 2)
    expect(watch.msgs[1].payload.toString()).toBe('offline')
    const after = await subscribe('md/v1/status/node-1')
    await waitFor('offline', () => after.msgs.length === 1)
    expect(after.msgs[0].payload.toString()).toBe('offline')
    expect(after.msgs[0].packet.retain).toBe(true)
  })

  it('turns offline through the will when the socket dies ungracefully, then online again on reconnect', async () => {
    const rig = new Rig()
    const pub = await startPublisher(rig, { keepaliveSec: 1 })
    const sub = await subscribe('md/v1/status/node-1')
    await waitFor('online', () => sub.msgs.length === 1)
    const t0 = Date.now()
    ;(pub.connection as unknown as { client: MqttClient }).client.stream.destroy() // no DISCONNECT: the broker fires the LWT
    await waitFor('LWT offline', () => sub.msgs.some((m) => m.payload.toString() === 'offline'), 3000)
    expect(Date.now() - t0).toBeLessThan(1500) // within 1.5 × keepalive
    await waitFor('online again', () => sub.msgs.length >= 3 && sub.msgs[sub.msgs.length - 1].payload.toString() === 'online')
    expect(sub.msgs.map((m) => m.payload.toString())).toEqual(['online', 'offline', 'online'])
    expect(pub.stats.reconnects).toBe(1)
    expect(pub.stats.connected).toBe(1)
  })
})

describe('broker outage', () => {
  it('after a SIGKILL and restart on the same port: republishes every last value, replays nothing stale', async () => {
    const rig = new Rig(), N = 200
    const ids: number[] = []
    for (let k = 0; k < N; k++) ids.push(rig.add(`S${k}`))
    const pub = await startPublisher(rig)
    const across = await subscribe('md/v1/#', { reconnect: true })
    for (let round = 0; round < 10; round++) { for (const id of ids) rig.quote(id, 10_000 + round); rig.pub?.flush() }
    await waitFor('pre-outage quotes', () => quotesOf(across.msgs).length === 10 * N)

    await broker.kill()
    await waitFor('publisher sees the outage', () => pub.stats.connected === 0)
    for (let round = 0; round < 5; round++) { for (const id of ids) rig.quote(id, 20_000 + round); rig.trade(ids[round], 7); rig.pub?.flush() }
    expect(pub.stats.skippedDisconnected).toBe(5 * N + 5)
    const seqAtRepublish = Float64Array.from(rig.lvc.quoteSeq)
    const mark = across.msgs.length
    const publishesBefore = pub.stats.publishes

    await broker.restart()
    await waitFor('publisher reconnected', () => pub.stats.connected === 1 && pub.stats.reconnects === 1)
    expect(pub.stats.publishes - publishesBefore).toBe(2 * N) // the LVC's quote and state, once per symbol; no queued backlog

    await waitFor('the surviving subscriber has every symbol again', () => new Set(quotesOf(across.msgs.slice(mark)).map((m) => m.topic)).size === N)
    const afterOutage = across.msgs.slice(mark)
    expect(afterOutage.filter((m) => m.topic.startsWith('md/v1/trades/'))).toEqual([]) // trades made while down are gone
    for (const m of afterOutage) {
      if (!m.topic.startsWith('md/v1/quotes/')) continue
      const q = unpack(m.payload) as { s: string, n: number }
      expect(q.n).toBe(seqAtRepublish[rig.symbols.idOf(q.s)]) // never an older (queued) quote
    }
    // The broker has processed the whole republish (the surviving subscriber saw it): now a fresh one.
    const fresh = await subscribe('md/v1/quotes/+')
    await waitFor('retained value of every symbol', () => fresh.msgs.length >= N)
    const seen = new Set(fresh.msgs.map((m) => m.topic))
    expect(seen.size).toBe(N) // 100 % of symbols
    for (const m of fresh.msgs) { expect(m.packet.retain).toBe(true); expectQuoteEqualsLvc(rig, FORMAT_MSGPACK, m) }
  })
})

describe('backpressure', () => {
  it('keeps quotes dirty, drops and counts trades, and still converges to the LVC', async () => {
    const rig = new Rig(), N = 40
    const ids: number[] = []
    for (let k = 0; k < N; k++) ids.push(rig.add(`B${k}`))
    // 0 bytes: anything buffered in the socket counts as backed up, so every batch hits the limit.
    const pub = await startPublisher(rig, { maxBufferedBytes: 0 })
    for (let round = 0; round < 5; round++) {
      for (const id of ids) { rig.quote(id, 100 + round); rig.trade(id, 1) }
      rig.pub?.flush()
    }
    expect(pub.stats.conflated).toBeGreaterThan(0)
    expect(pub.stats.tradesDropped).toBeGreaterThan(0)
    const fresh = await subscribe('md/v1/quotes/+')
    await waitFor('every symbol converged to its latest quote', () => {
      const latest = new Map<string, number>()
      for (const m of fresh.msgs) latest.set(m.topic, (unpack(m.payload) as { n: number }).n)
      return latest.size === N && ids.every((id) => latest.get(`md/v1/quotes/${rig.symbols.name[id]}`) === rig.lvc.quoteSeq[id])
    })
    expect(pub.stats.publishes).toBeLessThan(5 * N * 2) // conflated: fewer writes than offers
  })
})

describe('lifecycle', () => {
  it('start() rejects with a clear error when no broker answers, and stop() still resolves', async () => {
    const rig = new Rig(), port = await freePort()
    const pub = new MqttPublisher({ url: `mqtt://u:secret@127.0.0.1:${port}`, nodeId: 'n1', connectTimeoutMs: 300, reconnectPeriodMs: 50 }, rig.symbols, rig.lvc, silent)
    cleanups.push(() => pub.stop())
    const err = await pub.start().then(() => null, (e: unknown) => e as Error)
    expect(err?.message).toMatch(/^MQTT_CONNECT: no CONNACK from mqtt:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/? within 300 ms/)
    expect(err?.message).not.toContain('secret')
    await pub.stop()
    expect(pub.stats.connected).toBe(0)
  })

  it('refuses a wildcard prefix or node id at construction', () => {
    const rig = new Rig()
    expect(() => new MqttPublisher({ url: broker.url, nodeId: 'n1', topicPrefix: 'md/#' }, rig.symbols, rig.lvc, silent)).toThrow(/MQTT_CONFIG/)
    expect(() => new MqttPublisher({ url: broker.url, nodeId: 'a/b' }, rig.symbols, rig.lvc, silent)).toThrow(/MQTT_CONFIG/)
  })
})
