import { describe, expect, it } from 'vitest'
import { DECODE_OK } from '../../errors.js'
import { PARTIAL_GAP, PARTIAL_LATE_JOIN, PARTIAL_NONE, PARTIAL_UNKNOWN_ORDER } from '../../model/book-state.js'
import { SharedSymbols } from '../../model/shared-symbols.js'
import { STALE_FEED_GAP } from '../../model/staleness.js'
import { Normalizer, SymbolSequences } from '../../normalize/normalizer.js'
import { KIND_BOOK, KIND_FRESH, KIND_STALE, TickRing } from '../../ring/ring-buffer.js'
import { FeedStats } from '../feed-stats.js'
import { ItchDecoder } from './itch.js'

// The book-state API the GLIMPSE recovery builds on: directory → synced, late join → partial, unknown order → partial,
// markAllPartial / clearBooks / markAllSynced, each change one KIND_BOOK marker in the ring, in order with the data.

function msg(type: string, len: number, locate: number): Buffer {
  const b = Buffer.alloc(len); b.write(type, 0, 'latin1'); b.writeUInt16BE(locate, 1); return b
}
function dir(locate: number, name: string): Buffer { const b = msg('R', 39, locate); b.write(name.padEnd(8), 11, 'latin1'); return b }
function add(locate: number, ref: number, side: string, shares: number, name: string, price: number): Buffer {
  const b = msg('A', 36, locate); b.writeUInt32BE(ref, 15); b.write(side, 19, 'latin1'); b.writeUInt32BE(shares, 20)
  b.write(name.padEnd(8), 24, 'latin1'); b.writeUInt32BE(price, 32); return b
}
function del(locate: number, ref: number): Buffer { const b = msg('D', 19, locate); b.writeUInt32BE(ref, 15); return b }

function setup() {
  const ring = new TickRing(256), symbols = new SharedSymbols(16), seqs = new SymbolSequences(16), stats = new FeedStats('nq')
  const norm = new Normalizer(ring, symbols, seqs, { quotesAreFullState: false })
  const dec = new ItchDecoder(norm, stats, { sessionDate: '2023-08-22' })
  const feed = (b: Buffer): number => { norm.beginBatch(0); const st = dec.decode(b, 0, b.length); norm.endBatch(); return st }
  const since = (from: number): number[][] => {
    const out: number[][] = []
    for (let s = from; s <= ring.cursor; s++) {
      const i = s & ring.mask, k = ring.kind[i]
      if (k === KIND_BOOK || k === KIND_STALE || k === KIND_FRESH) out.push([k, ring.symbolId[i], ring.code[i]])
    }
    return out
  }
  return { ring, symbols, seqs, stats, norm, dec, feed, since }
}

describe('ITCH book state', () => {
  it('synced from the directory, partial on a late join and on an unknown order, one marker per change', () => {
    const { ring, symbols, seqs, stats, dec, feed, since } = setup()
    expect(feed(dir(5, 'AAPL'))).toBe(DECODE_OK)
    expect(feed(add(9, 1, 'B', 100, 'MSFT', 4000000))).toBe(DECODE_OK) // no directory for locate 9: learned from the Add
    expect(symbols.idOf('MSFT')).toBe(1)
    expect(stats.lateJoins).toBe(1)
    expect(since(0)).toEqual([[KIND_BOOK, 0, PARTIAL_NONE], [KIND_BOOK, 1, PARTIAL_LATE_JOIN]])
    const mark = ring.cursor + 1
    expect(feed(del(5, 77))).toBe(DECODE_OK) // AAPL never had order 77: counted, AAPL's book is partial now
    expect(feed(del(9, 78))).toBe(DECODE_OK) // MSFT was partial already: no second marker
    expect(stats.unknownOrders[3]).toBe(2)
    expect(since(mark)).toEqual([[KIND_BOOK, 0, PARTIAL_UNKNOWN_ORDER]])
    expect([seqs.book[0], seqs.book[1]]).toEqual([PARTIAL_UNKNOWN_ORDER, PARTIAL_LATE_JOIN])
    expect(dec.locates.partialCount()).toBe(2)
  })

  it('markAllPartial → clearBooks → markAllSynced: markers for every book, empty books, and the gap lifted', () => {
    const { ring, stats, norm, dec, feed, since } = setup()
    feed(dir(5, 'AAPL')); feed(dir(6, 'IBM')); feed(add(5, 1, 'B', 100, 'AAPL', 1000))
    norm.feedGap(); dec.markAllPartial(PARTIAL_GAP) // what Feed does on a session gap
    let mark = 0
    expect(since(mark).slice(2)).toEqual([[KIND_STALE, 0, STALE_FEED_GAP], [KIND_STALE, 1, STALE_FEED_GAP], [KIND_BOOK, 0, PARTIAL_GAP], [KIND_BOOK, 1, PARTIAL_GAP]])
    dec.clearBooks()
    expect([dec.book.liveOrders, dec.book.liveLevels, dec.book.bestPrice(5, 0)]).toEqual([0, 0, 0])
    feed(add(5, 2, 'B', 300, 'AAPL', 1100)) // a snapshot refills the book: its quote goes out (still partial)
    expect(dec.book.bestSize(5, 0)).toBe(300)
    mark = ring.cursor + 1
    dec.markAllSynced()
    expect(since(mark)).toEqual([[KIND_BOOK, 0, PARTIAL_NONE], [KIND_FRESH, 0, 0], [KIND_BOOK, 1, PARTIAL_NONE], [KIND_FRESH, 1, 0]])
    expect([dec.locates.partialCount(), stats.partialBooks]).toEqual([0, 0])
    expect(stats.decodeErrors.reduce((a, b) => a + b, 0)).toBe(0)
  })
})
