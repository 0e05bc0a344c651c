import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DECODE_OK } from '../../src/errors.js'
import { NativeDecoder, OFF_DIR_TICK } from '../../src/feed/decoders/native.js'
import { FeedStats } from '../../src/feed/feed-stats.js'
import type { TickSink } from '../../src/normalize/tick-sink.js'
import { DIRECTORY_INTERLEAVE, FeedGenerator, MAX_MESSAGE_BYTES, ROUND_LOT } from './generator.js'
import { loadUniverse, parseUniverse } from './universe.js'

const universe = loadUniverse()
const T0_US = 1767364200000000

/** Decodes the generated stream back through the real decoder and checks market invariants as it goes. */
class MarketCheck implements TickSink {
  names = new Map<number, string>()
  tick = new Map<number, number>()
  lastBid = new Map<number, number>()
  lastAsk = new Map<number, number>()
  halted = new Set<number>()
  statuses: [number, number][] = []
  quotes = 0; trades = 0; lastTs = 0
  problems: string[] = []
  defineSymbol(locate: number, name: string, pe: number, se: number) {
    if (pe !== -4 || se !== 0) this.problems.push(`exponents ${name}`)
    this.names.set(locate, name); return DECODE_OK
  }
  locateOf() { return -1 }
  quote(l: number, t: number, bp: number, bs: number, ap: number, as: number) {
    this.quotes++; this.time(t)
    const tick = this.tick.get(l) ?? NaN
    if (!(ap - bp >= tick)) this.problems.push(`spread < 1 tick: ${l} ${bp} ${ap}`)
    if (bp <= 0 || bp % tick !== 0 || ap % tick !== 0) this.problems.push(`price off grid: ${l} ${bp} ${ap}`)
    if (bs <= 0 || as <= 0 || bs % ROUND_LOT !== 0 || as % ROUND_LOT !== 0) this.problems.push(`size: ${bs} ${as}`)
    if (this.halted.has(l)) this.problems.push(`quote while halted: ${l}`)
    this.lastBid.set(l, bp); this.lastAsk.set(l, ap); return DECODE_OK
  }
  trade(l: number, t: number, p: number, s: number, _id: number, side: number) {
    this.trades++; this.time(t)
    const expected = side === 0x42 ? this.lastAsk.get(l) : this.lastBid.get(l)
    if (p !== expected || s <= 0 || s % ROUND_LOT !== 0) this.problems.push(`trade ${l} ${p} ${expected} ${s}`)
    return DECODE_OK
  }
  status(l: number, t: number, code: number) {
    this.time(t); this.statuses.push([l, code])
    if (code === 0x48) this.halted.add(l); else this.halted.delete(l)
    return DECODE_OK
  }
  private time(t: number) { if (t < this.lastTs) this.problems.push('time went backwards'); this.lastTs = t }
}

function run(gen: FeedGenerator, count: number): MarketCheck {
  const check = new MarketCheck(), stats = new FeedStats('gen'), dec = new NativeDecoder(check, stats)
  gen.emit(count, (buf, off, len) => {
    // Tick sizes are not part of the sink contract: read them from the directory bytes (PROTOCOL.md §2.2).
    if (buf[off] === 0x52) check.tick.set(buf.readUInt32LE(off + 4), buf.readUInt32LE(off + OFF_DIR_TICK))
    const st = dec.decode(buf, off, len)
    if (st !== DECODE_OK) check.problems.push(`decode status ${st} for type ${buf[off]}`)
  })
  return check
}

function digest(gen: FeedGenerator, count: number): string {
  const h = createHash('sha256')
  gen.emit(count, (buf, off, len) => { h.update(buf.subarray(off, off + len)) })
  return h.digest('hex')
}

describe('universe', () => {
  it('bundles about 500 distinct valid US tickers with prices', () => {
    expect(universe.length).toBeGreaterThanOrEqual(490)
    expect(universe.slice(0, 3).map((r) => r.symbol)).toEqual(['NVDA', 'TSLA', 'AAPL'])
    expect(universe.find((r) => r.symbol === 'BRK.B')?.price).toBeGreaterThan(100)
  })

  it('rejects a bad header, bad symbols, bad prices and duplicates, listing every problem', () => {
    expect(() => parseUniverse('sym,px\nAAPL,1')).toThrow(/UNIVERSE_HEADER/)
    expect(() => parseUniverse('symbol,price,name\nA/B,1,x\nOK,-3,y\nOK2,2,z\nOK2,2,z')).toThrow(/line 2.*line 3.*line 5/)
  })
})

