import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DECODE_BAD_LENGTH, DECODE_BAD_VALUE, DECODE_OK, DECODE_UNKNOWN_SYMBOL, DECODE_UNKNOWN_TYPE } from '../../errors.js'
import { FeedStats } from '../feed-stats.js'
import type { TickSink } from '../../normalize/tick-sink.js'
import { writeNs, writeQuote, writeSymbolDirectory, writeSystemEvent, writeTrade, writeTradingStatus } from '../../../feeds/native-encoder.js'
import { NativeDecoder, nsToMicros } from './native.js'

type Call = (string | number)[]

/** Records every sink call as [method, ...args]; `reply` lets a test make the sink refuse. */
class RecordingSink implements TickSink {
  calls: Call[] = []
  reply = DECODE_OK
  defineSymbol(locate: number, name: string, pe: number, se: number) { this.calls.push(['defineSymbol', locate, name, pe, se]); return this.reply }
  locateOf(): number { return -1 }
  quote(l: number, t: number, bp: number, bs: number, ap: number, as: number, f: number) { this.calls.push(['quote', l, t, bp, bs, ap, as, f]); return this.reply }
  trade(l: number, t: number, p: number, s: number, id: number, side: number) { this.calls.push(['trade', l, t, p, s, id, side]); return this.reply }
  status(l: number, t: number, c: number) { this.calls.push(['status', l, t, c]); return this.reply }
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
// 2026-01-02T14:30:00.123456789Z = 0x1886F0604919DD15 ns (PROTOCOL.md §6), little-endian below
const TS = '15 dd 19 49 60 f0 86 18'
const TS_US = 1767364200123456, TS_NS = 789

// Written by hand from the PROTOCOL.md diagrams, not by the encoder under test.
const GOLDEN = {
  systemEvent: `53 4f 0000 00000000 ${TS}`,
  directory: `52 fc 00 00 01000000 ${TS} 4141504c 20202020 20202020 20202020 64000000 64000000`,
  status: `48 48 0000 07000000 ${TS}`,
  quote: `51 00 0000 01000000 ${TS} 80db1c0000000000 2c01000000000000 e4db1c0000000000 f401000000000000`,
  trade: `54 42 0000 02000000 ${TS} e4db1c0000000000 c800000000000000 0700000001000000`,
}

function setup() {
  const sink = new RecordingSink(), stats = new FeedStats('test')
  return { sink, stats, dec: new NativeDecoder(sink, stats) }
}

describe('NativeDecoder golden bytes', () => {
  it('decodes every message type to the exact sink fields', () => {
    const { sink, dec } = setup()
    const sys = hex(GOLDEN.systemEvent)
    expect(dec.decode(sys, 0, sys.length)).toBe(DECODE_OK)
    expect(dec.systemEvent).toBe(0x4f)
    expect(dec.systemEventTimeUs).toBe(TS_US)
    for (const k of ['directory', 'status', 'quote', 'trade'] as const) {
      const b = hex(GOLDEN[k])
      expect(dec.decode(b, 0, b.length)).toBe(DECODE_OK)
    }
    expect(sink.calls).toEqual([
      ['defineSymbol', 1, 'AAPL', -4, 0],
      ['status', 7, TS_US, 0x48],
      ['quote', 1, TS_US, 1891200, 300, 1891300, 500, 0],
      ['trade', 2, TS_US, 1891300, 200, 4294967303, 0x42],
    ])
  })

  it('decodes a payload that sits at an offset inside a larger frame buffer', () => {
    const { sink, dec } = setup()
    const q = hex(GOLDEN.quote), frame = Buffer.concat([hex('003153'), q, hex('ffff')])
    expect(dec.decode(frame, 3, q.length)).toBe(DECODE_OK)
    expect(sink.calls).toEqual([['quote', 1, TS_US, 1891200, 300, 1891300, 500, 0]])
  })

  it('encoder output equals the golden bytes', () => {
    const b = Buffer.alloc(64, 0xee)
    const enc = (n: number) => b.subarray(0, n).toString('hex')
    expect(enc(writeSystemEvent(b, 0, 0x4f, TS_US, TS_NS))).toBe(hex(GOLDEN.systemEvent).toString('hex'))
    expect(enc(writeSymbolDirectory(b, 0, 1, TS_US, TS_NS, 'AAPL', -4, 0, 100, 100))).toBe(hex(GOLDEN.directory).toString('hex'))
    expect(enc(writeTradingStatus(b, 0, 7, TS_US, TS_NS, 0x48))).toBe(hex(GOLDEN.status).toString('hex'))
    expect(enc(writeQuote(b, 0, 1, TS_US, TS_NS, 0, 1891200, 300, 1891300, 500))).toBe(hex(GOLDEN.quote).toString('hex'))
    expect(enc(writeTrade(b, 0, 2, TS_US, TS_NS, 0x42, 1891300, 200, 4294967303))).toBe(hex(GOLDEN.trade).toString('hex'))
  })
})

describe('exact decimal prices', () => {
  it('round-trips exponent -8 mantissas (0.00012345, 12345678.12345678, negatives, 2^53-1) unchanged', () => {
    const { sink, dec } = setup(), b = Buffer.alloc(48)
    const cases = [[12345, 1e8, 1234567812345678, 3], [-1234567812345678, 1, -12345, 7], [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1]]
    for (const [bp, bs, ap, as] of cases) {
      expect(dec.decode(b, 0, writeQuote(b, 0, 9, TS_US, 0, 0, bp, bs, ap, as))).toBe(DECODE_OK)
      expect(sink.calls.pop()).toEqual(['quote', 9, TS_US, bp, bs, ap, as, 0])
      expect(dec.decode(b, 0, writeTrade(b, 0, 9, TS_US, 0, 0x20, bp, bs, 1))).toBe(DECODE_OK)
      expect(sink.calls.pop()).toEqual(['trade', 9, TS_US, bp, bs, 1, 0x20])
    }
    // 12345678.12345678 at exponent -8 prints back exactly from the mantissa (no float on the way).
    expect(`${Math.trunc(1234567812345678 / 1e8)}.${String(1234567812345678 % 1e8).padStart(8, '0')}`).toBe('12345678.12345678')
  })
})

describe('bad input', () => {
  it('rejects every type truncated or extended by one byte with DECODE_BAD_LENGTH, counted', () => {
    const { sink, stats, dec } = setup()
    for (const g of Object.values(GOLDEN)) {
      const b = Buffer.concat([hex(g), Buffer.alloc(1)])
      expect(dec.decode(b, 0, b.length - 2)).toBe(DECODE_BAD_LENGTH)
      expect(dec.decode(b, 0, b.length)).toBe(DECODE_BAD_LENGTH)
    }
    expect(dec.decode(Buffer.alloc(4), 0, 0)).toBe(DECODE_BAD_LENGTH)
    expect(dec.decode(hex(GOLDEN.quote), 8, 48)).toBe(DECODE_BAD_LENGTH) // runs past the buffer
    expect(stats.decodeErrors[DECODE_BAD_LENGTH]).toBe(12)
    expect(sink.calls).toEqual([])
  })

  it('skips unknown types with DECODE_UNKNOWN_TYPE, counted', () => {
    const { stats, dec } = setup()
    const b = hex(GOLDEN.quote); b[0] = 0x5a // 'Z'
    expect(dec.decode(b, 0, 48)).toBe(DECODE_UNKNOWN_TYPE)
    expect(dec.decode(hex('00'), 0, 1)).toBe(DECODE_UNKNOWN_TYPE)
    expect(stats.decodeErrors[DECODE_UNKNOWN_TYPE]).toBe(2)
  })

  it('rejects out-of-range values with DECODE_BAD_VALUE, counted, without calling the sink', () => {
    const { sink, stats, dec } = setup()
    const bad = [
      `51 00 0000 01000000 ${TS} 0000000000002000 2c01000000000000 e4db1c0000000000 f401000000000000`, // bid px 2^53
      `51 00 0000 01000000 ${TS} 80db1c0000000000 2c01000000000000 000000000000e0ff f401000000000000`, // ask px -2^53
      `51 00 0000 01000000 ${TS} 80db1c0000000000 ffffffffffffffff e4db1c0000000000 f401000000000000`, // bid size -1
      `51 00 0000 01000000 ${TS} 80db1c0000000000 0000000000000000 e4db1c0000000000 f401000000000000`, // price on empty side
      `51 00 0000 00000000 ${TS} 80db1c0000000000 2c01000000000000 e4db1c0000000000 f401000000000000`, // locate 0
      `51 00 0000 00000001 ${TS} 80db1c0000000000 2c01000000000000 e4db1c0000000000 f401000000000000`, // locate 2^24
      `51 00 0000 01000000 00000000 0000007d 80db1c0000000000 2c01000000000000 e4db1c0000000000 f401000000000000`, // ts hi = 1000 × 2^21: µs would reach 2^53
      `54 42 0000 02000000 ${TS} e4db1c0000000000 c800000000000000 0000000000002000`, // trade id 2^53
      `54 42 0000 02000000 ${TS} e4db1c0000000000 0000000000000000 0700000000000000`, // size 0
      `54 58 0000 02000000 ${TS} e4db1c0000000000 c800000000000000 0700000000000000`, // side 'X'
      `48 58 0000 07000000 ${TS}`, // status 'X'
      `53 58 0000 00000000 ${TS}`, // event 'X'
      `52 fc 00 00 01000000 ${TS} 41412f4c 20202020 20202020 20202020 64000000 64000000`, // 'AA/L'
      `52 fc 00 00 01000000 ${TS} 20202020 20202020 20202020 20202020 64000000 64000000`, // blank symbol
      `52 ed 00 00 01000000 ${TS} 4141504c 20202020 20202020 20202020 64000000 64000000`, // exponent -19
      `52 fc 00 00 01000000 ${TS} 4141504c 20202020 20202020 20202020 00000000 64000000`, // round lot 0
    ]
    for (const h of bad) {
      const b = hex(h)
      expect([h, dec.decode(b, 0, b.length)]).toEqual([h, DECODE_BAD_VALUE])
    }
    expect(stats.decodeErrors[DECODE_BAD_VALUE]).toBe(bad.length)
    expect(sink.calls).toEqual([])
  })

  it('counts a status the sink returns (unknown locate) and passes it on', () => {
    const { sink, stats, dec } = setup()
    sink.reply = DECODE_UNKNOWN_SYMBOL
    const b = hex(GOLDEN.quote)
    expect(dec.decode(b, 0, 48)).toBe(DECODE_UNKNOWN_SYMBOL)
    expect(stats.decodeErrors[DECODE_UNKNOWN_SYMBOL]).toBe(1)
  })

  it('never throws on arbitrary bytes', () => {
    const { dec } = setup()
    fc.assert(fc.property(fc.uint8Array({ maxLength: 128 }), fc.nat(130), (bytes, len) => {
      const b = Buffer.from(bytes)
      dec.decode(b, 0, b.length)
      dec.decode(b, 0, len)
    }), { numRuns: 2000 })
  })

  it('never throws on arbitrary bodies of every known type at its exact length', () => {
    const { dec } = setup()
    const lens: Record<number, number> = { 0x53: 16, 0x52: 40, 0x48: 16, 0x51: 48, 0x54: 40 }
    fc.assert(fc.property(fc.constantFrom(0x53, 0x52, 0x48, 0x51, 0x54), fc.uint8Array({ minLength: 48, maxLength: 48 }), (t, body) => {
      const b = Buffer.from(body); b[0] = t
      expect([DECODE_OK, DECODE_BAD_VALUE]).toContain(dec.decode(b, 0, lens[t]))
    }), { numRuns: 3000 })
  })
})

describe('timestamps', () => {
  const LIMIT = 1000n * 2n ** 53n
  it('converts ns to µs exactly, against BigInt, over random values', () => {
    const b = Buffer.alloc(8)
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: LIMIT - 1n }), (ns) => {
      b.writeBigUInt64LE(ns)
      expect(nsToMicros(b, 0)).toBe(Number(ns / 1000n))
    }), { numRuns: 5000, examples: [[0n], [999n], [1000n], [2n ** 32n - 1n], [2n ** 32n], [LIMIT - 1n], [1767364200123456789n]] })
  })

  it('rejects timestamps at or beyond 1000 × 2^53 ns', () => {
    const b = Buffer.alloc(8)
    for (const ns of [LIMIT, LIMIT + 12345n, 2n ** 64n - 1n]) { b.writeBigUInt64LE(ns); expect(nsToMicros(b, 0)).toBe(-1) }
  })

  it('encoder writes (µs, ns remainder) as the exact u64 ns, against BigInt', () => {
    const b = Buffer.alloc(8)
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: LIMIT - 1n }), (ns) => {
      writeNs(b, 0, Number(ns / 1000n), Number(ns % 1000n))
      expect(b.readBigUInt64LE(0)).toBe(ns)
    }), { numRuns: 5000 })
  })
})
