import { unpack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { LastValueCache } from '../../cache/last-value-cache.js'
import { FORMAT_JSON, FORMAT_MSGPACK } from '../../codec/tick-codec.js'
import type { WireFormat } from '../../codec/tick-codec.js'
import { SymbolSequences } from '../../normalize/symbol-sequences.js'
import { KIND_FRESH, KIND_QUOTE, KIND_STALE, KIND_TRADE, TickRing } from '../../ring/ring-buffer.js'
import { STALE_FEED_GAP } from '../../model/staleness.js'
import { ControlRequest } from '../../subscriptions/protocol.js'
import { RequestResult } from '../../subscriptions/registry.js'
import { Dispatcher } from '../dispatcher.js'
import { WsStats } from '../ws-stats.js'
import { symbolTable } from '../../../test-support/symbols.js'
import { Connection } from './connection.js'
import type { ConnectionHost, ConnectionSocket, HostedConnection } from './connection-host.js'
import { Hub } from './hub.js'
import { SnapshotFrames } from './snapshot-frames.js'

// In-memory uWS socket: a socket's buffered bytes are whatever the test says (or grow with what is sent, for a reader
// that does not read). The real Dispatcher publishes through the Hub, which writes each connection's merged frames.
type Item = { control: Record<string, unknown> } | { event: Record<string, unknown> }

class MemorySocket implements ConnectionSocket {
  readonly topics = new Set<string>()
  readonly items: Item[] = []
  readonly frameBytes: number[] = []
  buffered = 0
  /** a reader that does not read: every byte sent stays buffered until the test drains it */
  accumulate = false
  closedWith: number | null = null
  conn: Connection | null = null
  subscribe(t: Uint8Array): boolean { this.topics.add(Buffer.from(t).toString('latin1')); return true }
  unsubscribe(t: Uint8Array): boolean { return this.topics.delete(Buffer.from(t).toString('latin1')) }
  getBufferedAmount(): number { return this.buffered }
  end(code: number): void { this.closedWith = code; this.conn!.closed(code, '') }
  send(message: string | Uint8Array, isBinary: boolean): number {
    const bytes = typeof message === 'string' ? Buffer.byteLength(message) : message.length
    if (this.accumulate) this.buffered += bytes
    // a data frame is a plain Uint8Array view (as uWS takes it), not a Buffer: decode it
    const text = typeof message === 'string' ? message : Buffer.from(message.buffer, message.byteOffset, message.length).toString()
    const v = isBinary ? unpack(message as Uint8Array) : JSON.parse(text)
    if (Array.isArray(v)) { this.frameBytes.push(bytes); for (const e of v) this.items.push({ event: e }) } else this.items.push({ control: v })
    return 1
  }
  get control(): Array<Record<string, unknown>> { return this.items.flatMap((i) => ('control' in i ? [i.control] : [])) }
  events(symbol?: string): Array<Record<string, unknown>> {
    return this.items.flatMap((i) => ('event' in i && (symbol === undefined || i.event.s === symbol) ? [i.event] : []))
  }
}

function setup(names: readonly string[], softBytes = 64 * 1024) {
  const symbols = symbolTable(names, 256), lvc = new LastValueCache(256), stats = new WsStats()
  const clock = { ms: 0 } // the time the hub stamps on detached updates: the test's, not the process's
  const hub = new Hub(symbols, { maxSymbolsPerConnection: 1000, maxPatternsPerConnection: 10 }, stats, softBytes / 2, 0, () => clock.ms)
  const closing: HostedConnection[] = [], throttled = new Set<HostedConnection>()
  const host: ConnectionHost = {
    hub, lvc, symbols, stats, log: { warn() {} }, frames: new SnapshotFrames(lvc, symbols), req: new ControlRequest(), result: new RequestResult(), replay: null,
    limits: { softBytes, hardBytes: 4 * softBytes, graceMs: 1000, maxControlMessagesPerSec: 1000, controlBurst: 1000, maxEntriesPerRequest: 1010 },
    closeLater: (c) => closing.push(c),
    throttling: (c, on) => { if (on) throttled.add(c); else throttled.delete(c) },
  }
  const ring = new TickRing(1 << 14), seqs = new Float64Array(256)
  const dispatcher = new Dispatcher(ring, lvc, symbols, new SymbolSequences(256), hub, null)
  dispatcher.stop() // driven by hand: drain() runs between "event-loop turns" exactly where the test says
  function emit(name: string, kind = KIND_QUOTE): void {
    const id = symbols.idOf(name), i = ring.nextSlot()
    ring.kind[i] = kind; ring.symbolId[i] = id; ring.symbolSeq[i] = ++seqs[id]; ring.code[i] = 0x42
    ring.exchTimeUs[i] = 1732619000000000 + seqs[id]; ring.recvTimeMs[i] = performance.now()
    ring.bidPrice[i] = 1000 + seqs[id]; ring.bidSize[i] = 100; ring.askPrice[i] = 1001 + seqs[id]; ring.askSize[i] = 200
    ring.tradePrice[i] = 1000 + seqs[id]; ring.tradeSize[i] = 5; ring.tradeId[i] = seqs[id]
    ring.advance()
  }
  /** A stale (reason > 0) or fresh marker of `name` at its current n: markers take no sequence. */
  function mark(name: string, reason: number): void {
    const id = symbols.idOf(name), i = ring.nextSlot()
    ring.kind[i] = reason > 0 ? KIND_STALE : KIND_FRESH; ring.symbolId[i] = id; ring.symbolSeq[i] = seqs[id]; ring.code[i] = reason
    ring.exchTimeUs[i] = 1732619000000000 + seqs[id]; ring.recvTimeMs[i] = performance.now()
    ring.advance()
  }
  function connect(format: WireFormat = FORMAT_JSON): { c: Connection; ws: MemorySocket } {
    const ws = new MemorySocket(), c = new Connection(format, host, 0)
    ws.conn = c; c.open(ws)
    return { c, ws }
  }
  const send = (c: Connection, msg: Record<string, unknown>, nowMs = 0) => c.onMessage(new TextEncoder().encode(JSON.stringify(msg)).buffer as ArrayBuffer, false, nowMs)
  return { symbols, lvc, hub, stats, host, closing, throttled, dispatcher, clock, emit, mark, connect, send }
}

/** n of each event of `symbol`, tagged with its kind: ['q1', 'snap3', …]. */
const stream = (ws: MemorySocket, symbol: string) => ws.events(symbol).map((e) => `${e.e as string}${e.n as number}`)

describe('Connection: snapshots on subscribe', () => {
  it('resyncs a symbol a pattern also covers: a plain subscribe sends its snap, then updates continue at n + 1', () => {
    const t = setup(['AAPL', 'AMZN', 'MSFT'])
    const { c, ws } = t.connect()
    t.send(c, { op: 'subscribe', symbols: ['A*', 'AAPL'], snapshot: false, id: 1 })
    for (let k = 0; k < 3; k++) t.emit('AAPL')
    t.dispatcher.drain()
    t.send(c, { op: 'subscribe', symbols: ['AAPL'], id: 2 })
    expect(ws.control.at(-1)).toEqual({ type: 'subscribed', id: 2, symbols: ['AAPL'], patterns: [] })
    t.emit('AAPL'); t.emit('AAPL', KIND_TRADE)
    t.dispatcher.drain()
    expect(stream(ws, 'AAPL')).toEqual(['q1', 'q2', 'q3', 'snap3', 'q4', 't5'])
    expect(ws.events('AMZN')).toEqual([]) // only what the request lists is resent
  })

  it('resyncs a throttled symbol: its held trades are signalled, its snap goes now, and its interval restarts there', () => {
    const t = setup(['AAPL'])
    const { c, ws } = t.connect()
    t.send(c, { op: 'subscribe', symbols: ['AAPL'], maxHz: 1, id: 1 }, 0)
    t.clock.ms = 100
    t.emit('AAPL', KIND_TRADE); t.emit('AAPL')
    t.dispatcher.drain()
    c.flushThrottled(500) // not due: one value per second
    t.send(c, { op: 'subscribe', symbols: ['AAPL'], id: 2 }, 600)
    expect(ws.items.slice(-2)).toEqual([{ control: { type: 'trades_skipped', symbol: 'AAPL', count: 1 } }, { event: expect.objectContaining({ e: 'snap', n: 2 }) }])
    t.clock.ms = 700
    t.emit('AAPL'); t.dispatcher.drain()
    c.flushThrottled(1100) // 1 s after the first snap, but only 0.5 s after the resync's
    expect(stream(ws, 'AAPL')).toEqual(['snap0', 'snap2'])
    c.flushThrottled(1600)
    expect(stream(ws, 'AAPL')).toEqual(['snap0', 'snap2', 'q3']) // its window held one update: the update itself
    expect(t.stats.tradesSkipped).toBe(1)
  })

  it('a first `*` with a rate never joins the topics (each would leave at once); other subscribes do', () => {
    const t = setup(['AAPL', 'MSFT'])
    const a = t.connect(), b = t.connect(), joined = [0, 0], join = t.hub.join.bind(t.hub)
    t.hub.join = (s, key) => { joined[s === a.c ? 0 : 1]++; join(s, key) }
    t.send(a.c, { op: 'subscribe', symbols: ['*'], maxHz: 1, id: 1 }, 0)
    t.send(b.c, { op: 'subscribe', symbols: ['*'], id: 1 }, 0)
    expect(joined).toEqual([0, 2])
    expect([t.hub.topicsOf(a.c), t.hub.topicsOf(b.c)]).toEqual([0, 2])
    for (let k = 0; k < 5; k++) t.emit('AAPL')
    t.dispatcher.drain(); t.clock.ms = 1000; a.c.flushThrottled(1000)
    expect(stream(a.ws, 'AAPL')).toEqual(['snap0', 'q5'])
    expect(a.ws.events('AAPL').at(-1)).toMatchObject({ c: 4 })
    expect(stream(b.ws, 'AAPL')).toEqual(['snap0', 'q1', 'q2', 'q3', 'q4', 'q5'])
  })

  it('sends a throttled symbol as its update, or as the latest of each kind with `c` conflated before; a snap when it went stale', () => {
    for (const format of [FORMAT_JSON, FORMAT_MSGPACK] as WireFormat[]) {
      const t = setup(['AAPL'])
      const { c, ws } = t.connect(format)
      const flush = (at: number): void => { t.dispatcher.drain(); t.clock.ms = at; c.flushThrottled(at) }
      t.send(c, { op: 'subscribe', symbols: ['AAPL'], maxHz: 1, id: 1 }, 0)
      t.clock.ms = 100; t.emit('AAPL'); flush(1000)
      t.clock.ms = 1100; t.emit('AAPL'); t.emit('AAPL', KIND_TRADE); t.emit('AAPL'); t.emit('AAPL'); flush(2000)
      t.clock.ms = 2100; t.emit('AAPL', KIND_TRADE); t.emit('AAPL', KIND_TRADE); t.emit('AAPL'); flush(3000)
      expect(stream(ws, 'AAPL')).toEqual(['snap0', 'q1', 't3', 'q5', 't7', 'q8'])
      expect(ws.events('AAPL').map((e) => e.c ?? 0)).toEqual([0, 0, 1, 1, 1, 0]) // n = previous n + 1 + c, every time
      expect(ws.events('AAPL')[3]).toMatchObject(format === FORMAT_JSON ? { bp: 0.1005, ap: 0.1006 } : { bp: 1005, ap: 1006, px: -4 }) // the latest quote
      expect(ws.control.filter((m) => m.type === 'trades_skipped')).toEqual([{ type: 'trades_skipped', symbol: 'AAPL', count: 1 }]) // t6
      t.clock.ms = 3100; t.mark('AAPL', STALE_FEED_GAP); t.emit('AAPL'); flush(4000) // updates do not carry staleness
      expect(ws.events('AAPL').at(-1)).toMatchObject({ e: 'snap', n: 9, stale: 'feed_gap' })
      t.clock.ms = 4100; t.emit('AAPL'); flush(5000)
      expect(stream(ws, 'AAPL').at(-1)).toBe('q10')
      expect(ws.frameBytes.length).toBe(6) // one frame per delivery
    }
  })

  it('resyncs on a conflating connection: nothing goes out then, and its catch-up carries the snap even if unchanged', () => {
    const t = setup(['AAPL', 'MSFT'])
    const { c, ws } = t.connect()
    t.send(c, { op: 'subscribe', symbols: ['AAPL', 'MSFT'], snapshot: false, id: 1 })
    t.emit('AAPL'); t.emit('MSFT'); t.dispatcher.drain()
    ws.buffered = 64 * 1024 + 1
    c.scan(10)
    expect(ws.control.at(-1)).toMatchObject({ type: 'slow', state: 'conflating' })
    expect(t.hub.wants(t.symbols.idOf('AAPL'), FORMAT_JSON)).toBe(false) // out of uWS: the dispatcher skips it
    t.send(c, { op: 'subscribe', symbols: ['AAPL'], id: 2 })
    t.emit('MSFT', KIND_TRADE); t.dispatcher.drain()
    expect(ws.events().length).toBe(2) // the ack only: no snap, no update while conflating
    ws.buffered = 0
    c.drain(20)
    expect(ws.items.slice(-4)).toEqual([
      { control: { type: 'trades_skipped', symbol: 'MSFT', count: 1 } },
      { event: expect.objectContaining({ e: 'snap', s: 'AAPL', n: 1 }) }, // unchanged, but the client asked for it
      { event: expect.objectContaining({ e: 'snap', s: 'MSFT', n: 2 }) },
      { control: expect.objectContaining({ type: 'slow', state: 'normal', symbols: 1, snapshots: 2, tradesSkipped: 1 }) },
    ])
    t.emit('AAPL'); t.emit('MSFT'); t.dispatcher.drain()
    expect([stream(ws, 'AAPL'), stream(ws, 'MSFT')]).toEqual([['q1', 'snap1', 'q2'], ['q1', 'snap2', 'q3']])
  })

  it('paces a big snapshot by the reader: frames stop at half the soft limit, and a waiting symbol gets its snap before any update', () => {
    const names = Array.from({ length: 200 }, (_, k) => `S${k}`), soft = 8 * 1024
    for (const format of [FORMAT_JSON, FORMAT_MSGPACK] as WireFormat[]) {
      const t = setup(names, soft)
      for (const n of names) t.emit(n)
      t.dispatcher.drain()
      const { c, ws } = t.connect(format)
      ws.accumulate = true
      t.send(c, { op: 'subscribe', symbols: ['*'], id: 1 })
      const first = ws.events().length
      expect(first).toBeGreaterThan(0)
      expect(first).toBeLessThan(names.length) // the rest is owed, written as the reader drains
      let afterSnapshots = ws.buffered, trades = 0
      for (let round = 0; round < 100 && ws.events().filter((e) => e.e === 'snap').length < names.length; round++) {
        if (round % 2 === 0) trades++
        for (const n of names) t.emit(n, round % 2 === 0 ? KIND_TRADE : KIND_QUOTE) // owed symbols count trades, the rest get them
        t.dispatcher.drain()
        ws.buffered = 0 // the reader read everything
        c.drain(round)
        afterSnapshots = Math.max(afterSnapshots, ws.buffered)
      }
      expect(ws.frameBytes.every((b) => b <= soft / 2)).toBe(true)
      expect(afterSnapshots).toBeLessThanOrEqual(soft) // snapshots alone never take it over the soft limit
      expect(ws.control.filter((m) => m.type === 'slow')).toEqual([])
      for (const n of names) {
        const ev = ws.events(n), snap = ev.findIndex((e) => e.e === 'snap')
        expect(snap, n).toBe(0) // nothing before its snap
        expect(ev.map((e) => e.n), n).toEqual(Array.from({ length: ev.length }, (_, k) => (ev[0].n as number) + k))
        const skipped = (ws.control.find((m) => m.type === 'trades_skipped' && m.symbol === n)?.count ?? 0) as number
        expect(skipped + ev.filter((e) => e.e === 't').length, n).toBe(trades) // every trade since the ack: delivered or signalled
      }
    }
  })
})

describe('Connection: acting on the ladder', () => {
  it('detaches everything when conflating, and closes (deferred) past the grace or on a drop', () => {
    const t = setup(['AAPL', 'MSFT'])
    const a = t.connect(), b = t.connect()
    for (const x of [a, b]) t.send(x.c, { op: 'subscribe', symbols: ['AAPL', 'MSFT'], snapshot: false })
    a.ws.buffered = 70 * 1024
    a.c.scan(0)
    expect(t.hub.topicsOf(a.c)).toBe(0)
    expect(t.stats.slowConflating).toBe(1)
    a.c.scan(1000)
    expect(t.closing).toEqual([])
    a.c.scan(1001)
    expect(t.closing).toEqual([a.c]) // the host ends it on a later turn
    expect(t.stats.slowConflating).toBe(0)
    b.c.dropped()
    expect(t.closing).toEqual([a.c, b.c])
    a.c.end('slow_consumer', 4001, 'slow consumer')
    expect([a.ws.closedWith, t.stats.closes.slow_consumer, t.stats.connections]).toEqual([4001, 1, -1]) // open() is the host's count
  })
})
