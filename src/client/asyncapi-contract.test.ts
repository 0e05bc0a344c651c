// The AsyncAPI contract (asyncapi.json): it parses with 0 errors, and real messages from a running server match it,
// stale/fresh markers included (a real feed outage: the feed line is held silent, then released).
import { readFileSync } from 'node:fs'
import { Parser } from '@asyncapi/parser'
import { Ajv } from 'ajv'
import mqtt from 'mqtt'
import { unpack } from 'msgpackr'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as errors from '../errors.js'
import { STATUS_HALTED } from '../feed/decoders/native.js'
import { writeTradingStatus } from '../../feeds/native-encoder.js'
import { quoteTopicFor, stateTopicFor, statusTopicFor, tradeTopicFor, tradingTopicFor } from '../fanout/mqtt-topics.js'
import { waitFor } from '../../test-support/wait-for.js'
import { startTcpProxy } from '../../test-support/tcp-proxy.js'
import { decodeMsgpack } from './msgpack-decode.js'
import { restSnapshot, simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'

process.env.SCARF_ANALYTICS = 'false'
const DOC_TEXT = readFileSync(new URL('../../asyncapi.json', import.meta.url), 'utf8')
const DOC = JSON.parse(DOC_TEXT) as {
  channels: Record<string, { address: string; 'x-close-codes'?: Record<string, string> }>
  components: { schemas: Record<string, { enum?: string[]; examples?: unknown[] }> }
}

const running: Stoppable[] = []
afterEach(() => stopAll(running))

const ajv = new Ajv({ strict: false, allErrors: true })
ajv.addSchema(DOC, 'asyncapi')
function check(schema: string, value: unknown): string[] {
  const v = ajv.getSchema('asyncapi#/components/schemas/' + schema)
  if (!v) throw new Error('no schema ' + schema)
  return v(value) ? [] : [`${schema}: ${JSON.stringify(value)} → ${ajv.errorsText(v.errors)}`]
}

const EVENT_SCHEMA: Record<string, string> = { q: 'Quote', t: 'Trade', st: 'Status', snap: 'Snapshot', stale: 'Stale', fresh: 'Fresh' }
const REPLY_SCHEMA: Record<string, string> = { subscribed: 'Subscribed', unsubscribed: 'Unsubscribed', pong: 'Pong', error: 'Error' }

type Ev = Record<string, unknown>
/**
 * The client's rule on one connection's events: per symbol, `last` = n of its latest snapshot, update or marker;
 * an update must carry last + 1, a fresh marker last, a stale marker last or more (a jump it explains).
 */
function sequenceBreaks(events: readonly Ev[]): string[] {
  const last = new Map<string, number>(), breaks: string[] = []
  for (const e of events) {
    const s = e.s as string, n = e.n as number, prev = last.get(s)
    if (e.e === 'snap') { last.set(s, n); continue }
    const ok = prev !== undefined && (e.e === 'stale' ? n >= prev : e.e === 'fresh' ? n === prev : n === prev + 1)
    if (!ok) breaks.push(`${s}: ${e.e as string} n=${n} after ${prev}`)
    last.set(s, n)
  }
  return breaks
}

describe('AsyncAPI document', () => {
  it('parses with @asyncapi/parser without errors and lists every channel and operation', async () => {
    const { document, diagnostics } = await new Parser().parse(DOC_TEXT)
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => d.message)).toEqual([])
    expect(document!.channels().all().map((c) => c.address()).sort())
      .toEqual(['/v1/stream', 'md/v1/quotes/{symbol}', 'md/v1/state/{symbol}', 'md/v1/status/{nodeId}', 'md/v1/trades/{symbol}', 'md/v1/trading/{symbol}'])
    expect(document!.operations().all().length).toBe(8)
  })

  it('names every control error code and close code tickcast defines, and the MQTT topics it builds', () => {
    const errCodes = Object.entries(errors).filter(([k]) => k.startsWith('ERR_')).map(([, v]) => v).sort()
    expect([...DOC.components.schemas.ErrorCode.enum!].sort()).toEqual(errCodes)
    const closeCodes = Object.entries(errors).filter(([k]) => k.startsWith('CLOSE_')).map(([, v]) => String(v)).sort()
    expect(Object.keys(DOC.channels.stream['x-close-codes']!).sort()).toEqual(closeCodes)
    expect(quoteTopicFor('md/v1', 'BRK.B')).toBe(DOC.channels.quotes.address.replace('{symbol}', 'BRK.B'))
    expect(tradeTopicFor('md/v1', 'AAPL')).toBe(DOC.channels.trades.address.replace('{symbol}', 'AAPL'))
    expect(stateTopicFor('md/v1', 'AAPL')).toBe(DOC.channels.state.address.replace('{symbol}', 'AAPL'))
    expect(tradingTopicFor('md/v1', 'AAPL')).toBe(DOC.channels.trading.address.replace('{symbol}', 'AAPL'))
    expect(statusTopicFor('md/v1', 'node-1')).toBe(DOC.channels.status.address.replace('{nodeId}', 'node-1'))
  })

  it('rejects payloads that break the contract (the schemas are not vacuous)', () => {
    expect(check('QuoteJson', { e: 'q', s: 'AAPL', n: 1, bp: 1.5, bs: 1, ap: 1.6, as: 1, t: 1 })).toEqual([])
    expect(check('QuoteJson', { e: 'q', s: 'AAPL', n: 1, bp: '1.5', bs: 1, ap: 1.6, as: 1, t: 1 })).not.toEqual([])
    expect(check('QuoteMsgpack', { e: 'q', s: 'AAPL', n: 1, bp: 1.5, bs: 1, ap: 16, as: 1, px: -1, qx: 0, t: 1 })).not.toEqual([])
    expect(check('DataFrameJson', [{ e: 'x', s: 'AAPL', n: 1 }])).not.toEqual([])
    expect(check('Error', { type: 'error', code: 'NOPE', message: '' })).not.toEqual([])
    const stale = { e: 'stale', s: 'AAPL', n: 41, reason: 'feed_gap', t: 1 }
    expect(check('StaleJson', stale)).toEqual([])
    expect(check('StaleMsgpack', stale)).toEqual([])
    expect(check('DataFrameJson', [stale, { e: 'fresh', s: 'AAPL', n: 41, t: 2 }])).toEqual([])
    expect(check('StaleJson', { ...stale, reason: 'gap' })).not.toEqual([])
    expect(check('StaleJson', { e: 'stale', s: 'AAPL', n: 41, t: 1 })).not.toEqual([])
    expect(check('FreshJson', { ...stale, e: 'fresh' })).not.toEqual([])
    expect(check('DataFrameMsgpack', [{ ...stale, reason: 'lost' }])).not.toEqual([])
    expect(check('StaleMsgpack', { ...stale, px: -4 })).not.toEqual([])
    const snap = DOC.components.schemas.SnapshotJson.examples![0] as Ev
    expect(check('SnapshotJson', { ...snap, stale: 'feed_down' })).toEqual([])
    expect(check('SnapshotJson', { ...snap, stale: 'stale' })).not.toEqual([])
    expect(check('SnapshotJson', { ...snap, stale: undefined })).not.toEqual([])
  })

  it('holds examples that satisfy their own schemas', () => {
    const problems: string[] = []
    let examples = 0
    for (const [name, schema] of Object.entries(DOC.components.schemas)) {
      for (const ex of schema.examples ?? []) { examples++; problems.push(...check(name, ex)) }
    }
    expect(problems).toEqual([])
    expect(examples).toBeGreaterThan(10)
  })
})

