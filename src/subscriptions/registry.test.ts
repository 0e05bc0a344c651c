import { describe, expect, it } from 'vitest'
import { FORMAT_JSON, FORMAT_MSGPACK, FORMAT_NAMES } from '../codec/tick-codec.js'
import type { WireFormat } from '../codec/tick-codec.js'
import { WsStats } from '../fanout/ws-stats.js'
import { addSymbol, symbolTable } from '../../test-support/symbols.js'
import { RequestResult, Subscriber, SubscriptionRegistry } from './registry.js'
import type { TopicMembership } from './registry.js'

/** A subscriber's socket, holding the topics its subscriber is a member of (as `format/SYMBOL`). */
class FakeSocket {
  readonly topics = new Set<string>()
  subscribe(): boolean { return true }
  unsubscribe(): boolean { return true }
}

function setup(maxSymbols = 3, maxPatterns = 2) {
  const symbols = symbolTable(['AAPL', 'AMZN', 'MSFT', 'MS.PR']), stats = new WsStats()
  const topic = (key: number) => `${FORMAT_NAMES[key & 1]}/${symbols.name[key >> 1]}`
  const members: TopicMembership = {
    join: (s, key) => { (s.ws as FakeSocket).topics.add(topic(key)) },
    leave: (s, key) => { (s.ws as FakeSocket | null)?.topics.delete(topic(key)) },
  }
  const reg = new SubscriptionRegistry(symbols, { maxSymbolsPerConnection: maxSymbols, maxPatternsPerConnection: maxPatterns }, stats, members)
  const sub = (format: WireFormat = FORMAT_JSON) => { const s = new Subscriber(format), ws = new FakeSocket(); s.ws = ws; return { s, ws } }
  return { symbols, stats, reg, sub, out: new RequestResult() }
}

