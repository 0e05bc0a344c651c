import { connectAsync } from 'mqtt'
import { unpack } from 'msgpackr'
import { createServer } from 'node:net'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { LastValueCache } from '../cache/last-value-cache.js'
import { SymbolTable } from '../model/symbols.js'
import { SharedSymbols } from '../model/shared-symbols.js'
import { Normalizer, SymbolSequences } from '../normalize/normalizer.js'
import { TickRing } from '../ring/ring-buffer.js'
import { startEmbeddedBroker } from './embedded-broker.js'
import type { EmbeddedBroker } from './embedded-broker.js'
import { MqttPublisher } from './mqtt-publisher.js'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()?.() })

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

describe('embedded broker (aedes, MQTT 3.1.1)', () => {
  it('carries a retained quote from a protocolVersion 4 publisher to a late subscriber, and frees its port on close', async () => {
    const broker: EmbeddedBroker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 })
    cleanups.push(() => broker.close())
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`)

    const shared = new SharedSymbols(16), symbols = new SymbolTable(shared), ring = new TickRing(16), lvc = new LastValueCache(16)
    const norm = new Normalizer(ring, shared, new SymbolSequences(16)), id = norm.locateOf('AAPL', -4, 0)
    symbols.learnUpTo(id) // as the dispatcher does when the KIND_SYMBOL event passes
    const pub = new MqttPublisher({ url: broker.url, nodeId: 'embedded', protocolVersion: 4, ...broker.credentials }, symbols, lvc, pino({ level: 'silent' }))
    cleanups.push(() => pub.stop())
    await pub.start()
    const watch = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 })
    cleanups.push(() => watch.endAsync(true))
    let routed = 0
    watch.on('message', () => { routed++ })
    await watch.subscribeAsync('md/v1/quotes/+')
    for (const bid of [1891200, 1891300]) {
      norm.quote(id, 1_732_619_000_000_000, bid, 100, bid + 100, 200, 0)
      const i = ring.cursor & ring.mask
      lvc.apply(ring, i); pub.offer(ring, i)
    }
    pub.flush()
    // Once the broker has routed the quote, a new subscriber can only get it as the retained value.
    for (let k = 0; k < 300 && routed === 0; k++) await new Promise((r) => setTimeout(r, 10))
    expect(routed).toBe(1)

    const sub = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 })
    cleanups.push(() => sub.endAsync(true))
    const got = new Promise<{ topic: string, payload: Buffer, retain: boolean }>((resolve) => {
      sub.on('message', (topic, payload, packet) => resolve({ topic, payload, retain: packet.retain }))
    })
    await sub.subscribeAsync('md/v1/quotes/+')
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no retained quote within 3 s')), 3000))
    const m = await Promise.race([got, timeout])
    expect(m.topic).toBe('md/v1/quotes/AAPL')
    expect(m.retain).toBe(true)
    expect(unpack(m.payload)).toMatchObject({ e: 'q', s: 'AAPL', n: 2, bp: 1891300, ap: 1891400 })
    expect(pub.stats.connected).toBe(1)

    await sub.endAsync(true)
    await pub.stop()
    await broker.close()
    await broker.close() // idempotent
    expect(await canListen(broker.port)).toBe(true)
  })
  it('lets only tickcast publish: readers cannot publish, plant a will, guess the password or take its client id', async () => {
    const port = await new Promise<number>((r) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)) }) })
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port })
    cleanups.push(() => broker.close())
    expect(broker.port).toBe(port) // a fixed port is honoured
    const pub = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0, clientId: 'tickcast-x-1-abc', ...broker.credentials })
    cleanups.push(() => pub.endAsync(true))
    const reader = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 })
    cleanups.push(() => reader.endAsync(true))
    const seen: string[] = []
    reader.on('message', (topic, payload) => { seen.push(`${topic}=${payload.toString()}`) })
    await reader.subscribeAsync('md/v1/#')

    // a hostile reader: publishes a fake quote, and leaves with a will claiming the node is offline
    const evil = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0, will: { topic: 'md/v1/status/node', payload: Buffer.from('offline'), qos: 0, retain: true } })
    evil.publish('md/v1/quotes/AAPL', 'fake', { retain: true })
    await new Promise((r) => setTimeout(r, 100))
    evil.stream.destroy() // ungraceful: the broker would send the will
    await expect(connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0, username: 'tickcast', password: 'guess' })).rejects.toThrow()
    await expect(connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0, clientId: 'tickcast-x-1-abc' })).rejects.toThrow()
    await pub.publishAsync('md/v1/quotes/MSFT', 'real', { qos: 1 })
    for (let k = 0; k < 100 && seen.length === 0; k++) await new Promise((r) => setTimeout(r, 10))
    await new Promise((r) => setTimeout(r, 200))
    expect(seen).toEqual(['md/v1/quotes/MSFT=real'])
    expect(pub.connected).toBe(true)
  })
})
