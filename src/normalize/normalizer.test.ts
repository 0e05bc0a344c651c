import { describe, expect, it } from 'vitest'
import { DECODE_BAD_VALUE, DECODE_OK, DECODE_UNKNOWN_SYMBOL } from '../errors.js'
import { SharedSymbols } from '../model/shared-symbols.js'
import { STALE_FEED_DOWN, STALE_FEED_GAP } from '../model/staleness.js'
import { KIND_FRESH, KIND_QUOTE, KIND_STALE, KIND_SYMBOL, KIND_TRADE, LAST_DATA_KIND, TickRing } from '../ring/ring-buffer.js'
import type { NormalizerOptions } from './normalizer.js'
import { Normalizer, SymbolSequences } from './normalizer.js'

function setup(opts: NormalizerOptions = { quotesAreFullState: true }) {
  const ring = new TickRing(64), symbols = new SharedSymbols(8), seqs = new SymbolSequences(8)
  return { ring, symbols, seqs, a: new Normalizer(ring, symbols, seqs, opts), b: new Normalizer(ring, symbols, seqs, opts) }
}

/** The ring's events as [kind, symbol id, per-symbol seq, code], in order. */
function events(ring: TickRing, from = 0): number[][] {
  const out: number[][] = []
  for (let seq = from; seq <= ring.cursor; seq++) { const i = seq & ring.mask; out.push([ring.kind[i], ring.symbolId[i], ring.symbolSeq[i], ring.code[i]]) }
  return out
}

/** Only the data events (quotes, trades, statuses) as [kind, symbol id, seq]. */
function data(ring: TickRing): number[][] { return events(ring).filter((e) => e[0] <= LAST_DATA_KIND).map((e) => e.slice(0, 3)) }

describe('Normalizer', () => {
  it('maps venue locates to symbol ids and numbers every event of a symbol from 1', () => {
    const { ring, a } = setup()
    expect(a.defineSymbol(900, 'AAPL', -4, 0)).toBe(DECODE_OK)
    expect(a.quote(900, 5, 100, 1, 101, 2, 0)).toBe(DECODE_OK)
    expect(a.trade(900, 6, 100, 7, 1, 66)).toBe(DECODE_OK)
    // the new symbol is announced in the ring before its first event
    expect(events(ring)).toEqual([[KIND_SYMBOL, 0, 0, 0], [KIND_QUOTE, 0, 1, 0], [KIND_TRADE, 0, 2, 66]])
    expect(a.quote(901, 5, 100, 1, 101, 2, 0)).toBe(DECODE_UNKNOWN_SYMBOL)
    expect(ring.cursor).toBe(2)
  })

  it('shares per-symbol sequences across feeds and rescales a feed whose exponent differs', () => {
    const { ring, a, b } = setup()
    a.defineSymbol(1, 'MSFT', -4, 0)
    b.defineSymbol(77, 'MSFT', -2, 0) // coarser feed: 42.10 arrives as 4210
    b.quote(77, 1, 4210, 3, 4211, 4, 0)
    a.quote(1, 2, 421000, 3, 421100, 4, 0)
    expect(events(ring).filter((e) => e[0] === KIND_SYMBOL)).toHaveLength(1) // one symbol, announced once
    expect([ring.bidPrice[1], ring.symbolSeq[1], ring.bidPrice[2], ring.symbolSeq[2]]).toEqual([421000, 1, 421000, 2])
  })

  it('maps a directory-less feed (TOPS) onto a symbol another feed defined first', () => {
    const { ring, a, b } = setup()
    a.defineSymbol(13, 'AAPL', -4, 0) // ITCH: locate 13
    const loc = b.locateOf('AAPL', -4, 0) // TOPS: no directory, the symbol id is its locate
    expect(loc).toBe(0)
    expect(b.quote(loc, 1, 1489100, 100, 1489200, 200, 0)).toBe(DECODE_OK)
    expect(a.quote(13, 2, 1489100, 100, 1489300, 200, 0)).toBe(DECODE_OK)
    expect(data(ring)).toEqual([[KIND_QUOTE, 0, 1], [KIND_QUOTE, 0, 2]])
  })

  it('unmaps a locate whose redefinition is refused, so it never publishes under its old symbol', () => {
    const { a } = setup()
    a.defineSymbol(7, 'GOOD', -4, 0)
    expect(a.defineSymbol(7, 'BAD*', -4, 0)).toBe(DECODE_UNKNOWN_SYMBOL)
    expect(a.quote(7, 1, 1, 1, 2, 1, 0)).toBe(DECODE_UNKNOWN_SYMBOL)
  })

  it('rejects a rescaled value that is no longer an exact integer', () => {
    const { a, b } = setup()
    a.defineSymbol(1, 'X', -2, 0)
    b.defineSymbol(1, 'X', -4, 0) // finer feed: 42.1234 cannot be held in 2 decimals
    expect(b.quote(1, 1, 421234, 1, 421300, 1, 0)).toBe(DECODE_BAD_VALUE)
    expect(b.quote(1, 1, 421200, 1, 421300, 1, 0)).toBe(DECODE_OK)
  })

  it('wakes the consumer once per batch, only when the batch wrote something', () => {
    const { ring, a } = setup()
    let wakes = 0
    ring.wake = () => { wakes++ }
    a.beginBatch(1); a.defineSymbol(1, 'X', -2, 0); a.endBatch()
    a.beginBatch(2); a.endBatch()
    a.beginBatch(3); a.quote(1, 1, 1, 1, 2, 1, 0); a.quote(1, 1, 1, 1, 2, 1, 0); a.endBatch()
    expect(wakes).toBe(2)
    expect(ring.recvTimeMs[1]).toBe(3)
  })
})

