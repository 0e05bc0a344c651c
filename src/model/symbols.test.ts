import { describe, expect, it } from 'vitest'
import { NO_SYMBOL, SymbolTable } from './symbols.js'

describe('SymbolTable', () => {
  it('gives each new symbol the next id, and the same id again', () => {
    const t = new SymbolTable(4)
    expect([t.add('AAPL', -4), t.add('MSFT', -4), t.add('AAPL', -2)]).toEqual([0, 1, 0])
    expect([t.idOf('MSFT'), t.idOf('NOPE'), t.priceExponent[0]]).toEqual([1, NO_SYMBOL, -4])
  })

  it('accepts exchange suffix notation and refuses what is ambiguous or unsafe', () => {
    const t = new SymbolTable(64)
    for (const ok of ['BRK.B', 'BAC-L', 'AIG+', 'GRP=', 'BMY^', 'BTC-USD', 'ZVZZT', 'A']) expect(t.add(ok, -4), ok).not.toBe(NO_SYMBOL)
    for (const bad of ['', 'ALL-A*', 'WI#', 'A/B', '$SYS', 'A B', '"X', 'Ä', '-X', 'ABCDEFGHIJKLMNOPQ']) expect(t.add(bad, -4), bad).toBe(NO_SYMBOL)
  })

  it('refuses symbols beyond its capacity and precomputes their wire names', () => {
    const t = new SymbolTable(1)
    expect(t.add('X', 0)).toBe(0)
    expect(t.add('Y', 0)).toBe(NO_SYMBOL)
    expect(t.jsonName[0].toString()).toBe('"X"')
    expect([...t.msgpackName[0]]).toEqual([0xa1, 0x58])
  })

  it('tells control-plane listeners about each new symbol once', () => {
    const t = new SymbolTable(4), seen: number[] = []
    t.onAdded((id) => seen.push(id))
    t.add('A', 0); t.add('A', 0); t.add('B', 0)
    expect(seen).toEqual([0, 1])
  })
})
