import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import { unpack } from 'msgpackr'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LastValueCache } from '../cache/last-value-cache.js'
import { symbolTable } from '../../test-support/symbols.js'
import { KIND_BOOK, KIND_QUOTE, KIND_STATUS, KIND_TRADE, TickRing } from '../ring/ring-buffer.js'
import { writeDecimal, writeInt } from './ascii.js'
import { FORMAT_JSON, FORMAT_MSGPACK, writeBookMarker, writeEvent, writeLastQuote, writeMarker, writeSnapshot } from './tick-codec.js'
import type { WireFormat } from './tick-codec.js'
import { JSON_EVENT_MAX_BYTES } from './json-codec.js'
import { STALE_FEED_DOWN, STALE_FEED_GAP, STALE_LAPPED, STALE_NONE, STALE_REASONS } from '../model/staleness.js'
import { MSGPACK_EVENT_MAX_BYTES, writeMpInt } from './msgpack-codec.js'
import { SharedSymbols } from '../model/shared-symbols.js'
import { SymbolTable } from '../model/symbols.js'
import { PARTIAL_GAP, PARTIAL_LATE_JOIN, PARTIAL_NONE, PARTIAL_REASONS, PARTIAL_UNKNOWN_ORDER } from '../model/book-state.js'

const buf = Buffer.alloc(4096)
const dec = (m: number, x: number) => buf.toString('latin1', 0, writeDecimal(buf, 0, m, x))

function ringWith(kind: number, fill: (r: TickRing, i: number) => void): TickRing {
  const r = new TickRing(8), i = r.nextSlot()
  r.kind[i] = kind; r.symbolId[i] = 0; r.symbolSeq[i] = 7; r.exchTimeUs[i] = 1732619000123456
  fill(r, i); r.advance()
  return r
}

describe('decimal writer', () => {
  it('prints mantissa × 10^exponent exactly', () => {
    expect(dec(1891200, -4)).toBe('189.12')
    expect(dec(12345, -8)).toBe('0.00012345')
    expect(dec(1234567812345678, -8)).toBe('12345678.12345678')
    expect(dec(-5, -2)).toBe('-0.05')
    expect(dec(0, -4)).toBe('0')
    expect(dec(1000000, -4)).toBe('100')
    expect(dec(42, 3)).toBe('42000')
    expect(dec(0, 3)).toBe('0')
  })

  it('round-trips every decimal with up to 8 places through JSON.parse', () => {
    fc.assert(fc.property(fc.integer({ min: -(10 ** 15), max: 10 ** 15 }), fc.integer({ min: -8, max: 0 }), (m, x) => {
      const text = dec(m, x)
      const expected = x === 0 ? BigInt(m).toString() : (Number(BigInt(m)) / 10 ** -x).toString()
      // the JSON token parses to the double nearest the exact decimal, which prints back as that decimal
      expect(String(JSON.parse(text))).toBe(expected === '-0' ? '0' : String(Number(text)))
      const [ip, fp = ''] = text.replace('-', '').split('.')
      const scaled = BigInt(ip + fp.padEnd(-x, '0'))
      expect(scaled * (m < 0 ? -1n : 1n)).toBe(BigInt(m))
    }), { numRuns: 20_000 })
  })

  it('writes integers up to 2^53', () => {
    for (const v of [0, 7, 10, 99, -1, 1732619000123456, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]) {
      expect(buf.toString('latin1', 0, writeInt(buf, 0, v))).toBe(String(v))
    }
  })
})

describe('msgpack integers', () => {
  it('decode to the same number at every width boundary', () => {
    const values = [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 1732619000123456, Number.MAX_SAFE_INTEGER,
      -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -1732619000123456, -Number.MAX_SAFE_INTEGER]
    for (const v of values) expect(unpack(buf.subarray(0, writeMpInt(buf, 0, v)))).toBe(v)
  })
})