/** A raw WebSocket client (not the library) recording data events, frames and control replies. */
class Capture {
  readonly events: Array<Record<string, unknown>> = []
  readonly frames: unknown[] = []
  readonly replies: Array<Record<string, unknown>> = []
  readonly mismatches: string[] = []
  readonly ws: WebSocket
  constructor(url: string, readonly format: 'json' | 'msgpack') {
    this.ws = new WebSocket(url + '?format=' + format)
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      const m: unknown = isBinary ? unpack(data) : JSON.parse(data.toString())
      // cross-check the client library's own decoder against msgpackr on every real binary frame
      if (isBinary && JSON.stringify(decodeMsgpack(new Uint8Array(data))) !== JSON.stringify(m)) this.mismatches.push(data.toString('hex'))
      if (Array.isArray(m)) { this.frames.push(m); this.events.push(...(m as Array<Record<string, unknown>>)) } else this.replies.push(m as Record<string, unknown>)
    })
    running.push({ stop: async () => { this.ws.terminate() } })
  }
  opened(): Promise<void> { return new Promise((r, j) => { this.ws.once('open', () => r()); this.ws.once('error', j) }) }
  send(m: object | string): void { this.ws.send(typeof m === 'string' ? m : JSON.stringify(m)) }
  kinds(): Set<unknown> { return new Set(this.events.map((e) => e.e)) }
  types(): Set<unknown> { return new Set(this.replies.map((r) => r.type)) }
}

