import { describe, expect, it } from 'vitest'
import { writeQuote, writeSymbolDirectory } from '../../feeds/native-encoder.js'
import { DECODE_OK, DECODE_UNKNOWN_SYMBOL } from '../errors.js'
import { NativeDecoder } from '../feed/decoders/native.js'
import { FeedStats, REFUSED_OWNER, REFUSED_PATTERN, REFUSED_QUOTA } from '../feed/feed-stats.js'
import { SharedSymbols } from '../model/shared-symbols.js'
import { KIND_QUOTE, TickRing } from '../ring/ring-buffer.js'
import { Normalizer, SymbolSequences } from './normalizer.js'
import { symbolGlob } from './symbol-ownership.js'
import type { FeedClaim } from './symbol-ownership.js'

// Two feeds share one symbol table and one ring, as in the server: a symbol belongs to the feed that defined it first
// (or whose symbols= pattern names it); the other feed's definitions and quotes for it are refused and counted.

function feeds(specs: Array<{ symbols?: string; quota?: number }>) {
  const ring = new TickRing(1024), symbols = new SharedSymbols(64), seqs = new SymbolSequences(64)
  const claims: FeedClaim[] = specs.map((s, k) => ({ index: k + 1, pattern: s.symbols ? symbolGlob(s.symbols) : null }))
  const out = specs.map((s, k) => {
    const stats = new FeedStats('f' + (k + 1))
    const norm = new Normalizer(ring, symbols, seqs, { quotesAreFullState: true, ownership: { index: k + 1, claims, quota: s.quota, refusals: stats.symbolRefusals } })
    const dec = new NativeDecoder(norm, stats), b = Buffer.alloc(64)
    return {
      stats,
      define: (locate: number, name: string) => dec.decode(b, 0, writeSymbolDirectory(b, 0, locate, 1, 0, name, -4, 0, 100, 1)),
      quote: (locate: number, bid: number, ask: number) => dec.decode(b, 0, writeQuote(b, 0, locate, 2, 0, 0, bid, 100, ask, 100)),
    }
  })
  const quotes = (name: string): number[][] => {
    const id = symbols.idOf(name), q: number[][] = []
    for (let s = 0; s <= ring.cursor; s++) { const i = s & ring.mask; if (ring.kind[i] === KIND_QUOTE && ring.symbolId[i] === id) q.push([ring.bidPrice[i], ring.askPrice[i]]) }
    return q
  }
  return { feeds: out, symbols, quotes }
}

describe('symbol ownership', () => {
  it('refuses a second feed that defines an owned symbol, and its quotes for it, counting both', () => {
    const { feeds: [real, liar], symbols, quotes } = feeds([{}, {}])
    expect(real.define(7, 'AAPL')).toBe(DECODE_OK)
    expect(real.quote(7, 1891200, 1891300)).toBe(DECODE_OK)
    expect(liar.define(3, 'AAPL')).toBe(DECODE_UNKNOWN_SYMBOL)
    expect(liar.quote(3, 1, 99999900)).toBe(DECODE_UNKNOWN_SYMBOL) // bid 0.0001 / ask 9999.99 never reach AAPL
    expect(real.quote(7, 1891300, 1891400)).toBe(DECODE_OK)
    expect(quotes('AAPL')).toEqual([[1891200, 1891300], [1891300, 1891400]])
    expect(liar.stats.symbolRefusals[REFUSED_OWNER]).toBe(1)
    expect(liar.stats.decodeErrors[DECODE_UNKNOWN_SYMBOL]).toBe(2)
    expect(real.stats.symbolRefusals.reduce((a, b) => a + b, 0)).toBe(0)
    expect(symbols.owner[symbols.idOf('AAPL')]).toBe(1)
    expect(liar.define(4, 'MSFT')).toBe(DECODE_OK) // its own symbols still work
  })

  it('a symbols= pattern claims its symbols even before its feed defines them, and bounds what that feed may define', () => {
    const { feeds: [a, b] } = feeds([{}, { symbols: 'MSFT,Z*' }])
    expect(a.define(1, 'ZVZZT')).toBe(DECODE_UNKNOWN_SYMBOL) // first, but named by feed 2's pattern
    expect(a.stats.symbolRefusals[REFUSED_PATTERN]).toBe(1)
    expect(b.define(1, 'ZVZZT')).toBe(DECODE_OK)
    expect(b.define(2, 'MSFT')).toBe(DECODE_OK)
    expect(b.define(3, 'IBM')).toBe(DECODE_UNKNOWN_SYMBOL) // outside its own pattern
    expect(b.stats.symbolRefusals[REFUSED_PATTERN]).toBe(1)
    expect(a.define(3, 'IBM')).toBe(DECODE_OK)
  })

  it('a feed cannot define more than its quota, so it cannot fill the shared table', () => {
    const { feeds: [greedy, other], symbols } = feeds([{ quota: 3 }, {}])
    const codes = ['A', 'B', 'C', 'D', 'E'].map((s, k) => greedy.define(k + 1, 'SYM' + s))
    expect(codes).toEqual([DECODE_OK, DECODE_OK, DECODE_OK, DECODE_UNKNOWN_SYMBOL, DECODE_UNKNOWN_SYMBOL])
    expect(greedy.stats.symbolRefusals[REFUSED_QUOTA]).toBe(2)
    expect(greedy.define(1, 'SYMA')).toBe(DECODE_OK) // a redefinition of its own is not a new symbol
    expect(other.define(9, 'SYMD')).toBe(DECODE_OK)
    expect(symbols.size).toBe(4)
  })
})
