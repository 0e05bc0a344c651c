// MQTT for downstream systems against a real mosquitto: n and t as MQTT 5 user properties (read by mosquitto_sub too),
// the retained trading status, the retained last trade (by option), QoS 1 trades bounded by the broker's Receive
// Maximum, shared subscriptions and their sequencing caveat, and the embedded broker on a chosen port.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import { connectAsync } from 'mqtt'
import type { IPublishPacket, MqttClient } from 'mqtt'
import { unpack } from 'msgpackr'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { startMosquitto } from '../../test-support/mosquitto.js'
import type { Mosquitto } from '../../test-support/mosquitto.js'
import { Rig } from '../../test-support/mqtt-rig.js'
import { freePort } from '../../test-support/processes.js'
import { waitFor } from '../../test-support/wait-for.js'
import { MqttPublisher } from './mqtt-publisher.js'
import type { MqttPublisherOptions } from './mqtt-stats.js'

const silent = pino({ level: 'silent' })
interface Received { topic: string; payload: Buffer; packet: IPublishPacket }
interface Sub { client: MqttClient; msgs: Received[] }
type Event = { e: string; s: string; n: number; t: number }

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()?.() })

async function broker(extraConfig = ''): Promise<Mosquitto> {
  const b = await startMosquitto({ extraConfig })
  cleanups.push(() => b.stop())
  return b
}

async function subscribe(b: Mosquitto, filter: string, qos: 0 | 1 = 1): Promise<Sub> {
  const client = await connectAsync(b.url, { protocolVersion: 5, clean: true, reconnectPeriod: 0, connectTimeout: 3000 })
  cleanups.push(() => client.endAsync(true))
  const msgs: Received[] = []
  client.on('message', (topic, payload, packet) => { msgs.push({ topic, payload, packet }) })
  await client.subscribeAsync(filter, { qos })
  return { client, msgs }
}

async function publisher(b: Mosquitto, rig: Rig, opts: Partial<MqttPublisherOptions> = {}): Promise<MqttPublisher> {
  const pub = new MqttPublisher({ url: b.url, nodeId: 'node-1', reconnectPeriodMs: 100, ...opts }, rig.symbols, rig.lvc, silent)
  cleanups.push(() => pub.stop())
  rig.pub = pub
  await pub.start()
  return pub
}

/** `mosquitto_sub -V mqttv5` printing topic, retain flag, QoS and user properties of `count` messages. */
function mosquittoSub(b: Mosquitto, filter: string, count: number): { ready: Promise<void>; lines: Promise<string[]> } {
  const p = spawn('mosquitto_sub', ['-V', 'mqttv5', '-h', b.host, '-p', String(b.port), '-q', '1', '-t', filter, '-C', String(count), '-W', '8', '-F', '%t|%r|%q|%P'])
  cleanups.push(async () => { p.kill() })
  let out = ''
  p.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const lines = new Promise<string[]>((resolve) => p.on('exit', () => resolve(out.trim().split('\n'))))
  // mosquitto_sub says nothing when subscribed: give it the time a local SUBACK takes, generously
  return { ready: new Promise((r) => setTimeout(r, 300)), lines }
}

/** the contract's schema of these user properties (asyncapi.json components.schemas.MqttUserProperties) */
const ajv = new Ajv({ strict: false, allErrors: true })
ajv.addSchema(JSON.parse(readFileSync(new URL('../../asyncapi.json', import.meta.url), 'utf8')) as object, 'asyncapi')
const userPropertiesValid = ajv.getSchema('asyncapi#/components/schemas/MqttUserProperties')!

const props = (m: Received): Record<string, unknown> => (m.packet.properties?.userProperties ?? {}) as Record<string, unknown>

describe('MQTT 5 user properties', () => {
  it('carry each event\'s per-symbol n and event time t, equal to the payload\'s, on every kind (mqtt.js and mosquitto_sub)', async () => {
    const b = await broker(), rig = new Rig(), id = rig.add('UPRP')
    await publisher(b, rig)
    const sub = await subscribe(b, 'md/v1/+/UPRP')
    const cli = mosquittoSub(b, 'md/v1/+/UPRP', 5)
    await cli.ready
    rig.quote(id, 100); rig.trade(id, 101); rig.status(id, 84); rig.pub?.flush() // 'T' = trading
    await waitFor(() => sub.msgs.length === 5, 5000, 'quote, trade, status event, trading status, state')
    for (const m of sub.msgs) {
      const ev = unpack(m.payload) as Event
      expect(props(m), m.topic).toEqual({ n: String(ev.n), t: String(ev.t) })
      expect(userPropertiesValid(props(m)), m.topic).toBe(true)
    }
    expect(sub.msgs.map((m) => `${m.topic} n=${props(m).n as string}`).sort()).toEqual([
      'md/v1/quotes/UPRP n=1', 'md/v1/state/UPRP n=3', 'md/v1/trades/UPRP n=2', 'md/v1/trades/UPRP n=3', 'md/v1/trading/UPRP n=3'])
    const lines = (await cli.lines).sort()
    expect(lines).toHaveLength(5)
    expect(lines[0]).toBe(`md/v1/quotes/UPRP|0|0|n:1 t:${props(sub.msgs.find((m) => m.topic === 'md/v1/quotes/UPRP')!).t as string}`)
    for (const l of lines) expect(l).toMatch(/^md\/v1\/\w+\/UPRP\|0\|0\|n:\d+ t:\d{16}$/)
  })
})

