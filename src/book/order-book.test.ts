import { describe, expect, it } from 'vitest'
import { DECODE_BAD_VALUE, DECODE_OK } from '../errors.js'
import { OrderBook, SIDE_ASK, SIDE_BID } from './order-book.js'
import type { QuoteSink } from './order-book.js'

type Top = [bidPx: number, bidSz: number, askPx: number, askSz: number]
class Quotes implements QuoteSink {
  readonly log: number[][] = []
  quote(l: number, t: number, bp: number, bs: number, ap: number, as: number, f: number): number { this.log.push([l, t, bp, bs, ap, as, f]); return DECODE_OK }
  /** top of book of the last quote, or null when this step emitted nothing */
  take(): Top | null { const q = this.log.length > 0 ? this.log[this.log.length - 1] : null; this.log.length = 0; return q ? [q[2], q[3], q[4], q[5]] : null }
}

describe('OrderBook top of book, step by step (expected values computed by hand)', () => {
  it('tracks adds, partial executions, cancels, replaces, deletes and emptied levels on both sides', () => {
    const q = new Quotes(), b = new OrderBook(q), L = 7
    const steps: [string, () => number, Top | null][] = [
      ['bid 100 @ 10.00', () => b.add(1, L, SIDE_BID, 100_000, 100, 1), [100_000, 100, 0, 0]],
      ['bid 50 @ 9.99 (not best)', () => b.add(2, L, SIDE_BID, 99_900, 50, 2), null],
      ['bid 30 @ 10.00 joins best', () => b.add(3, L, SIDE_BID, 100_000, 30, 3), [100_000, 130, 0, 0]],
      ['ask 200 @ 10.02', () => b.add(4, L, SIDE_ASK, 100_200, 200, 4), [100_000, 130, 100_200, 200]],
      ['ask 10 @ 10.01 better', () => b.add(5, L, SIDE_ASK, 100_100, 10, 5), [100_000, 130, 100_100, 10]],
      ['ask 70 @ 10.05 deep', () => b.add(6, L, SIDE_ASK, 100_500, 70, 6), null],
      ['execute 40 of order 1', () => b.reduce(1, 40, 7), [100_000, 90, 100_100, 10]],
      ['cancel 20 of deep bid 2', () => b.reduce(2, 20, 8), null],
      ['execute all of ask 5: best ask moves to 10.02', () => b.reduce(5, 10, 9), [100_000, 90, 100_200, 200]],
      ['replace bid 3 (30 @ 10.00) with 25 @ 10.01: better', () => b.replace(3, 30, 25, 100_100, 10), [100_100, 25, 100_200, 200]],
      ['replace bid 30 with 60 @ 9.98: worse, best back to 10.00', () => b.replace(30, 31, 60, 99_800, 11), [100_000, 60, 100_200, 200]],
      ['delete bid 1: 10.00 empties, best is 9.99', () => b.delete(1, 12), [99_900, 30, 100_200, 200]],
      ['delete ask 4: best ask is the deep 10.05', () => b.delete(4, 13), [99_900, 30, 100_500, 70]],
      ['cancel all of bid 2: best bid 9.98', () => b.reduce(2, 30, 14), [99_800, 60, 100_500, 70]],
      ['over-execute bid 31: clamped, bid side empty', () => b.reduce(31, 1000, 15), [0, 0, 100_500, 70]],
      ['delete last ask: book empty', () => b.delete(6, 16), [0, 0, 0, 0]],
      ['unknown ref is refused, no quote', () => b.delete(999, 17), null],
    ]
    for (const [what, op, top] of steps) {
      const st = op()
      expect(st, what).toBe(what.startsWith('unknown') ? DECODE_BAD_VALUE : DECODE_OK)
      expect(q.take(), what).toEqual(top)
    }
    expect([b.liveOrders, b.liveLevels, b.unknownRefs, b.overReductions]).toEqual([0, 0, 1, 1])
  })

  it('keeps symbols apart and refuses zero-share adds and duplicate refs', () => {
    const q = new Quotes(), b = new OrderBook(q)
    b.add(1, 1, SIDE_BID, 500, 10, 0); b.add(2, 2, SIDE_BID, 600, 20, 0)
    expect([b.bestPrice(1, SIDE_BID), b.bestSize(1, SIDE_BID), b.bestPrice(2, SIDE_BID)]).toEqual([500, 10, 600])
    expect(b.add(1, 3, SIDE_ASK, 1, 1, 0)).toBe(DECODE_BAD_VALUE)
    expect(b.add(9, 3, SIDE_ASK, 1, 0, 0)).toBe(DECODE_BAD_VALUE)
    expect(q.log.map((x) => x[0])).toEqual([1, 2])
  })
})

