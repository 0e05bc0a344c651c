import { describe, expect, it } from 'vitest'
import { SharedSymbols } from './shared-symbols.js'
import { NO_SYMBOL, SymbolTable } from './symbols.js'

describe('SharedSymbols and SymbolTable', () => {
  it('gives each new symbol the next id, and the same id again', () => {
    const s = new SharedSymbols(4)
    expect([s.add('AAPL', -4), s.add('MSFT', -4), s.add('AAPL', -2)]).toEqual([0, 1, 0])
    expect([s.idOf('MSFT'), s.idOf('NOPE'), s.priceExponent[0]]).toEqual([1, NO_SYMBOL, -4])
  })

  it('accepts exchange suffix notation and refuses what is ambiguous or unsafe', () => {
    const s = new SharedSymbols(64)
    for (const ok of ['BRK.B', 'BAC-L', 'AIG+', 'GRP=', 'BMY^', 'BTC-USD', 'ZVZZT', 'A']) expect(s.add(ok, -4), ok).not.toBe(NO_SYMBOL)
    for (const bad of ['', 'ALL-A*', 'WI#', 'A/B', '$SYS', 'A B', '"X', 'Ä', '-X', 'ABCDEFGHIJKLMNOPQ']) expect(s.add(bad, -4), bad).toBe(NO_SYMBOL)
  })

  it('refuses symbols beyond its capacity; a consumer learns them with precomputed wire names', () => {
    const s = new SharedSymbols(1), t = new SymbolTable(s)
    expect(s.add('X', 0)).toBe(0)
    expect(s.add('Y', 0)).toBe(NO_SYMBOL)
    expect(t.idOf('X')).toBe(NO_SYMBOL) // not learned from the ring yet
    expect(t.learnUpTo(0)).toBe(0)
    expect(t.learnUpTo(0)).toBe(-1)
    expect(t.jsonName[0].toString()).toBe('"X"')
    expect([...t.msgpackName[0]]).toEqual([0xa1, 0x58])
  })

  it('lets another thread map the same store: names and exponents read back, skipped ids learned in order', () => {
    const s = new SharedSymbols(8)
    s.add('AAPL', -4, 0); s.add('BRK.B', -2, 1); s.add('ZVZZT', -8, -3)
    const reader = new SymbolTable(new SharedSymbols(8, s.handle()))
    expect(reader.learnUpTo(2)).toBe(0)
    expect(reader.name).toEqual(['AAPL', 'BRK.B', 'ZVZZT'])
    expect([reader.priceExponent[1], reader.sizeExponent[1], reader.priceExponent[2], reader.sizeExponent[2]]).toEqual([-2, 1, -8, -3])
    expect(reader.idOf('BRK.B')).toBe(1)
  })
})
