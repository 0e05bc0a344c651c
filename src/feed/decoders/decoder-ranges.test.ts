// Decoders refuse what a double cannot hold exactly and what would make a table grow without bound: TOPS prices and
// trade ids beyond ±2^53 (starting from real TOPS messages), oversized directory locates, and garbage TOPS symbols.
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { writeSymbolDirectory } from '../../../feeds/native-encoder.js'
import { CaptureStats } from '../../../feeds/capture/capture-types.js'
import { IexTpReader } from '../../../feeds/capture/iex-tp.js'
import { TransportDemux } from '../../../feeds/capture/net-frame.js'
import { readCapture } from '../../../feeds/capture/pcap.js'
import { DECODE_BAD_VALUE, DECODE_OK, DECODE_UNKNOWN_SYMBOL } from '../../errors.js'
import { SharedSymbols } from '../../model/shared-symbols.js'
import { Normalizer, SymbolSequences } from '../../normalize/normalizer.js'
import { TickRing } from '../../ring/ring-buffer.js'
import { FeedStats, UNATTRIBUTABLE_BAD_SYMBOL, UNATTRIBUTABLE_REFUSED } from '../feed-stats.js'
import { NativeDecoder } from './native.js'
import { OFF_Q_ASK_PX, OFF_Q_BID_PX, OFF_T_PRICE, OFF_T_TRADE_ID, TOPS_REFUSED_CACHE_LIMIT, TopsDecoder } from './tops.js'

const SAMPLES = new URL('../../../feeds/samples/', import.meta.url)

/** The first real Quote Update and Trade Report of the IEX sample (copies). */
function realQuoteAndTrade(): { quote: Buffer; trade: Buffer } {
  const stats = new CaptureStats(), found: Record<string, Buffer> = {}
  const reader = new IexTpReader({ message(buf, off, len) { const t = String.fromCharCode(buf[off]); if ((t === 'Q' || t === 'T') && !found[t]) found[t] = Buffer.from(buf.subarray(off, off + len)) } }, stats)
  readCapture(gunzipSync(readFileSync(new URL('iex-tops16/TOPS16.pcapng.gz', SAMPLES))), new TransportDemux({ payload(b, o, l) { reader.payload(b, o, l) } }, stats), stats)
  return { quote: found.Q, trade: found.T }
}

function pipeline(capacity = 64) {
  const ring = new TickRing(1024), symbols = new SharedSymbols(capacity), stats = new FeedStats('f')
  const norm = new Normalizer(ring, symbols, new SymbolSequences(capacity))
  return { ring, symbols, stats, norm }
}

const i64le = (b: Buffer, o: number, v: bigint): void => { b.writeBigInt64LE(v, o) }

describe('decoder ranges', () => {
  it('TOPS: prices beyond ±2^53 and trade ids beyond 2^53 are refused and counted; the real values pass', () => {
    const { quote, trade } = realQuoteAndTrade()
    const { ring, stats, norm } = pipeline(), dec = new TopsDecoder(norm, stats)
    expect(dec.decode(quote, 0, quote.length)).toBe(DECODE_OK)
    expect(dec.decode(trade, 0, trade.length)).toBe(DECODE_OK)
    const events = ring.cursor
    const cases: Array<[Buffer, number, bigint]> = [
      [quote, OFF_Q_BID_PX, 2n ** 53n + 1n], [quote, OFF_Q_ASK_PX, -(2n ** 53n) - 3n], [quote, OFF_Q_BID_PX, 2n ** 62n],
      [trade, OFF_T_PRICE, 2n ** 53n], [trade, OFF_T_PRICE, -(2n ** 63n)], [trade, OFF_T_TRADE_ID, 2n ** 53n + 7n],
    ]
    for (const [msg, off, v] of cases) {
      const m = Buffer.from(msg); i64le(m, off, v)
      expect(dec.decode(m, 0, m.length), `${v} at ${off}`).toBe(DECODE_BAD_VALUE)
    }
    expect(stats.decodeErrors[DECODE_BAD_VALUE]).toBe(cases.length)
    expect(ring.cursor).toBe(events) // nothing inexact reached the ring
    const edge = Buffer.from(trade); i64le(edge, OFF_T_PRICE, 2n ** 53n - 1n) // the largest exact value is a value
    expect(dec.decode(edge, 0, edge.length)).toBe(DECODE_OK)
    expect(ring.tradePrice[ring.cursor & ring.mask]).toBe(2 ** 53 - 1)
  })

  it('native: a directory locate of 16,777,215 is refused without allocating for it; the last allowed one is taken', () => {
    const { symbols, stats, norm } = pipeline(64), dec = new NativeDecoder(norm, stats)
    const b = Buffer.alloc(64), heap = process.memoryUsage().arrayBuffers
    const len = writeSymbolDirectory(b, 0, 0xffffff, 1, 0, 'HUGE', -4, 0, 100, 1)
    expect(dec.decode(b, 0, len)).toBe(DECODE_BAD_VALUE)
    expect(process.memoryUsage().arrayBuffers - heap).toBeLessThan(16 * 1024 * 1024)
    expect(symbols.idOf('HUGE')).toBe(-1)
    writeSymbolDirectory(b, 0, 65535, 1, 0, 'EDGE', -4, 0, 100, 1)
    expect(dec.decode(b, 0, len)).toBe(DECODE_OK)
    writeSymbolDirectory(b, 0, 65536, 1, 0, 'OVER', -4, 0, 100, 1)
    expect(dec.decode(b, 0, len)).toBe(DECODE_BAD_VALUE)
    expect(stats.decodeErrors[DECODE_BAD_VALUE]).toBe(2)
  })

  it('TOPS: garbage symbols are counted as unattributable by reason, and the symbol cache stays bounded', () => {
    const { quote } = realQuoteAndTrade()
    const { stats, norm } = pipeline(8), dec = new TopsDecoder(norm, stats)
    const m = Buffer.from(quote)
    let bad = 0
    for (let k = 0; k < 3 * TOPS_REFUSED_CACHE_LIMIT; k++) {
      if (k % 2 === 0) { m.write('#' + k.toString(36).padEnd(7), 10, 'latin1'); bad++ } // '#': not a symbol
      else m.write(('Z' + k.toString(36)).toUpperCase().padEnd(8), 10, 'latin1') // valid, but the table holds 8
      const st = dec.decode(m, 0, m.length)
      expect(st === DECODE_OK || st === DECODE_UNKNOWN_SYMBOL).toBe(true)
    }
    expect(dec.symbols.size).toBeLessThanOrEqual(8 + TOPS_REFUSED_CACHE_LIMIT)
    expect(stats.unattributable[UNATTRIBUTABLE_BAD_SYMBOL]).toBe(bad)
    expect(stats.unattributable[UNATTRIBUTABLE_REFUSED]).toBe(stats.decodeErrors[DECODE_UNKNOWN_SYMBOL] - bad)
    expect(stats.unattributable[UNATTRIBUTABLE_REFUSED]).toBeGreaterThanOrEqual(3 * TOPS_REFUSED_CACHE_LIMIT / 2 - 8)
  })
})
