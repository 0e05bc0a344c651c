import { describe, expect, it } from 'vitest'
import { DECODE_BAD_VALUE, DECODE_OK, DECODE_UNKNOWN_SYMBOL } from '../errors.js'
import { SymbolTable } from '../model/symbols.js'
import { KIND_QUOTE, KIND_TRADE, TickRing } from '../ring/ring-buffer.js'
import { Normalizer, SymbolSequences } from './normalizer.js'

function setup() {
  const ring = new TickRing(16), symbols = new SymbolTable(8), seqs = new SymbolSequences(8)
  return { ring, symbols, seqs, a: new Normalizer(ring, symbols, seqs), b: new Normalizer(ring, symbols, seqs) }
}

describe('Normalizer', () => {
  it('maps venue locates to symbol ids and numbers every event of a symbol from 1', () => {
    const { ring, a } = setup()
    expect(a.defineSymbol(900, 'AAPL', -4, 0)).toBe(DECODE_OK)
    expect(a.quote(900, 5, 100, 1, 101, 2, 0)).toBe(DECODE_OK)
    expect(a.trade(900, 6, 100, 7, 1, 66)).toBe(DECODE_OK)
    expect([ring.kind[0], ring.symbolSeq[0], ring.kind[1], ring.symbolSeq[1], ring.cursor]).toEqual([KIND_QUOTE, 1, KIND_TRADE, 2, 1])
    expect(a.quote(901, 5, 100, 1, 101, 2, 0)).toBe(DECODE_UNKNOWN_SYMBOL)
    expect(ring.cursor).toBe(1)
  })

  it('shares per-symbol sequences across feeds and rescales a feed whose exponent differs', () => {
    const { ring, a, b } = setup()
    a.defineSymbol(1, 'MSFT', -4, 0)
    b.defineSymbol(77, 'MSFT', -2, 0) // coarser feed: 42.10 arrives as 4210
    b.quote(77, 1, 4210, 3, 4211, 4, 0)
    a.quote(1, 2, 421000, 3, 421100, 4, 0)
    expect([ring.bidPrice[0], ring.symbolSeq[0], ring.bidPrice[1], ring.symbolSeq[1]]).toEqual([421000, 1, 421000, 2])
  })

  it('maps a directory-less feed (TOPS) onto a symbol another feed defined first', () => {
    const { ring, a, b } = setup()
    a.defineSymbol(13, 'AAPL', -4, 0) // ITCH: locate 13
    const loc = b.locateOf('AAPL', -4, 0) // TOPS: no directory, the symbol id is its locate
    expect(loc).toBe(0)
    expect(b.quote(loc, 1, 1489100, 100, 1489200, 200, 0)).toBe(DECODE_OK)
    expect(a.quote(13, 2, 1489100, 100, 1489300, 200, 0)).toBe(DECODE_OK)
    expect([ring.symbolId[0], ring.symbolSeq[0], ring.symbolId[1], ring.symbolSeq[1]]).toEqual([0, 1, 0, 2])
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
    a.defineSymbol(1, 'X', -2, 0)
    a.beginBatch(1); a.endBatch()
    a.beginBatch(2); a.quote(1, 1, 1, 1, 2, 1, 0); a.quote(1, 1, 1, 1, 2, 1, 0); a.endBatch()
    expect(wakes).toBe(1)
    expect(ring.recvTimeMs[0]).toBe(2)
  })
})
