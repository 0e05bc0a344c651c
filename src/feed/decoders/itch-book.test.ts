import { describe, expect, it } from 'vitest'
import { DECODE_BAD_VALUE, DECODE_OK } from '../../errors.js'
import type { TickSink } from '../../normalize/tick-sink.js'
import { FeedStats } from '../feed-stats.js'
import { decodeItchMessage, easternMidnightUs, ItchDecoder } from './itch.js'
import type { ItchRecord } from './itch.js'

// The order path of ItchDecoder reads fields by byte arithmetic; decodeItchMessage reads them with Buffer's
// own readUInt*BE. These tests pin the two together where the arithmetic can go wrong (bit 31, bit 15, u48).

class Sink implements TickSink {
  readonly quotes: number[][] = []
  readonly trades: number[][] = []
  defineSymbol(): number { return DECODE_OK }
  locateOf(): number { return -1 }
  quote(...a: number[]): number { this.quotes.push(a); return DECODE_OK }
  trade(...a: number[]): number { this.trades.push(a); return DECODE_OK }
  status(): number { return DECODE_OK }
}

const DAY = '2023-08-22', MIDNIGHT = easternMidnightUs(DAY)
function msg(type: string, len: number, locate: number, ns: number): Buffer {
  const b = Buffer.alloc(len)
  b.write(type, 0, 'latin1'); b.writeUInt16BE(locate, 1); b.writeUInt16BE(Math.floor(ns / 2 ** 32), 5); b.writeUInt32BE(ns % 2 ** 32, 7)
  return b
}
const ref64 = (b: Buffer, o: number, v: number): void => { b.writeUInt32BE(Math.floor(v / 2 ** 32), o); b.writeUInt32BE(v % 2 ** 32, o + 4) }

describe('ItchDecoder order path (byte arithmetic) against Buffer readers', () => {
  it('turns 3,000 random adds into quotes whose fields equal decodeItchMessage, high bits included', () => {
    let seed = 7
    const rand = (): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0 }
    const sink = new Sink(), dec = new ItchDecoder(sink, new FeedStats('t'), { sessionDate: DAY })
    let bad = 0
    for (let i = 0; i < 3000; i++) {
      const locate = 1 + i * 21, ns = (rand() % 2 ** 16) * 2 ** 32 + rand(), ref = (rand() % 2 ** 21) * 2 ** 32 + rand()
      const a = msg('A', 36, locate, ns)
      ref64(a, 11, ref); a.write(i & 1 ? 'S' : 'B', 19, 'latin1'); a.writeUInt32BE(1 + (rand() >>> 1) + (i & 2 ? 2 ** 31 - 1 : 0), 20)
      a.writeUInt32BE((rand() | 0x80000000) >>> 0, 32)
      const rec: ItchRecord = {}
      expect(decodeItchMessage(a, 0, 36, rec)).toBe(DECODE_OK)
      expect(dec.decode(a, 0, 36)).toBe(DECODE_OK)
      const q = sink.quotes[sink.quotes.length - 1], want = i & 1 ? [0, 0, rec.price, rec.shares] : [rec.price, rec.shares, 0, 0]
      const ts = MIDNIGHT + Math.floor((rec.ts as number) / 1000)
      if (sink.quotes.length !== i + 1 || q[0] !== rec.locate || q[1] !== ts || q.slice(2, 6).join() !== want.join()) bad++
      if (dec.book.sharesOf(rec.ref as number) !== rec.shares) bad++
    }
    expect(bad).toBe(0)
    expect(sink.quotes[2999][0]).toBe(1 + 2999 * 21) // locates past 2^15 read unsigned
  })

  it('executes, cancels, replaces and deletes one order through reduceAt; prints only printable executions', () => {
    const sink = new Sink(), feed = new FeedStats('t'), dec = new ItchDecoder(sink, feed, { sessionDate: DAY })
    const ref = 0x1fffff * 2 ** 32 + 0xfffffffe, ns = 2 ** 48 - 1, L = 40_000 // largest exact ref, last ns of u48
    const a = msg('A', 36, L, ns)
    ref64(a, 11, ref); a.write('B', 19, 'latin1'); a.writeUInt32BE(1000, 20); a.writeUInt32BE(0xfffffff0, 32)
    expect(dec.decode(a, 0, 36)).toBe(DECODE_OK)
    const ts = MIDNIGHT + 281_474_976_710 // floor((2^48 - 1) / 1000)
    expect(sink.quotes.pop()).toEqual([L, ts, 0xfffffff0, 1000, 0, 0, 0])
    const e = msg('E', 31, L, 5000); ref64(e, 11, ref); e.writeUInt32BE(100, 19); ref64(e, 23, 2 ** 40 + 9)
    expect(dec.decode(e, 0, 31)).toBe(DECODE_OK)
    expect(sink.trades.pop()).toEqual([L, MIDNIGHT + 5, 0xfffffff0, 100, 2 ** 40 + 9, 0x53]) // resting bid: seller aggressed
    expect(sink.quotes.pop()).toEqual([L, MIDNIGHT + 5, 0xfffffff0, 900, 0, 0, 0])
    const c = msg('C', 36, L, 6000); ref64(c, 11, ref); c.writeUInt32BE(50, 19); ref64(c, 23, 10); c.write('N', 31, 'latin1'); c.writeUInt32BE(123, 32)
    expect(dec.decode(c, 0, 36)).toBe(DECODE_OK)
    expect(sink.trades.length).toBe(0) // non-printable: the book shrinks, nothing prints
    expect(sink.quotes.pop()?.[3]).toBe(850)
    c.write('Y', 31, 'latin1'); c.writeUInt32BE(25, 19)
    expect(dec.decode(c, 0, 36)).toBe(DECODE_OK)
    expect(sink.trades.pop()).toEqual([L, MIDNIGHT + 6, 123, 25, 10, 0x53])
    const x = msg('X', 23, L, 7000); ref64(x, 11, ref); x.writeUInt32BE(25, 19)
    expect(dec.decode(x, 0, 23)).toBe(DECODE_OK)
    expect(dec.book.sharesOf(ref)).toBe(800)
    const u = msg('U', 35, L, 8000); ref64(u, 11, ref); ref64(u, 19, 77); u.writeUInt32BE(300, 27); u.writeUInt32BE(0x80000000, 31)
    expect(dec.decode(u, 0, 35)).toBe(DECODE_OK)
    expect(sink.quotes.pop()).toEqual([L, MIDNIGHT + 8, 0x80000000, 300, 0, 0, 0])
    const d = msg('D', 19, L, 9000); ref64(d, 11, 77)
    expect(dec.decode(d, 0, 19)).toBe(DECODE_OK)
    expect(sink.quotes.pop()).toEqual([L, MIDNIGHT + 9, 0, 0, 0, 0, 0])
    expect([dec.book.liveOrders, dec.book.liveLevels, dec.book.unknownRefs]).toEqual([0, 0, 0])
    ref64(d, 11, 2 ** 53) // hi word 2^21: not exact in a double, refused before the book
    expect(dec.decode(d, 0, 19)).toBe(DECODE_BAD_VALUE)
    expect(dec.decode(e, 0, 31)).toBe(DECODE_OK) // the order is gone: an unknown reference, counted apart from bad values
    expect([dec.book.unknownRefs, feed.unknownOrders[0], feed.decodeErrors[DECODE_BAD_VALUE]]).toEqual([1, 1, 1])
  })
})