describe('retained trading status', () => {
  it('tells a late subscriber that a symbol is halted, then that it trades again; MQTT 3.1.1 too (no properties)', async () => {
    for (const protocolVersion of [5, 4] as const) {
      const b = await broker(), rig = new Rig(), id = rig.add('HLT'), other = rig.add('NOST')
      await publisher(b, rig, { protocolVersion })
      const watch = await subscribe(b, 'md/v1/trading/+')
      rig.quote(id, 10); rig.quote(other, 20); rig.status(id, 72); rig.pub?.flush() // 'H' halted
      await waitFor(() => watch.msgs.length === 1, 5000, 'halt routed')
      const late = await subscribe(b, 'md/v1/trading/+')
      await waitFor(() => late.msgs.length === 1, 5000, 'retained halt')
      expect(late.msgs[0].packet.retain).toBe(true)
      expect(late.msgs[0].topic).toBe('md/v1/trading/HLT') // a symbol without a status has no trading topic
      expect(unpack(late.msgs[0].payload)).toMatchObject({ e: 'st', s: 'HLT', n: 2 }) // n per symbol: its quote was 1
      expect(late.msgs[0].packet.properties?.userProperties === undefined).toBe(protocolVersion === 4)
      rig.status(id, 84); rig.pub?.flush() // 'T' trading again
      await waitFor(() => watch.msgs.length === 2, 5000, 'resume routed')
      const later = await subscribe(b, 'md/v1/trading/HLT')
      await waitFor(() => later.msgs.length === 1, 5000, 'retained resume')
      expect(unpack(later.msgs[0].payload)).toEqual(unpack(watch.msgs[1].payload))
      expect((unpack(later.msgs[0].payload) as Event).n).toBe(3)
      await stopAll(cleanups.splice(0).reverse().map((stop) => ({ stop })))
    }
  })
})

describe('retained last trade (--mqtt-retain-last-trade)', () => {
  it('off: a late subscriber gets no trade; on: the last trade, never a status event, and the latest after an outage', async () => {
    const b = await broker(), rig = new Rig(), id = rig.add('LTR')
    const pub = await publisher(b, rig, { retainLastTrade: true })
    const live = await subscribe(b, 'md/v1/trades/LTR')
    rig.trade(id, 500); rig.trade(id, 501); rig.status(id, 72); rig.pub?.flush()
    await waitFor(() => live.msgs.length === 3, 5000, 'two trades and a status event')
    expect(live.msgs.map((m) => m.packet.retain)).toEqual([false, false, false]) // live copies never carry the flag
    const late = await subscribe(b, 'md/v1/trades/LTR')
    await waitFor(() => late.msgs.length === 1, 5000, 'the retained last trade')
    expect(late.msgs[0].packet.retain).toBe(true)
    expect(unpack(late.msgs[0].payload)).toMatchObject({ e: 't', s: 'LTR', n: 2 }) // the trade, not the later status

    // an outage: trades made while down are skipped live; the reconnect republishes the LVC's last trade once
    await b.kill()
    await waitFor(() => pub.stats.connected === 0, 5000, 'outage seen')
    rig.trade(id, 600); rig.trade(id, 601); rig.pub?.flush()
    await b.restart() // persistence off: the broker forgot every retained message
    await waitFor(() => pub.stats.connected === 1, 5000, 'reconnected')
    const after = await subscribe(b, 'md/v1/trades/LTR')
    await waitFor(() => after.msgs.length === 1, 5000, 'the retained latest trade')
    expect(unpack(after.msgs[0].payload)).toMatchObject({ e: 't', n: 5, p: 601 })
    expect(after.msgs[0].packet.retain).toBe(true)

    const b2 = await broker(), rig2 = new Rig(), id2 = rig2.add('NORT')
    await publisher(b2, rig2)
    const watch = await subscribe(b2, 'md/v1/trades/NORT')
    rig2.trade(id2, 1); rig2.pub?.flush()
    await waitFor(() => watch.msgs.length === 1, 5000, 'trade routed')
    const none = await subscribe(b2, 'md/v1/trades/NORT')
    await new Promise((r) => setTimeout(r, 200))
    expect(none.msgs).toEqual([])
  })
})