describe('event encoding', () => {
  const symbols = symbolTable(['BRK.B'], 4, -8)

  it('writes a quote identically in meaning in JSON and msgpack', () => {
    const r = ringWith(KIND_QUOTE, (r, i) => { r.bidPrice[i] = 1234567812345678; r.bidSize[i] = 300; r.askPrice[i] = 1234567812345679; r.askSize[i] = 0 })
    const json = JSON.parse(buf.toString('latin1', 0, writeEvent(FORMAT_JSON, r, 0, symbols, buf, 0)))
    expect(json).toEqual({ e: 'q', s: 'BRK.B', n: 7, bp: 12345678.12345678, bs: 300, ap: 12345678.12345679, as: 0, t: 1732619000123456 })
    const mp = unpack(buf.subarray(0, writeEvent(FORMAT_MSGPACK, r, 0, symbols, buf, 0)))
    expect(mp).toEqual({ e: 'q', s: 'BRK.B', n: 7, bp: 1234567812345678, bs: 300, ap: 1234567812345679, as: 0, px: -8, qx: 0, t: 1732619000123456 })
  })

  it('writes trades and statuses', () => {
    const t = ringWith(KIND_TRADE, (r, i) => { r.tradePrice[i] = 18912000000; r.tradeSize[i] = 100; r.tradeId[i] = 99; r.code[i] = 66 })
    expect(JSON.parse(buf.toString('latin1', 0, writeEvent(FORMAT_JSON, t, 0, symbols, buf, 0))))
      .toEqual({ e: 't', s: 'BRK.B', n: 7, p: 189.12, q: 100, side: 'B', id: 99, t: 1732619000123456 })
    expect(unpack(buf.subarray(0, writeEvent(FORMAT_MSGPACK, t, 0, symbols, buf, 0))))
      .toEqual({ e: 't', s: 'BRK.B', n: 7, p: 18912000000, q: 100, side: 'B', id: 99, px: -8, qx: 0, t: 1732619000123456 })
    const s = ringWith(KIND_STATUS, (r, i) => { r.code[i] = 72 })
    expect(JSON.parse(buf.toString('latin1', 0, writeEvent(FORMAT_JSON, s, 0, symbols, buf, 0))))
      .toEqual({ e: 'st', s: 'BRK.B', n: 7, st: 'H', t: 1732619000123456 })
  })

  it('snapshots a symbol with nulls for what it has not seen yet, and the latest state after', () => {
    const lvc = new LastValueCache(4)
    expect(JSON.parse(buf.toString('latin1', 0, writeSnapshot(FORMAT_JSON, lvc, symbols, 0, buf, 0))))
      .toEqual({ e: 'snap', s: 'BRK.B', n: 0, bp: null, bs: null, ap: null, as: null, qt: null, p: null, q: null, tt: null, st: null, stale: null, book: null, feed: null })
    const r = ringWith(KIND_QUOTE, (r, i) => { r.bidPrice[i] = 100; r.bidSize[i] = 1; r.askPrice[i] = 200; r.askSize[i] = 2 })
    lvc.apply(r, 0)
    const snap = unpack(buf.subarray(0, writeSnapshot(FORMAT_MSGPACK, lvc, symbols, 0, buf, 0)))
    expect(snap).toMatchObject({ e: 'snap', n: 7, bp: 100, ap: 200, p: null, st: null, px: -8 })
    expect(JSON.parse(buf.toString('latin1', 0, writeLastQuote(FORMAT_JSON, lvc, symbols, 0, buf, 0))))
      .toEqual({ e: 'q', s: 'BRK.B', n: 7, bp: 0.000001, bs: 1, ap: 0.000002, as: 2, t: 1732619000123456 })
  })
})