describe('FeedGenerator', () => {
  it('is deterministic per seed, and different seeds give different streams', () => {
    const opts = { universe, seed: 1, startTimeUs: T0_US }
    const a = digest(new FeedGenerator(opts), 20_000)
    expect(digest(new FeedGenerator(opts), 20_000)).toBe(a)
    expect(digest(new FeedGenerator({ ...opts, seed: 2 }), 20_000)).not.toBe(a)
  })

  it('opens with a system event, a directory entry and a T status per symbol, then opening quotes', () => {
    const n = 40, gen = new FeedGenerator({ universe, symbols: n, seed: 7, startTimeUs: T0_US })
    const types: number[] = []
    const check = new MarketCheck(), dec = new NativeDecoder(check, new FeedStats('gen'))
    gen.emit(1 + 3 * n, (buf, off, len) => {
      types.push(buf[off])
      if (buf[off] === 0x52) check.tick.set(buf.readUInt32LE(off + 4), buf.readUInt32LE(off + OFF_DIR_TICK))
      expect(dec.decode(buf, off, len)).toBe(DECODE_OK)
    })
    expect(String.fromCharCode(...types)).toBe('S' + 'R'.repeat(n) + 'H'.repeat(n) + 'Q'.repeat(n))
    expect(dec.systemEvent).toBe(0x4f)
    expect([...check.names.entries()]).toEqual(universe.slice(0, n).map((r, i) => [i + 1, r.symbol]))
    expect(check.statuses).toEqual(universe.slice(0, n).map((_, i) => [i + 1, 0x54]))
    expect(check.quotes).toBe(n)
    expect(check.problems).toEqual([])
  })

  it('keeps spreads ≥ 1 tick, prices on the tick grid, round-lot sizes, trades at the touch, time monotonic', () => {
    const check = run(new FeedGenerator({ universe, seed: 3, startTimeUs: T0_US }), 100_000)
    expect(check.names.size).toBe(universe.length)
    expect(check.problems.slice(0, 5)).toEqual([])
    expect(check.trades).toBeGreaterThan(4000)
    expect(check.quotes).toBeGreaterThan(80_000)
  })

  it('skews activity: the top 5 % of symbols carry most quotes, the median symbol very few', () => {
    const gen = new FeedGenerator({ universe, symbols: 500, seed: 11, startTimeUs: T0_US })
    gen.emit(1 + 3 * 500 + 200_000, () => {})
    const counts = Array.from(gen.quoteCount.subarray(1)).sort((a, b) => b - a)
    const total = counts.reduce((s, c) => s + c, 0)
    const top = counts.slice(0, 25).reduce((s, c) => s + c, 0) / total
    // Measured 0.64 for seed 11 (median/top 0.002) with the default exponent 1.1; a uniform market would give 0.05.
    expect(top).toBeGreaterThan(0.45)
    expect(counts[250] / counts[0]).toBeLessThan(0.01)
  })

  it('halts and resumes symbols, with no quote while halted', () => {
    const check = run(new FeedGenerator({ universe, symbols: 50, seed: 5, startTimeUs: T0_US, haltRatio: 0.01 }), 30_000)
    const halts = check.statuses.filter(([, c]) => c === 0x48).length
    const resumes = check.statuses.filter(([, c]) => c === 0x54).length - 50
    expect(halts).toBeGreaterThan(50)
    expect(resumes).toBeGreaterThan(halts - 50)
    expect(check.problems).toEqual([])
  })

  it('repeats the whole directory on request, interleaved with stream messages (the stream never pauses for it)', () => {
    const n = 20, k = DIRECTORY_INTERLEAVE, gen = new FeedGenerator({ universe, symbols: n, seed: 9, startTimeUs: T0_US })
    gen.scheduleDirectory() // ignored during the preamble
    gen.emit(1 + 3 * n + 100, () => {})
    gen.scheduleDirectory()
    const check = new MarketCheck(), dec = new NativeDecoder(check, new FeedStats('gen'))
    const types: number[] = []
    gen.emit(n * k + k, (buf, off, len) => { types.push(buf[off]); expect(dec.decode(buf, off, len)).toBe(DECODE_OK) })
    expect(types.map((t, i) => (t === 0x52) === (i % k === 0 && i < n * k))).toEqual(types.map(() => true)) // an entry every k-th message, n of them
    expect([...check.names.values()]).toEqual(universe.slice(0, n).map((r) => r.symbol))
  })

  it('writes at any offset of a caller buffer and never past MAX_MESSAGE_BYTES', () => {
    const gen = new FeedGenerator({ universe, symbols: 10, seed: 1, startTimeUs: T0_US })
    const ref = new FeedGenerator({ universe, symbols: 10, seed: 1, startTimeUs: T0_US })
    const big = Buffer.alloc(1000 * MAX_MESSAGE_BYTES)
    let off = 0
    for (let i = 0; i < 1000; i++) {
      const len = gen.nextInto(big, off)
      expect(len).toBeLessThanOrEqual(MAX_MESSAGE_BYTES)
      expect(big.subarray(off, off + len)).toEqual(ref.buf.subarray(0, ref.next()))
      off += len
    }
  })
})