describe('QoS 1 trades (--mqtt-trades-qos 1)', () => {
  it('never has more unacknowledged than the broker\'s Receive Maximum: the excess is dropped and counted, the rest arrive at QoS 1', async () => {
    const b = await broker('max_inflight_messages 5'), rig = new Rig(), id = rig.add('QOS')
    const pub = await publisher(b, rig, { tradesQos: 1 })
    const sub = await subscribe(b, 'md/v1/trades/QOS', 1)
    const outgoing = (): number => Object.keys((pub.connection as unknown as { client: { outgoing: object } }).client.outgoing).length
    // one burst in one turn: no PUBACK can arrive in between
    for (let k = 0; k < 200; k++) rig.trade(id, 1000 + k)
    rig.pub?.flush()
    expect(pub.stats.readInflight()).toBe(5)
    expect(outgoing()).toBe(5) // what mqtt.js holds in memory for resending
    expect(pub.stats.tradesDropped).toBe(195)
    await waitFor(() => pub.stats.readInflight() === 0, 5000, 'every PUBACK')
    await waitFor(() => sub.msgs.length === 5, 5000, 'the five sent')
    expect(sub.msgs.map((m) => (unpack(m.payload) as Event).n)).toEqual([1, 2, 3, 4, 5])
    expect(sub.msgs.every((m) => m.packet.qos === 1)).toBe(true)
    // paced under the window: nothing is dropped and every trade arrives
    for (let k = 0; k < 40; k++) {
      rig.trade(id, 2000 + k); rig.pub?.flush()
      await waitFor(() => pub.stats.readInflight() === 0, 5000, 'PUBACK')
    }
    await waitFor(() => sub.msgs.length === 45, 5000, 'the paced trades')
    expect(pub.stats.tradesDropped).toBe(195)
    const ns = sub.msgs.slice(5).map((m) => (unpack(m.payload) as Event).n)
    expect(ns).toEqual(Array.from({ length: 40 }, (_, k) => 201 + k))
  })
})

describe('shared subscriptions', () => {
  it('split a topic\'s messages between the group\'s members, each exactly once: per-member n has gaps by design', async () => {
    const b = await broker(), rig = new Rig(), id = rig.add('SHR')
    await publisher(b, rig, { tradesQos: 1 })
    const members = [await subscribe(b, '$share/workers/md/v1/trades/+'), await subscribe(b, '$share/workers/md/v1/trades/+')]
    for (let k = 0; k < 60; k++) { rig.trade(id, 100 + k); rig.pub?.flush(); if (k % 5 === 4) await new Promise((r) => setTimeout(r, 5)) }
    await waitFor(() => members[0].msgs.length + members[1].msgs.length === 60, 5000, 'every trade delivered to the group')
    const ns = members.map((m) => m.msgs.map((x) => (unpack(x.payload) as Event).n))
    expect([...ns[0], ...ns[1]].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, k) => k + 1)) // once each
    for (const mine of ns) {
      expect(mine.length).toBeGreaterThan(0)
      expect(mine.some((n, k) => k > 0 && n !== mine[k - 1] + 1)).toBe(true) // a gap checker would fire here: per member, n is not contiguous
    }
  })
})

describe('embedded broker port (--mqtt-embedded-port)', () => {
  it('listens where it is told on loopback, and subscribers there receive the retained quotes', async () => {
    const running: Stoppable[] = []
    cleanups.push(() => stopAll(running))
    const port = await freePort('127.0.0.1')
    const sim = await simulator(running, 200)
    const t = await tickcast(running, sim.port, {}, ['--mqtt-url', '', '--mqtt-embedded-port', String(port)])
    await waitFor(() => t.symbols.size === 30, 5000, 'the directory')
    const c = await connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000 })
    cleanups.push(() => c.endAsync(true))
    const got: string[] = []
    c.on('message', (topic) => { got.push(topic) })
    await c.subscribeAsync('md/v1/quotes/+')
    await waitFor(() => got.length > 0, 5000, 'a quote from the embedded broker')
    expect(got[0]).toMatch(/^md\/v1\/quotes\/[A-Z]/)
  })
})