describe('stale/fresh markers and snapshot staleness match the AsyncAPI contract', () => {
  const symbols = symbolTable(['BRK.B', 'AIG+'], 4, -8)
  const ajv = new Ajv({ strict: false, allErrors: true })
  ajv.addSchema(JSON.parse(readFileSync(new URL('../../asyncapi.json', import.meta.url), 'utf8')) as object, 'asyncapi')
  const check = (schema: string, value: unknown): string[] => {
    const v = ajv.getSchema('asyncapi#/components/schemas/' + schema)
    if (!v) throw new Error('no schema ' + schema)
    return v(value) ? [] : [`${schema}: ${JSON.stringify(value)} → ${ajv.errorsText(v.errors)}`]
  }
  const decode = (format: WireFormat, end: number): Record<string, unknown> =>
    format === FORMAT_JSON ? JSON.parse(buf.toString('latin1', 0, end)) as Record<string, unknown> : unpack(buf.subarray(0, end)) as Record<string, unknown>
  const FORMATS = [[FORMAT_JSON, 'Json'], [FORMAT_MSGPACK, 'Msgpack']] as const

  it('writes every reason as a stale marker and reason 0 as a fresh one, in both formats, as the schemas say', () => {
    const t = 1732619000123456 // > 2^32: float64 in msgpack
    for (const [format, suffix] of FORMATS) {
      for (const id of [0, 1]) {
        const s = symbols.name[id]
        expect(decode(format, writeMarker(format, symbols, id, 41, STALE_NONE, t, buf, 0)), suffix).toEqual({ e: 'fresh', s, n: 41, t })
        expect(check('Fresh' + suffix, decode(format, writeMarker(format, symbols, id, 0, STALE_NONE, t, buf, 0)))).toEqual([])
        for (const reason of [STALE_FEED_GAP, STALE_FEED_DOWN, STALE_LAPPED]) {
          const ev = decode(format, writeMarker(format, symbols, id, 41, reason, t, buf, 0))
          expect(ev, suffix).toEqual({ e: 'stale', s, n: 41, reason: STALE_REASONS[reason], t })
          expect(check('Stale' + suffix, ev)).toEqual([])
          expect(check('Fresh' + suffix, ev), 'a stale marker is not a fresh one').not.toEqual([])
        }
      }
    }
  })

  it('keeps the longest marker within JSON_EVENT_MAX_BYTES', () => {
    const long = symbolTable(['ABCDEFGHIJKLMNOP'], 4)
    const end = writeMarker(FORMAT_JSON, long, 0, Number.MAX_SAFE_INTEGER, STALE_FEED_DOWN, Number.MAX_SAFE_INTEGER, buf, 0)
    expect(end).toBeLessThanOrEqual(JSON_EVENT_MAX_BYTES)
  })

  it('puts markers in data frames that validate', () => {
    const r = ringWith(KIND_QUOTE, (r, i) => { r.bidPrice[i] = 100; r.bidSize[i] = 1; r.askPrice[i] = 200; r.askSize[i] = 2 })
    let off = 0
    buf[off++] = 91 // [
    off = writeMarker(FORMAT_JSON, symbols, 0, 6, STALE_LAPPED, 1, buf, off); buf[off++] = 44
    off = writeEvent(FORMAT_JSON, r, 0, symbols, buf, off); buf[off++] = 44
    off = writeMarker(FORMAT_JSON, symbols, 0, 7, STALE_NONE, 2, buf, off); buf[off++] = 93
    const frame = JSON.parse(buf.toString('latin1', 0, off)) as unknown[]
    expect(frame.map((e) => (e as { e: string }).e)).toEqual(['stale', 'q', 'fresh'])
    expect(check('DataFrameJson', frame)).toEqual([])
    const mp = [0, 2].map((reason) => unpack(buf.subarray(0, writeMarker(FORMAT_MSGPACK, symbols, 1, 9, reason, 3, buf, 0))))
    expect(check('DataFrameMsgpack', mp)).toEqual([])
  })

  it('snapshots say stale: null when complete, else the reason (lapped here wins over the feed\'s word)', () => {
    const lvc = new LastValueCache(4)
    const r = ringWith(KIND_QUOTE, (r, i) => { r.bidPrice[i] = 100; r.bidSize[i] = 1; r.askPrice[i] = 200; r.askSize[i] = 2 })
    lvc.apply(r, 0)
    const cases: Array<[() => void, string | null]> = [
      [() => {}, null],
      [() => { lvc.upstreamStale[0] = STALE_FEED_GAP }, 'feed_gap'],
      [() => { lvc.upstreamStale[0] = STALE_FEED_DOWN }, 'feed_down'],
      [() => { lvc.lapped[0] = 1 }, 'lapped'],
      [() => { lvc.lapped[0] = 0; lvc.upstreamStale[0] = STALE_NONE }, null],
    ]
    for (const [set, stale] of cases) {
      set()
      for (const [format, suffix] of FORMATS) {
        const snap = decode(format, writeSnapshot(format, lvc, symbols, 0, buf, 0))
        expect(snap.stale, `${suffix} ${String(stale)}`).toBe(stale)
        expect(check('Snapshot' + suffix, snap)).toEqual([])
      }
    }
    // a symbol that has seen nothing yet can still be stale (its feed is down)
    lvc.upstreamStale[1] = STALE_FEED_DOWN
    for (const [format, suffix] of FORMATS) {
      const snap = decode(format, writeSnapshot(format, lvc, symbols, 1, buf, 0))
      expect(snap).toMatchObject({ e: 'snap', s: 'AIG+', n: 0, bp: null, stale: 'feed_down' })
      expect(check('Snapshot' + suffix, snap)).toEqual([])
    }
  })

  it('book events, snapshot `book` and the MQTT state marker say an order book\'s state, valid against the AsyncAPI schemas', () => {
    for (const code of [PARTIAL_NONE, PARTIAL_LATE_JOIN, PARTIAL_GAP, PARTIAL_UNKNOWN_ORDER]) {
      for (const [format, suffix] of FORMATS) {
        const ev = decode(format, writeBookMarker(format, symbols, 0, 41, code, 1732619000123456, buf, 0))
        const want: Record<string, unknown> = { e: 'book', s: 'BRK.B', n: 41, state: code === 0 ? 'synced' : 'partial', t: 1732619000123456 }
        if (code !== 0) want.reason = PARTIAL_REASONS[code]
        expect(ev).toEqual(want)
        expect(check('DataFrame' + suffix, [ev])).toEqual([])
        const state = decode(format, writeMarker(format, symbols, 0, 41, STALE_FEED_GAP, 5, buf, 0, code))
        expect(state).toMatchObject({ e: 'stale', reason: 'feed_gap', book: code === 0 ? 'synced' : 'partial' })
        expect(check('Stale' + suffix, state)).toEqual([])
      }
    }
    const lvc = new LastValueCache(4)
    lvc.apply(ringWith(KIND_BOOK, (r, i) => { r.code[i] = PARTIAL_LATE_JOIN }), 0)
    for (const [format, suffix] of FORMATS) {
      const snap = decode(format, writeSnapshot(format, lvc, symbols, 0, buf, 0))
      expect(snap).toMatchObject({ e: 'snap', book: 'partial' })
      expect(check('Snapshot' + suffix, snap)).toEqual([])
      expect(decode(format, writeSnapshot(format, lvc, symbols, 1, buf, 0))).toMatchObject({ book: null })
    }
  })

  it('snapshots name the feed a symbol belongs to (null without one), valid against the schemas, within the size bounds', () => {
    const shared = new SharedSymbols(4), table = new SymbolTable(shared)
    const longest = 'f'.repeat(32) // feed-config.ts FEED_NAME allows 32 characters: msgpack str8, not fixstr
    shared.setFeedName(1, 'nq'); shared.setFeedName(2, longest)
    const ids = ['AAPL', 'ABCDEFGHIJKLMNOP', 'MSFT'].map((n) => shared.add(n, -4, 0))
    shared.owner[ids[0]] = 1; shared.owner[ids[1]] = 2 // as symbol-ownership.ts writes it, before KIND_SYMBOL
    table.learnUpTo(ids[2])
    expect(table.feed).toEqual(['nq', longest, null])
    const lvc = new LastValueCache(4)
    for (const [format, suffix] of FORMATS) {
      const got = ids.map((id) => decode(format, writeSnapshot(format, lvc, table, id, buf, 0)))
      expect(got.map((s) => s.feed), suffix).toEqual(['nq', longest, null])
      for (const snap of got) expect(check('Snapshot' + suffix, snap)).toEqual([])
    }
    // the largest snapshot: every number at its widest, the longest symbol, reason and feed name
    const big = ringWith(KIND_QUOTE, (r, i) => { r.symbolId[i] = ids[1]; r.symbolSeq[i] = Number.MAX_SAFE_INTEGER; r.exchTimeUs[i] = -Number.MAX_SAFE_INTEGER
      r.bidPrice[i] = r.bidSize[i] = r.askPrice[i] = r.askSize[i] = -Number.MAX_SAFE_INTEGER })
    lvc.apply(big, 0)
    lvc.apply(ringWith(KIND_TRADE, (r, i) => { r.symbolId[i] = ids[1]; r.symbolSeq[i] = Number.MAX_SAFE_INTEGER; r.exchTimeUs[i] = -Number.MAX_SAFE_INTEGER
      r.tradePrice[i] = r.tradeSize[i] = r.tradeId[i] = -Number.MAX_SAFE_INTEGER; r.code[i] = 66 }), 0)
    lvc.apply(ringWith(KIND_BOOK, (r, i) => { r.symbolId[i] = ids[1]; r.code[i] = PARTIAL_UNKNOWN_ORDER }), 0)
    lvc.upstreamStale[ids[1]] = STALE_FEED_DOWN; lvc.status[ids[1]] = 72
    expect(writeSnapshot(FORMAT_JSON, lvc, table, ids[1], buf, 0)).toBeLessThanOrEqual(JSON_EVENT_MAX_BYTES)
    expect(writeSnapshot(FORMAT_MSGPACK, lvc, table, ids[1], buf, 0)).toBeLessThanOrEqual(MSGPACK_EVENT_MAX_BYTES)
  })
})
