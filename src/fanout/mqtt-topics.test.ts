import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addSymbol, symbolTable } from '../../test-support/symbols.js'
import { isValidNodeId, isValidTopicPrefix, quoteTopicFor, statusTopicFor, TopicCache, tradeTopicFor } from './mqtt-topics.js'

/** a single level without wildcards: `+` arrives percent-encoded */
const QUOTE_TOPIC = /^md\/v1\/quotes\/[A-Za-z0-9][A-Za-z0-9._=^%2B-]{0,47}$/

describe('topic building', () => {
  it('builds quote, trade and status topics for valid names', () => {
    expect(quoteTopicFor('md/v1', 'AAPL')).toBe('md/v1/quotes/AAPL')
    expect(tradeTopicFor('md/v1', 'BRK.B')).toBe('md/v1/trades/BRK.B')
    expect(statusTopicFor('md/v1', 'node-1')).toBe('md/v1/status/node-1')
  })

  it('carries exchange suffix notation, percent-encoding the + that MQTT reserves', () => {
    expect(quoteTopicFor('md/v1', 'AIG+')).toBe('md/v1/quotes/AIG%2B')
    expect(quoteTopicFor('md/v1', 'GRP=')).toBe('md/v1/quotes/GRP=')
    expect(tradeTopicFor('md/v1', 'BMY^')).toBe('md/v1/trades/BMY^')
  })

  it('rejects every symbol that could inject a level, a wildcard, $SYS or a NUL', () => {
    for (const bad of ['', 'A/B', '+', '#', 'A#', 'A*', '$SYS', 'X\u0000', 'ÄPPLE', ' AAPL', 'A B', 'ABCDEFGHIJKLMNOPQ', '-LEAD', '.', undefined]) {
      expect(quoteTopicFor('md/v1', bad)).toBeNull()
      expect(tradeTopicFor('md/v1', bad)).toBeNull()
    }
  })

  it('either rejects a symbol or yields a single safe level (property)', () => {
    const anyText = fc.oneof(
      fc.string({ maxLength: 24 }),
      fc.string({ unit: fc.constantFrom('A', 'z', '0', '.', '_', '-', '/', '+', '#', '$', '\u0000', ' ', 'é'), maxLength: 20 }),
    )
    fc.assert(fc.property(anyText, (sym) => {
      const t = quoteTopicFor('md/v1', sym)
      if (t !== null) { expect(t).toMatch(QUOTE_TOPIC); expect(t.split('/')).toHaveLength(4); expect(t).not.toMatch(/[+#]/) }
      else expect(/^[A-Za-z0-9][A-Za-z0-9._+=^-]{0,15}$/.test(sym)).toBe(false)
    }), { numRuns: 2000 })
  })

  it('accepts only wildcard-free prefixes and node ids', () => {
    expect(isValidTopicPrefix('md/v1')).toBe(true)
    expect(isValidTopicPrefix('acme/md/v2')).toBe(true)
    for (const bad of ['', '/md', 'md/', 'md//v1', 'md/+', 'md/#', '$SYS/md', 'm d']) expect(isValidTopicPrefix(bad)).toBe(false)
    expect(isValidNodeId('edge-01.eu')).toBe(true)
    for (const bad of ['', 'a/b', '+', '#', '$x', 'x'.repeat(65)]) expect(isValidNodeId(bad)).toBe(false)
  })
})

describe('TopicCache', () => {
  it('builds topics once per symbol and refuses an injected bad name forever', () => {
    const symbols = symbolTable([], 8)
    const good = addSymbol(symbols, 'MSFT'), bad = addSymbol(symbols, 'EVIL')
    symbols.name[bad] = 'EVIL/#' // a corrupted table must not become a wildcard publish
    const cache = new TopicCache('md/v1', symbols)
    expect(cache.ready(good)).toBe(true)
    const first = cache.quote[good]
    expect(first).toBe('md/v1/quotes/MSFT')
    expect(cache.ready(good)).toBe(true)
    expect(cache.quote[good]).toBe(first)
    expect(cache.trade[good]).toBe('md/v1/trades/MSFT')
    expect(cache.ready(bad)).toBe(false)
    symbols.name[bad] = 'EVIL'
    expect(cache.ready(bad)).toBe(false) // verdict is sticky: no re-validation per message
    expect(cache.ready(5)).toBe(false) // not added yet…
    while (symbols.shared.size < 5) symbols.shared.add(`S${symbols.shared.size}`, -2)
    expect(symbols.shared.add('LATE', -2)).toBe(5)
    expect(cache.ready(5)).toBe(false) // added by ingest, not learned by this consumer yet…
    symbols.learnUpTo(5)
    expect(cache.ready(5)).toBe(true) // …and usable once it is
    expect(cache.quote[5]).toBe('md/v1/quotes/LATE')
    expect(cache.ready(100)).toBe(false) // beyond capacity
  })
})