describe('messages from a running tickcast match the contract', () => {
  it('every WebSocket event and reply (JSON and msgpack), stale/fresh markers and every MQTT payload validate', async () => {
    const sim = await simulator(running, 3000)
    const feedLine = await startTcpProxy(sim.port) // the network between the exchange and tickcast: held to silence the feed
    running.push({ stop: () => feedLine.close() })
    const t = await tickcast(running, feedLine.port, {}, ['--mqtt-url', '', '--mqtt-node-id', 'contract-1', '--feed-stale-after-ms', '1000'])
    await waitFor(() => t.symbols.size === 30, 5000, 'the directory')
    const mq = mqtt.connect(t.mqttUrl!, { protocolVersion: 4, reconnectPeriod: 0 })
    running.push({ stop: () => mq.endAsync() })
    const mqttMessages: Array<{ topic: string; payload: Buffer }> = []
    mq.on('message', (topic, payload) => { mqttMessages.push({ topic, payload }) })
    await mq.subscribeAsync(['md/v1/quotes/+', 'md/v1/trades/+', 'md/v1/status/+', 'md/v1/state/+', 'md/v1/trading/+'])
    /** MQTT state markers (e) of `sym` received from index `from` on */
    const mqttStates = (sym: string, from = 0): unknown[] => mqttMessages.slice(from)
      .filter((m) => m.topic === 'md/v1/state/' + sym).map((m) => (unpack(m.payload) as Ev).e)

    const caps = [new Capture(t.url, 'json'), new Capture(t.url, 'msgpack')]
    await Promise.all(caps.map((c) => c.opened()))
    const [s0, s1, s2] = t.symbols.name
    for (const c of caps) {
      c.send({ op: 'ping', id: 'p1' })
      c.send({ op: 'subscribe', symbols: [s0, s1, 'ZZZZ9', 'bad symbol!'], id: 'r1' })
      c.send('not json')
    }
    await waitFor(() => caps.every((c) => c.kinds().has('q') && c.kinds().has('t') && c.kinds().has('snap')), 5000, 'quotes, trades, snapshots')
    // statuses are rare in the simulator: inject a halt for the first symbol into the live feed
    const b = Buffer.alloc(64), us = Date.now() * 1000
    sim.server.append(b, 0, writeTradingStatus(b, 0, 1, us, 0, STATUS_HALTED))
    for (const c of caps) c.send({ op: 'unsubscribe', symbols: [s1], id: 2 })
    await waitFor(() => caps.every((c) => c.kinds().has('st') && c.types().size === 4), 5000, 'a status event and all reply types')
    await waitFor(() => new Set(mqttMessages.map((m) => m.topic.split('/')[2])).size === 5, 10_000, 'quotes, trades, state, trading status and node status on MQTT')
    expect(mqttStates(s0)[0], 'first state of the run').toBe('fresh')

    // The feed goes silent (connected, nothing arrives, not even heartbeats) past --feed-stale-after-ms.
    const heldAt = mqttMessages.length, heldAtUs = Date.now() * 1000
    feedLine.hold()
    await waitFor(() => caps.every((c) => c.events.some((e) => e.e === 'stale' && e.s === s0)) && mqttStates(s0, heldAt).includes('stale'),
      5000, 'stale markers on both connections and on MQTT')
    // declared within the configured 1,000 ms of silence plus one 250 ms freshness check (and scheduling slack on a busy
    // machine). Not shorter: the simulator shares this test's event loop, so a stall of the loop under load is a real
    // silence of the venue, and a 300 ms budget made the feed flap stale/fresh before the hold when files ran together.
    for (const c of caps) expect((c.events.find((e) => e.e === 'stale' && e.s === s0)!.t as number) - heldAtUs, c.format).toBeLessThan(2_250_000)
    const rest = await restSnapshot(t.port, s0)
    expect(rest.stale).toBe('feed_down')
    expect((rest as unknown as Ev).feed, 'the feed the symbol belongs to').toBe('sim')
    // a symbol subscribed while stale: its snapshot says so (no separate marker)
    for (const c of caps) c.send({ op: 'subscribe', symbols: [s2], id: 'r3' })
    await waitFor(() => caps.every((c) => c.events.some((e) => e.e === 'snap' && e.s === s2)), 5000, 'the snapshot taken while stale')
    feedLine.release()
    await waitFor(() => caps.every((c) => [s0, s2].every((s) => c.events.some((e) => e.e === 'fresh' && e.s === s)))
      && mqttStates(s0, heldAt).includes('fresh'), 5000, 'fresh markers on both connections and on MQTT')

    const problems: string[] = [...check('SnapshotJson', rest)]
    for (const c of caps) {
      const suffix = c.format === 'json' ? 'Json' : 'Msgpack'
      expect([...c.kinds()].sort(), c.format).toEqual(['fresh', 'q', 'snap', 'st', 'stale', 't'])
      expect([...c.types()].sort(), c.format).toEqual(['error', 'pong', 'subscribed', 'unsubscribed'])
      expect(new Set(c.replies.filter((r) => r.type === 'error').map((r) => r.code)), c.format)
        .toEqual(new Set(['UNKNOWN_SYMBOL', 'BAD_SYMBOL', 'MALFORMED']))
      expect(c.events.filter((e) => e.e === 'stale' && e.s === s0).map((e) => e.reason), c.format).toEqual(['feed_down'])
      expect(c.events.find((e) => e.e === 'snap' && e.s === s2)!.stale, c.format).toBe('feed_down')
      expect(c.events.filter((e) => e.e === 'snap' && e.s === s0).map((e) => e.stale), c.format).toEqual([null])
      expect(new Set(c.events.filter((e) => e.e === 'snap').map((e) => e.feed)), c.format).toEqual(new Set(['sim']))
      expect(sequenceBreaks(c.events), c.format).toEqual([]) // markers take no sequence number
      for (const f of c.frames) problems.push(...check('DataFrame' + suffix, f))
      for (const e of c.events) problems.push(...check(EVENT_SCHEMA[e.e as string] + suffix, e))
      for (const r of c.replies) problems.push(...check(REPLY_SCHEMA[r.type as string] ?? 'unknown reply', r))
      expect(c.mismatches, 'client decoder vs msgpackr').toEqual([])
    }
    // MQTT payloads: msgpack (the default --mqtt-format) on quotes/trades/state, text on the node status
    for (const m of mqttMessages) {
      const kind = m.topic.split('/')[2]
      if (kind === 'status') { expect(m.topic).toBe('md/v1/status/contract-1'); problems.push(...check('NodeStatus', m.payload.toString())); continue }
      const ev = unpack(m.payload) as Ev
      expect(m.topic).toBe(`md/v1/${kind}/${ev.s as string}`)
      if (kind === 'state') { expect(['stale', 'fresh']).toContain(ev.e); expect(ev.feed, 'the retained state names the feed').toBe('sim') }
      if (kind === 'trading') expect(ev.e).toBe('st')
      problems.push(...check(kind === 'quotes' ? 'QuoteMsgpack' : EVENT_SCHEMA[ev.e as string] + 'Msgpack', ev))
    }
    expect(mqttStates(s0, heldAt)).toEqual(['stale', 'fresh'])
    expect(problems).toEqual([])
  })
})
