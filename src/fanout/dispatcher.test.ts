import { unpack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { LastValueCache } from '../cache/last-value-cache.js'
import { FORMAT_JSON, FORMAT_MSGPACK } from '../codec/tick-codec.js'
import type { WireFormat } from '../codec/tick-codec.js'
import { SharedSymbols } from '../model/shared-symbols.js'
import { STALE_FEED_GAP, STALE_LAPPED, STALE_NONE } from '../model/staleness.js'
import { SymbolTable } from '../model/symbols.js'
import { Normalizer, SymbolSequences } from '../normalize/normalizer.js'
import { TickRing } from '../ring/ring-buffer.js'
import type { TickRing as Ring } from '../ring/ring-buffer.js'
import { Dispatcher } from './dispatcher.js'
import type { EventSink, FrameSink } from './dispatcher.js'

type Frame = { id: number; format: WireFormat; events: Array<Record<string, unknown>> }

/** Records frames like a WebSocket server would deliver them to a subscriber of every symbol. */
class RecordingSink implements FrameSink {
  frames: Frame[] = []
  added: Array<[number, number]> = []
  constructor(private readonly formats: WireFormat[], private readonly frameCount = () => this.frames.length) {}
  wants(_id: number, format: WireFormat): boolean { return this.formats.includes(format) }
  publish(id: number, format: WireFormat, frame: Uint8Array, _trades = 0): void {
    const events = format === FORMAT_JSON ? JSON.parse(Buffer.from(frame).toString('latin1')) : unpack(frame)
    this.frames.push({ id, format, events })
  }
  /** [symbol id, frames published before it was announced] */
  symbolAdded(id: number): void { this.added.push([id, this.frameCount()]) }
  /** Every event of symbol `name` in one format, in delivery order. */
  stream(name: string, format: WireFormat = FORMAT_JSON): Array<Record<string, unknown>> {
    return this.frames.filter((f) => f.format === format).flatMap((f) => f.events).filter((e) => e.s === name)
  }
}

function setup(capacity = 1024, formats: WireFormat[] = [FORMAT_JSON, FORMAT_MSGPACK], events: EventSink | null = null) {
  const shared = new SharedSymbols(16), symbols = new SymbolTable(shared), seqs = new SymbolSequences(16)
  const ring = new TickRing(capacity), lvc = new LastValueCache(16)
  const sink = new RecordingSink(formats)
  const lost: Array<[number, number]> = []
  const d = new Dispatcher(ring, lvc, symbols, seqs, sink, events, (n, named) => lost.push([n, named]))
  d.stop() // tests drive drain() by hand
  const norm = new Normalizer(ring, shared, seqs)
  norm.defineSymbol(1, 'AAPL', -4, 0); norm.defineSymbol(2, 'MSFT', -4, 0)
  return { symbols, ring, lvc, norm, sink, d, lost }
}

describe('Dispatcher', () => {
  it('batches each symbol\'s events of one drain into one frame per format, in sequence order', () => {
    const { norm, sink, d } = setup()
    for (let k = 0; k < 10; k++) norm.quote(1 + (k % 2), 1000 + k, 1000000 + k, 100, 1000100 + k, 200, 0)
    norm.trade(1, 2000, 1000050, 7, 55, 66)
    d.drain()
    expect(sink.frames.map((f) => [f.id, f.format, f.events.length])).toEqual([[0, 0, 6], [0, 1, 6], [1, 0, 5], [1, 1, 5]])
    const aapl = sink.frames[0].events
    expect(aapl.map((e) => e.n)).toEqual([1, 2, 3, 4, 5, 6])
    expect(aapl[5]).toMatchObject({ e: 't', s: 'AAPL', p: 100.005, q: 7, side: 'B', id: 55 })
    expect(sink.frames[1].events[0]).toMatchObject({ e: 'q', s: 'AAPL', bp: 1000000, px: -4 })
  })

  it('applies every event to the last-value cache before publishing', () => {
    const { norm, lvc, d } = setup()
    norm.quote(1, 1, 10, 1, 20, 2, 0); norm.quote(1, 2, 11, 1, 21, 2, 0)
    d.drain()
    expect([lvc.seq[0], lvc.bidPrice[0], lvc.askPrice[0]]).toEqual([2, 11, 21])
  })

  it('skips encoding for formats nobody wants', () => {
    const { norm, sink, d } = setup(1024, [FORMAT_MSGPACK])
    norm.quote(1, 1, 10, 1, 20, 2, 0)
    d.drain()
    expect(sink.frames.map((f) => f.format)).toEqual([FORMAT_MSGPACK])
  })

  it('splits a very busy symbol into several frames without losing or reordering events', () => {
    const { norm, sink, d } = setup(8192, [FORMAT_JSON])
    for (let k = 0; k < 3000; k++) norm.quote(1, k, 1000000 + k, 100, 1000100 + k, 200, 0)
    d.drain()
    expect(sink.frames.length).toBeGreaterThan(1)
    expect(sink.frames.flatMap((f) => f.events.map((e) => e.n))).toEqual(Array.from({ length: 3000 }, (_, k) => k + 1))
  })

  it('counts events lost when the writer laps it, tells the symbol\'s subscribers in-band, and carries on', () => {
    const { norm, sink, d, lost, lvc } = setup(1024, [FORMAT_JSON])
    for (let k = 0; k < 1500; k++) norm.quote(1, k, 1000000 + k, 100, 1000100 + k, 200, 0)
    d.drain()
    // 2 symbol announcements + quotes 1..476 of AAPL were overwritten; MSFT lost nothing
    expect(lost).toEqual([[478, 0]])
    expect(d.stats.lapped).toBe(478)
    const aapl = sink.stream('AAPL')
    // the jump is explained before it happens, and the next whole quote makes AAPL complete again
    expect(aapl.slice(0, 4).map((e) => [e.e, e.n, e.reason])).toEqual([['stale', 476, 'lapped'], ['q', 477, undefined], ['fresh', 477, undefined], ['q', 478, undefined]])
    expect(aapl.at(-1)!.n).toBe(1500)
    expect(sink.stream('MSFT')).toEqual([])
    expect([lvc.staleReason(0), d.stats.lappedSymbols]).toEqual([STALE_NONE, 1])
  })

  it('names a symbol whose last events a lap took, with a marker-only frame, and keeps it stale until a quote', () => {
    const { norm, sink, d, lvc } = setup(1024, [FORMAT_JSON, FORMAT_MSGPACK])
    d.drain()
    norm.quote(2, 1, 10, 1, 20, 2, 0); norm.trade(2, 2, 10, 5, 1, 66) // MSFT: n 1, 2, then silence
    d.drain()
    for (let k = 0; k < 1020; k++) norm.trade(2, 3 + k, 10, 1, 2 + k, 66) // MSFT n 3..1022: 1020 events
    for (let k = 0; k < 1030; k++) norm.quote(1, k, 1000000 + k, 100, 1000100 + k, 200, 0) // AAPL laps MSFT's out
    sink.frames.length = 0
    d.drain()
    expect(sink.stream('MSFT')).toEqual([expect.objectContaining({ e: 'stale', s: 'MSFT', n: 2, reason: 'lapped' })])
    expect(sink.stream('MSFT', FORMAT_MSGPACK)).toEqual([expect.objectContaining({ e: 'stale', s: 'MSFT', n: 2, reason: 'lapped' })])
    expect(lvc.staleReason(1)).toBe(STALE_LAPPED)
    norm.trade(2, 9, 10, 1, 9999, 66) // n 1023: a jump from 2, explained again; a trade does not make it whole
    norm.quote(2, 10, 11, 1, 21, 2, 0) // n 1024: a whole quote does
    d.drain()
    expect(sink.stream('MSFT').slice(1).map((e) => [e.e, e.n])).toEqual([['stale', 1022], ['t', 1023], ['q', 1024], ['fresh', 1024]])
  })

  it('passes the feed\'s stale and fresh markers through in order, and drops those that change nothing for clients', () => {
    const { norm, sink, d, lvc } = setup(1024, [FORMAT_JSON])
    norm.quote(1, 1, 10, 1, 20, 2, 0)
    norm.feedGap()
    norm.trade(1, 2, 10, 1, 1, 66)
    norm.quote(1, 3, 11, 1, 21, 2, 0)
    d.drain()
    expect(sink.stream('AAPL').map((e) => [e.e, e.n, e.reason])).toEqual([
      ['q', 1, undefined], ['stale', 1, 'feed_gap'], ['t', 2, undefined], ['q', 3, undefined], ['fresh', 3, undefined]])
    expect(sink.stream('MSFT').map((e) => [e.e, e.n, e.reason])).toEqual([['stale', 0, 'feed_gap']])
    expect([lvc.staleReason(0), lvc.staleReason(1)]).toEqual([STALE_NONE, STALE_FEED_GAP])
  })

  it('learns each symbol from the ring and announces it to the sink before publishing any of its events', () => {
    const { norm, sink, d, symbols } = setup(1024, [FORMAT_JSON])
    expect(symbols.size).toBe(0) // ingest added them; this consumer has not drained yet
    norm.quote(2, 1, 10, 1, 20, 2, 0)
    d.drain()
    expect(symbols.name).toEqual(['AAPL', 'MSFT'])
    expect(sink.added).toEqual([[0, 0], [1, 0]])
  })

  it('offers every data event to the event sink, tells it of state changes, then flushes once per drain', () => {
    const calls: string[] = []
    const events: EventSink = {
      offer: (r: Ring, i: number) => calls.push(`offer ${r.symbolId[i]}`), stateChanged: (id) => calls.push(`state ${id}`), flush: () => calls.push('flush'),
    }
    const { norm, d } = setup(1024, [], events)
    norm.quote(1, 1, 10, 1, 20, 2, 0); norm.quote(2, 1, 10, 1, 20, 2, 0); norm.feedDown()
    d.drain()
    expect(calls).toEqual(['offer 0', 'offer 1', 'state 0', 'state 1', 'flush'])
  })

  it('paced: writer batches within one interval leave together, one frame per symbol, in order; the first after a quiet spell at once', async () => {
    const shared = new SharedSymbols(16), symbols = new SymbolTable(shared), seqs = new SymbolSequences(16)
    const ring = new TickRing(1024), sink = new RecordingSink([FORMAT_JSON])
    const d = new Dispatcher(ring, new LastValueCache(16), symbols, seqs, sink, null) // woken by the ring's commits
    d.pacer.pace(200)
    const norm = new Normalizer(ring, shared, seqs), turn = (): Promise<void> => new Promise((r) => setImmediate(r))
    norm.defineSymbol(1, 'AAPL', -4, 0); norm.defineSymbol(2, 'MSFT', -4, 0)
    let aapl = 0, msft = 0
    const batch = (a: number, m: number): void => {
      norm.beginBatch(performance.now())
      for (let k = 0; k < a; k++) norm.quote(1, ++aapl, 1000000 + aapl, 100, 1000100 + aapl, 200, 0)
      for (let k = 0; k < m; k++) norm.quote(2, ++msft, 2000000 + msft, 100, 2000100 + msft, 200, 0)
      norm.endBatch()
    }
    try {
      batch(3, 0); await turn()
      expect(sink.frames.map((f) => f.events.length)).toEqual([3]) // quiet before: no wait
      batch(2, 1); batch(2, 1); batch(2, 1); await turn()
      expect(sink.frames).toHaveLength(1) // three wake-ups, held for the interval
      const t0 = performance.now()
      while (sink.frames.length === 1 && performance.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10))
      expect(sink.frames.slice(1).map((f) => [f.id, f.events.map((e) => e.n)])).toEqual([[0, [4, 5, 6, 7, 8, 9]], [1, [1, 2, 3]]])
      expect(sink.stream('AAPL').map((e) => e.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    } finally { d.stop() }
  })
})
