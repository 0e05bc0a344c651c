import { unpack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { LastValueCache } from '../cache/last-value-cache.js'
import { FORMAT_JSON, FORMAT_MSGPACK } from '../codec/tick-codec.js'
import type { WireFormat } from '../codec/tick-codec.js'
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
  constructor(private readonly formats: WireFormat[]) {}
  wants(_id: number, format: WireFormat): boolean { return this.formats.includes(format) }
  publish(id: number, format: WireFormat, frame: Uint8Array, _trades = 0): void {
    const events = format === FORMAT_JSON ? JSON.parse(Buffer.from(frame).toString('latin1')) : unpack(frame)
    this.frames.push({ id, format, events })
  }
}

function setup(capacity = 1024, formats: WireFormat[] = [FORMAT_JSON, FORMAT_MSGPACK], events: EventSink | null = null) {
  const symbols = new SymbolTable(16), ring = new TickRing(capacity), lvc = new LastValueCache(16)
  const norm = new Normalizer(ring, symbols, new SymbolSequences(16))
  norm.defineSymbol(1, 'AAPL', -4, 0); norm.defineSymbol(2, 'MSFT', -4, 0)
  const sink = new RecordingSink(formats)
  const lost: number[] = []
  const d = new Dispatcher(ring, lvc, symbols, sink, events, (n) => lost.push(n))
  d.stop() // tests drive drain() by hand
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

  it('counts and reports events lost when the writer laps it, then carries on from the oldest intact slot', () => {
    const { norm, sink, d, lost } = setup(1024, [FORMAT_JSON])
    for (let k = 0; k < 1500; k++) norm.quote(1, k, 1000000 + k, 100, 1000100 + k, 200, 0)
    d.drain()
    expect(lost).toEqual([476])
    expect(d.stats.lapped).toBe(476)
    const ns = sink.frames.flatMap((f) => f.events.map((e) => e.n))
    expect(ns[0]).toBe(477)
    expect(ns.at(-1)).toBe(1500)
  })

  it('offers every event to the event sink, then flushes once per drain', () => {
    const calls: string[] = []
    const events: EventSink = { offer: (_r: Ring, i: number) => calls.push(`offer ${i}`), flush: () => calls.push('flush') }
    const { norm, d } = setup(1024, [], events)
    norm.quote(1, 1, 10, 1, 20, 2, 0); norm.quote(2, 1, 10, 1, 20, 2, 0)
    d.drain()
    expect(calls).toEqual(['offer 0', 'offer 1', 'flush'])
  })
})