/** Naive reference: a Map per order and a scan of the symbol's orders for its top. */
class NaiveBook {
  readonly orders = new Map<number, { loc: number; side: number; px: number; sz: number }>()
  readonly live: number[] = []
  private readonly at = new Map<number, number>()
  set(r: number, o: { loc: number; side: number; px: number; sz: number }): void { this.orders.set(r, o); this.at.set(r, this.live.length); this.live.push(r) }
  remove(r: number): void {
    const i = this.at.get(r)!, lastRef = this.live.pop()!
    if (lastRef !== r) { this.live[i] = lastRef; this.at.set(lastRef, i) }
    this.at.delete(r); this.orders.delete(r)
  }
  top(loc: number): Top {
    let bp = 0, bs = 0, ap = 0, as = 0
    for (const o of this.orders.values()) {
      if (o.loc !== loc) continue
      if (o.side === SIDE_BID) { if (o.px > bp) { bp = o.px; bs = 0 } if (o.px === bp) bs += o.sz }
      else { if (ap === 0 || o.px < ap) { ap = o.px; as = 0 } if (o.px === ap) as += o.sz }
    }
    return [bp, bs, ap, as]
  }
}

describe('OrderBook against a naive Map book', () => {
  it('gives the identical top of book after each of 50,000 seeded random operations', () => {
    let seed = 0x2545f491
    const rand = (n: number): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % n }
    const q = new Quotes(), b = new OrderBook(q, { expectedOrders: 8, expectedLevels: 4 }), ref = new NaiveBook()
    const last = new Map<number, string>()
    let nextRef = 1, emitted = 0
    for (let step = 0; step < 50_000; step++) {
      const live = ref.live, op = live.length === 0 ? 0 : rand(10)
      let loc: number
      if (op <= 3 || live.length === 0) { // add
        loc = 1 + rand(4); const side = rand(2), px = 1000 + rand(40) * 5, sz = 1 + rand(500), r = nextRef++
        expect(b.add(r, loc, side, px, sz, step)).toBe(DECODE_OK)
        ref.set(r, { loc, side, px, sz })
      } else {
        const r = live[rand(live.length)], o = ref.orders.get(r)!
        loc = o.loc
        if (op <= 5) { const n = 1 + rand(o.sz + 20); b.reduce(r, n, step); o.sz -= Math.min(n, o.sz); if (o.sz === 0) ref.remove(r) }
        else if (op <= 7) { b.delete(r, step); ref.remove(r) }
        else { const nr = nextRef++, px = 1000 + rand(40) * 5, sz = 1 + rand(500); b.replace(r, nr, sz, px, step); ref.remove(r); ref.set(nr, { loc, side: o.side, px, sz }) }
      }
      const want = ref.top(loc), key = want.join(',')
      const got = q.take()
      const changed = last.get(loc) !== key && !(last.get(loc) === undefined && key === '0,0,0,0')
      // plain comparisons per step (expect() only on a mismatch keeps 50k steps fast)
      if (changed) { emitted++; last.set(loc, key); if (got?.join(',') !== key) expect(got, `step ${step}`).toEqual(want) }
      else if (got !== null) expect(got, `step ${step}`).toBeNull()
      const inBook = [b.bestPrice(loc, SIDE_BID), b.bestSize(loc, SIDE_BID), b.bestPrice(loc, SIDE_ASK), b.bestSize(loc, SIDE_ASK)]
      if (inBook.join(',') !== key) expect(inBook, `step ${step}`).toEqual(want)
    }
    expect(b.liveOrders).toBe(ref.orders.size)
    expect(emitted).toBeGreaterThan(1_000)
    expect(b.overReductions).toBeGreaterThan(0)
    expect(b.unknownRefs + b.duplicateRefs).toBe(0)
  })
})