describe('Normalizer: a feed\'s word on its symbols\' completeness, in the ring in order', () => {
  it('marks exactly this feed\'s symbols stale on a gap, after the events before it, with their current sequence', () => {
    const { ring, a, b } = setup()
    a.defineSymbol(1, 'AAPL', -4, 0); a.defineSymbol(2, 'MSFT', -4, 0); b.defineSymbol(9, 'IBM', -4, 0)
    a.quote(1, 1, 10, 1, 11, 1, 0); a.trade(2, 2, 10, 1, 1, 66)
    const before = ring.cursor
    a.feedGap()
    expect(events(ring, before + 1)).toEqual([[KIND_STALE, 0, 1, STALE_FEED_GAP], [KIND_STALE, 1, 1, STALE_FEED_GAP]]) // not IBM
    a.feedGap() // already stale: nothing new to say
    expect(ring.cursor).toBe(before + 2)
  })

  it('makes a gap-stale symbol fresh with its next quote when quotes are the whole top of book', () => {
    const { ring, a } = setup()
    a.defineSymbol(1, 'AAPL', -4, 0); a.defineSymbol(2, 'MSFT', -4, 0)
    a.quote(1, 1, 10, 1, 11, 1, 0)
    a.feedGap()
    const before = ring.cursor
    a.trade(1, 2, 10, 1, 1, 66) // a trade is not the symbol's state
    a.quote(1, 3, 10, 1, 11, 1, 0)
    expect(events(ring, before + 1)).toEqual([[KIND_TRADE, 0, 2, 66], [KIND_QUOTE, 0, 3, 0], [KIND_FRESH, 0, 3, 0]])
    a.quote(1, 4, 10, 1, 11, 1, 0)
    expect(ring.kind[ring.cursor & ring.mask]).toBe(KIND_QUOTE) // fresh once, not per quote
  })

  it('keeps an order-book feed\'s symbols stale after a gap: its quotes come from a book the gap may have damaged', () => {
    const { ring, a } = setup({ quotesAreFullState: false })
    a.defineSymbol(1, 'AAPL', -4, 0)
    a.feedGap()
    a.quote(1, 3, 10, 1, 11, 1, 0)
    expect(events(ring).map((e) => e[0])).toEqual([KIND_SYMBOL, KIND_STALE, KIND_QUOTE])
  })

  it('marks the feed\'s symbols stale while it is down and fresh when it is back, unless a gap still stands', () => {
    const { ring, a } = setup()
    a.defineSymbol(1, 'AAPL', -4, 0); a.defineSymbol(2, 'MSFT', -4, 0)
    a.feedDown(); a.feedDown()
    expect(events(ring, 2)).toEqual([[KIND_STALE, 0, 0, STALE_FEED_DOWN], [KIND_STALE, 1, 0, STALE_FEED_DOWN]])
    a.feedGap() // down and a gap: the gap is the reason clients are given (it outlasts the outage)
    expect(events(ring, 4)).toEqual([[KIND_STALE, 0, 0, STALE_FEED_GAP], [KIND_STALE, 1, 0, STALE_FEED_GAP]])
    a.quote(1, 1, 10, 1, 11, 1, 0) // an event proves the feed is up; AAPL's quote repairs its gap
    expect(events(ring, 6)).toEqual([[KIND_QUOTE, 0, 1, 0], [KIND_FRESH, 0, 1, 0]]) // MSFT still waits for a quote
    expect(a.isDown).toBe(false)
  })

  it('says fresh when the feed is heard again (heartbeats) after an outage with no gap', () => {
    const { ring, a } = setup()
    a.defineSymbol(1, 'AAPL', -4, 0); a.defineSymbol(2, 'MSFT', -4, 0)
    a.feedDown(); a.feedUp(); a.feedUp()
    expect(events(ring, 2).map((e) => [e[0], e[1], e[3]])).toEqual([
      [KIND_STALE, 0, STALE_FEED_DOWN], [KIND_STALE, 1, STALE_FEED_DOWN], [KIND_FRESH, 0, 0], [KIND_FRESH, 1, 0]])
  })

  it('publishes markers written outside a TCP chunk at once, and those inside with the chunk', () => {
    const { ring, a } = setup()
    let wakes = 0
    ring.wake = () => { wakes++ }
    a.beginBatch(1); a.defineSymbol(1, 'AAPL', -4, 0); a.endBatch()
    a.feedDown()
    expect([wakes, ring.loadSharedCursor()]).toEqual([2, 1])
    a.beginBatch(2); a.feedUp(); expect(wakes).toBe(2); a.endBatch()
    expect([wakes, ring.loadSharedCursor()]).toEqual([3, 2])
  })
})