describe('subscription registry', () => {
  it('counts subscribers per symbol and format and subscribes the per-format topic', () => {
    const { reg, sub, out, symbols, stats } = setup()
    const a = sub(FORMAT_JSON), b = sub(FORMAT_MSGPACK)
    reg.subscribe(a.s, ['AAPL'], out)
    expect(out.added).toEqual([symbols.idOf('AAPL')])
    out.reset(); reg.subscribe(b.s, ['AAPL', 'AAPL'], out)
    expect(out.symbols).toEqual(['AAPL'])
    const id = symbols.idOf('AAPL')
    expect(reg.wants(id, FORMAT_JSON) && reg.wants(id, FORMAT_MSGPACK)).toBe(true)
    expect(reg.wants(symbols.idOf('MSFT'), FORMAT_JSON)).toBe(false)
    expect([...a.ws.topics, ...b.ws.topics]).toEqual(['json/AAPL', 'msgpack/AAPL'])
    expect(stats.subscriptions).toBe(2)
    reg.release(a.s)
    expect(reg.wants(id, FORMAT_JSON)).toBe(false)
    expect(stats.subscriptions).toBe(1)
  })

  it('shares one Set for topics and explicit symbols until a pattern comes, and again once the last one goes', () => {
    const { reg, sub, out, symbols } = setup()
    const { s, ws } = sub()
    reg.subscribe(s, ['AAPL', 'MSFT'], out)
    expect(s.topics).toBe(s.explicit) // issue 12: one Set of ids per connection without patterns
    expect(out.added.map((id) => symbols.name[id])).toEqual(['AAPL', 'MSFT'])
    out.reset(); reg.subscribe(s, ['M*'], out)
    expect(s.topics).not.toBe(s.explicit)
    expect([...s.explicit].map((id) => symbols.name[id])).toEqual(['AAPL', 'MSFT'])
    expect(out.added.map((id) => symbols.name[id])).toEqual(['MS.PR'])
    out.reset(); reg.unsubscribe(s, ['MSFT'], out)
    expect(ws.topics.has('json/MSFT')).toBe(true) // still covered by M*
    out.reset(); reg.unsubscribe(s, ['M*'], out)
    expect(s.topics).toBe(s.explicit)
    expect([...ws.topics]).toEqual(['json/AAPL'])
    out.reset(); reg.unsubscribe(s, ['AAPL'], out)
    expect(ws.topics.size).toBe(0)
    expect(reg.counts.every((c) => c === 0)).toBe(true)
  })

  it('keeps a symbol while an explicit or pattern subscription still covers it', () => {
    const { reg, sub, out, symbols, stats } = setup()
    const { s, ws } = sub()
    reg.subscribe(s, ['AAPL', 'A*'], out)
    expect(out.added.map((id) => symbols.name[id])).toEqual(['AAPL', 'AMZN'])
    out.reset(); reg.unsubscribe(s, ['AAPL'], out)
    expect(out.symbols).toEqual(['AAPL'])
    expect(ws.topics.has('json/AAPL')).toBe(true) // still covered by A*
    out.reset(); reg.subscribe(s, ['AAPL'], out); reg.unsubscribe(s, ['A*'], out)
    expect([...ws.topics]).toEqual(['json/AAPL']) // AMZN went with the pattern, AAPL stays explicit
    expect(stats.patterns).toBe(0)
    out.reset(); reg.unsubscribe(s, ['AAPL', 'MSFT', 'NOPE'], out)
    expect(out.symbols).toEqual(['AAPL'])
    expect(ws.topics.size).toBe(0)
    expect(reg.counts.every((c) => c === 0)).toBe(true)
  })

  it('lists every explicit symbol of a subscribe, held already or not, while adding only new topics', () => {
    const { reg, sub, out, symbols } = setup()
    const { s } = sub()
    reg.subscribe(s, ['A*', 'MSFT'], out)
    out.reset(); reg.subscribe(s, ['AAPL', 'MSFT', 'AAPL', 'MS.PR'], out) // AAPL: covered by A*; MSFT: held already
    expect(out.added.map((id) => symbols.name[id])).toEqual(['MS.PR'])
    expect(out.listed.map((id) => symbols.name[id])).toEqual(['AAPL', 'MSFT', 'MS.PR']) // each gets a snapshot
    expect(out.symbols).toEqual(['AAPL', 'MSFT', 'MS.PR'])
  })

  it('subscribes pattern holders to matching symbols that appear later', () => {
    const { reg, sub, out, symbols } = setup()
    const all = sub(), ms = sub(FORMAT_MSGPACK)
    reg.subscribe(all.s, ['*'], out); reg.subscribe(ms.s, ['MS*'], out)
    const id = addSymbol(symbols, 'MSTR'), other = addSymbol(symbols, 'ZM')
    reg.symbolAdded(id); reg.symbolAdded(other) // the dispatcher's call once each KIND_SYMBOL passed
    expect(all.ws.topics.has('json/MSTR') && all.ws.topics.has('json/ZM')).toBe(true)
    expect(ms.ws.topics.has('msgpack/MSTR')).toBe(true)
    expect(reg.wants(id, FORMAT_MSGPACK)).toBe(true)
    expect(reg.wants(other, FORMAT_MSGPACK)).toBe(false)
  })

  it('reports bad, unknown and over-limit entries one by one and applies the rest', () => {
    const { reg, sub, out } = setup(2, 1)
    const { s } = sub()
    reg.subscribe(s, ['AAPL', 'ZZZZ', 'a/b', 'AMZN', 'MSFT', 'M*', 'A*', 'x*y*'], out)
    expect(out.symbols).toEqual(['AAPL', 'AMZN'])
    expect(out.patterns).toEqual(['M*'])
    expect(out.errorCodes).toEqual(['UNKNOWN_SYMBOL', 'BAD_SYMBOL', 'TOO_MANY_SUBSCRIPTIONS', 'TOO_MANY_SUBSCRIPTIONS', 'BAD_SYMBOL'])
    expect(out.errorSymbols).toEqual(['ZZZZ', 'a/b', 'MSFT', 'A*', 'x*y*'])
    expect(s.explicit.size).toBe(2)
  })
})