describe('OrderBook memory', () => {
  it('holds 1,000,000 live orders in at most 64 bytes each, and empties back to zero', () => {
    const b = new OrderBook({ quote: () => DECODE_OK }, { expectedOrders: 1_000_000, expectedLevels: 100_000 })
    // 5,000 symbols × 2 sides × 10 price levels: 100k levels, 10 orders per level on average
    for (let r = 0; r < 1_000_000; r++) { const k = Math.floor(r / 5000); b.add(r * 7 + 1, r % 5000, k & 1, 10_000 + ((k >> 1) % 10), 100, 0) }
    expect(b.liveOrders).toBe(1_000_000)
    expect(b.liveLevels).toBe(100_000)
    const bpo = b.bytesPerLiveOrder()
    expect(bpo).toBeLessThanOrEqual(64)
    expect(bpo).toBeGreaterThan(16) // 16 bytes per slot is the floor: the figure is measured, not assumed
    for (let r = 0; r < 1_000_000; r++) b.delete(r * 7 + 1, 0)
    expect([b.liveOrders, b.liveLevels, b.unknownRefs]).toEqual([0, 0, 0])
  })
})

describe('OrderBook order table (refs as ITCH issues them)', () => {
  it('finds refs above 2^32 and from 4 interleaved stride-4 sequences while growing from 16 slots', () => {
    const b = new OrderBook({ quote: () => DECODE_OK }, { expectedOrders: 8, expectedLevels: 4 })
    const bases = [34_103_800, 18_900_001, 2 ** 40 + 2, 2 ** 53 - 4 * 30_000 - 1] // residues 0, 1, 2, 3 mod 4
    const refs: number[] = []
    for (let i = 0; i < 30_000; i++) for (let s = 0; s < 4; s++) refs.push(bases[s] + 4 * i)
    refs.forEach((r, i) => expect(b.add(r, 1 + (i % 50), i & 1, 10_000 + (i % 7), 1 + (i % 900), 0)).toBe(DECODE_OK))
    expect(b.liveOrders).toBe(120_000)
    expect(b.meanProbeLength()).toBeLessThan(1.5) // the figure the bench prints: ≈ 1.01 on its flow
    let bad = 0
    refs.forEach((r, i) => { if (b.sharesOf(r) !== 1 + (i % 900)) bad++ })
    expect(bad).toBe(0)
    expect([b.sharesOf(bases[2] + 1), b.sharesOf(bases[3] + 4 * 30_000), b.sharesOf(2 ** 32 + bases[0])]).toEqual([0, 0, 0])
    refs.forEach((r, i) => { if (i % 3 === 0) b.delete(r, 0) }) // backward-shift deletion across the whole table
    refs.forEach((r, i) => { if (b.sharesOf(r) !== (i % 3 === 0 ? 0 : 1 + (i % 900))) bad++ })
    expect(bad).toBe(0)
    expect(b.meanProbeLength()).toBeLessThan(1.5)
    refs.forEach((r, i) => { if (i % 3 !== 0) b.delete(r, 0) })
    expect([b.liveOrders, b.liveLevels, b.unknownRefs, b.duplicateRefs]).toEqual([0, 0, 0, 0])
  })

  it('keeps 400 levels per side in price order when they arrive shuffled (links from either end)', () => {
    let seed = 99
    const rand = (n: number): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % n }
    const q = new Quotes(), b = new OrderBook(q, { expectedLevels: 4 })
    const prices = Array.from({ length: 400 }, (_, i) => 50_000 + i * 100)
    for (let i = prices.length - 1; i > 0; i--) { const j = rand(i + 1); [prices[i], prices[j]] = [prices[j], prices[i]] }
    prices.forEach((p, i) => { b.add(1 + i, 3, SIDE_BID, p, 10, 0); b.add(1001 + i, 3, SIDE_ASK, p + 1_000_000, 10, 0) })
    expect(b.liveLevels).toBe(800)
    const bids: number[] = [], asks: number[] = []
    for (let k = 0; k < 400; k++) {
      const bp = b.bestPrice(3, SIDE_BID), ap = b.bestPrice(3, SIDE_ASK)
      bids.push(bp); asks.push(ap)
      b.delete(1 + prices.indexOf(bp), 0); b.delete(1001 + prices.indexOf(ap - 1_000_000), 0)
    }
    const sorted = [...prices].sort((x, y) => x - y)
    expect(asks).toEqual(sorted.map((p) => p + 1_000_000))
    expect(bids).toEqual([...sorted].reverse())
    expect([b.liveOrders, b.liveLevels, b.unknownRefs]).toEqual([0, 0, 0])
  })
})
