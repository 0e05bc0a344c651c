import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { CaptureStats } from '../../../feeds/capture/capture-types.js'
import { IexTpReader, PROTOCOL_TOPS } from '../../../feeds/capture/iex-tp.js'
import { formatIp, TransportDemux } from '../../../feeds/capture/net-frame.js'
import { readCapture } from '../../../feeds/capture/pcap.js'
import { DECODE_BAD_LENGTH, DECODE_OK, DECODE_UNKNOWN_TYPE } from '../../errors.js'
import type { TickSink } from '../../normalize/tick-sink.js'
import { FeedStats } from '../feed-stats.js'
import { decodeTopsMessage, TopsDecoder, TopsMessage } from './tops.js'

const SAMPLES = new URL('../../../feeds/samples/', import.meta.url)
const expected = JSON.parse(readFileSync(new URL('expected/TOPS16.expected.json', SAMPLES), 'utf8'))
const pcap = gunzipSync(readFileSync(new URL('iex-tops16/TOPS16.pcapng.gz', SAMPLES)))

const px = (raw: number): string => (raw / 1e4).toFixed(4) // test-side formatting only (|raw| < 2^53 / 1e4)
const iso = (us: number, nsRem: number): string =>
  new Date(Math.floor(us / 1000)).toISOString().slice(0, 19) + '.' + String((us % 1e6) * 1000 + nsRem).padStart(9, '0') + 'Z'

/** Records what the decoder hands the sink, with locate → name resolved the way a normalizer would. */
class RecordingSink implements TickSink {
  readonly names: string[] = []
  readonly quotes: number[][] = []
  readonly trades: number[][] = []
  readonly statuses: number[][] = []
  defineSymbol(): number { return DECODE_OK }
  locateOf(name: string): number { this.names.push(name); return this.names.length - 1 }
  quote(l: number, t: number, bp: number, bs: number, ap: number, as: number, f: number): number { this.quotes.push([l, t, bp, bs, ap, as, f]); return DECODE_OK }
  trade(l: number, t: number, p: number, s: number, id: number, side: number): number { this.trades.push([l, t, p, s, id, side]); return DECODE_OK }
  status(l: number, t: number, c: number): number { this.statuses.push([l, t, c]); return DECODE_OK }
}

interface Decoded { seq: number; m: TopsMessage; len: number }
function readAll() {
  const stats = new CaptureStats(), sink = new RecordingSink(), feed = new FeedStats('tops')
  const decoder = new TopsDecoder(sink, feed)
  const all: Decoded[] = [], protocols = new Set<number>(), sessions = new Set<number>(), flows = new Set<string>()
  let lastStreamOffset = 0
  const reader = new IexTpReader({
    message(buf, off, len, seq) {
      const m = new TopsMessage()
      expect(decodeTopsMessage(buf, off, len, m)).toBe(DECODE_OK)
      all.push({ seq, m, len })
      expect(decoder.decode(buf, off, len)).toBe(DECODE_OK)
      protocols.add(reader.header.protocolId); sessions.add(reader.header.sessionId)
      lastStreamOffset = reader.header.streamOffset
    },
  }, stats)
  const demux = new TransportDemux({
    payload(buf, off, len, ts) {
      const f = demux.frame
      flows.add(`${formatIp(f.srcIp)} -> ${formatIp(f.dstIp)}:${f.dstPort}`)
      reader.payload(buf, off, len)
      void ts
    },
  }, stats)
  readCapture(pcap, demux, stats)
  return { stats, sink, feed, decoder, all, protocols, sessions, flows, lastStreamOffset, reader }
}
const r = readAll()
const sym = (d: Decoded) => d.m.symbol

describe('IEX TOPS 1.6 sample (README §1) through our capture reader and decoder', () => {
  it('is the published file, read as 13,022 datagrams of one IEX-TP flow', () => {
    expect(createHash('sha256').update(pcap).digest('hex')).toBe(expected.file.pcap_sha256)
    expect(pcap.length).toBe(3_289_628)
    expect(r.stats.udpDatagrams).toBe(expected.file.udp_datagrams)
    expect(r.stats.udpDatagrams).toBe(13_022)
    expect(r.stats.heartbeats).toBe(237)
    expect(r.stats.truncated + r.stats.badPackets + r.stats.badBlocks).toBe(0)
    expect([...r.flows]).toEqual(['26.90.130.110 -> 224.67.0.199:16642'])
    expect([...r.protocols]).toEqual([PROTOCOL_TOPS])
    expect([...r.sessions]).toEqual([1137508352])
    expect(r.reader.header.channelId).toBe(1)
    expect(r.lastStreamOffset + r.all[r.all.length - 1].len + 2).toBe(2_013_448)
  })

  it('yields 57,674 messages with contiguous sequence numbers 1..57,674', () => {
    expect(r.all.length).toBe(57_674)
    expect(r.stats.messages).toBe(57_674)
    for (let i = 0; i < r.all.length; i++) if (r.all[i].seq !== i + 1) expect(r.all[i].seq).toBe(i + 1)
    expect(r.reader.gaps).toBe(0)
    expect(r.feed.decodeErrors.reduce((a, b) => a + b, 0)).toBe(0)
  })

  it('counts every type and length as the reference', () => {
    const counts: Record<string, number> = {}, lens: Record<string, Set<number>> = {}
    for (const d of r.all) { counts[d.m.type] = (counts[d.m.type] ?? 0) + 1; (lens[d.m.type] ??= new Set()).add(d.len) }
    expect(counts).toEqual(expected.counts)
    expect(counts).toEqual({ Q: 27_217, H: 7_803, P: 7_802, O: 7_801, T: 6_390, A: 642, D: 10, S: 6, B: 3 })
    const one = Object.fromEntries(Object.entries(lens).map(([k, v]) => [k, [...v]]))
    expect(one).toEqual({ S: [10], D: [31], H: [22], O: [18], P: [19], Q: [42], T: [38], A: [80], B: [38] })
    expect(r.decoder.typeCounts[0x51]).toBe(27_217)
    expect(r.decoder.tradeBreaks).toBe(3)
  })

  it('decodes the system events and first ten messages as the reference', () => {
    const ev = r.all.filter((d) => d.m.type === 'S').map((d) => ({ type: 'S', event: d.m.code, ts: iso(d.m.tsUs, d.m.tsNsRem), seq: d.seq }))
    expect(ev).toEqual(expected.system_events)
    expect(ev.map((e) => e.event).join('')).toBe('OSRMEC')
    const first = r.all.slice(0, 10).map((d) => view(d))
    expect(first).toEqual(expected.first10)
    expect(first[4]).toMatchObject({ type: 'Q', symbol: 'A', flags: 0x40, bid_size: 0, bid: '0.0000' })
  })

  it('matches the quote figures: flags, two-sided count, first two-sided ICCC, last quote', () => {
    const qs = r.all.filter((d) => d.m.type === 'Q')
    const flags: Record<string, number> = {}
    for (const d of qs) flags[d.m.flags] = (flags[d.m.flags] ?? 0) + 1
    expect(flags).toEqual(expected.quotes.flags)
    expect(flags).toEqual({ 64: 17_621, 0: 9_588, 128: 4, 192: 4 })
    const two = qs.filter((d) => d.m.bidPrice > 0 && d.m.askPrice > 0)
    expect(two.length).toBe(2_786)
    expect(two.filter((d) => d.m.bidPrice >= d.m.askPrice).length).toBe(0)
    expect(view(two[0])).toEqual(expected.quotes.first_two_sided)
    expect(view(two[0])).toMatchObject({ symbol: 'ICCC', bid_size: 282, bid: '4.2100', ask: '4.2200', ask_size: 100, seq: 31_234 })
    expect(view(qs[qs.length - 1])).toEqual(expected.quotes.last)
    expect(new Set(qs.map(sym)).size).toBe(expected.quotes.symbols)
  })

  it('matches the trade figures: 6,390 prints, 1,427,907 shares, 23 symbols, first and last', () => {
    const ts = r.all.filter((d) => d.m.type === 'T')
    expect(ts.length).toBe(6_390)
    expect(ts.reduce((a, d) => a + d.m.size, 0)).toBe(1_427_907)
    expect(new Set(ts.map(sym)).size).toBe(23)
    expect(view(ts[0])).toEqual(expected.trades.first)
    expect(view(ts[0])).toMatchObject({ symbol: 'AAPL', size: 283, price: '148.9100', trade_id: 128_140, flags: 0xc0, seq: 31_217 })
    expect(view(ts[ts.length - 1])).toEqual(expected.trades.last)
    expect(view(ts[ts.length - 1])).toMatchObject({ symbol: 'AMZN', size: 222, price: '364.9500', trade_id: 336_613, seq: 57_645 })
  })

  it('matches the per-symbol figures (AAPL, AMZN, FB, ICCC, ZIEXT)', () => {
    for (const [s, e] of Object.entries<Record<string, unknown>>(expected.per_symbol)) {
      const qs = r.all.filter((d) => d.m.type === 'Q' && d.m.symbol === s), two = qs.filter((d) => d.m.bidPrice > 0 && d.m.askPrice > 0)
      const ts = r.all.filter((d) => d.m.type === 'T' && d.m.symbol === s)
      const shares = ts.reduce((a, d) => a + d.m.size, 0), notional = ts.reduce((a, d) => a + d.m.size * d.m.price, 0)
      expect({ quote_updates: qs.length, two_sided_quotes: two.length, trades: ts.length, trade_shares: shares,
        first_two_sided_quote: view(two[0]), last_two_sided_quote: view(two[two.length - 1]),
        first_trade: view(ts[0]), last_trade: view(ts[ts.length - 1]), vwap_x1e4: Math.round(notional / shares) }).toEqual(e)
    }
    const aapl = expected.per_symbol.AAPL
    expect([aapl.quote_updates, aapl.two_sided_quotes, aapl.trades, aapl.trade_shares]).toEqual([178, 110, 268, 64_705])
    expect([expected.per_symbol.AMZN.trades, expected.per_symbol.AMZN.trade_shares]).toEqual([303, 70_905])
    expect([expected.per_symbol.FB.trades, expected.per_symbol.FB.trade_shares]).toEqual([274, 63_471])
  })

  it('decodes the security directory and the three trade breaks', () => {
    const dir = r.all.filter((d) => d.m.type === 'D').map(view)
    expect(dir).toEqual(expected.security_directory)
    expect(dir.filter((d) => d.flags === 0x80).map((d) => d.symbol)).toEqual(['ZEXIT', 'ZIEXT', 'ZXIET'])
    const br = r.all.filter((d) => d.m.type === 'B').map(view)
    expect(br).toEqual(expected.trade_breaks)
    expect(br.map((b) => [b.symbol, b.size, b.price, b.trade_id])).toEqual([['ZXIET', 3860, '29.9900', 171_978], ['ZEXIT', 3063, '9.9800', 171_918], ['ZIEXT', 1647, '19.9500', 283_798]])
  })

  it('hands the sink every quote, trade and status with exponent -4 prices and µs times', () => {
    const s = r.sink
    expect(s.quotes.length).toBe(27_217)
    expect(s.trades.length).toBe(6_390)
    expect(s.statuses.length).toBe(7_803)
    expect(s.names.length).toBe(new Set(s.names).size) // one locateOf per distinct symbol (cache hit after)
    const t0 = s.trades[0]
    expect([s.names[t0[0]], t0[2], t0[3], t0[4]]).toEqual(['AAPL', 1_489_100, 283, 128_140])
    expect(t0[1]).toBe(Date.UTC(2017, 6, 10, 14, 33, 46) * 1000 + 594_103)
    const q = s.quotes.find((x) => x[2] > 0 && x[4] > 0)!
    expect([s.names[q[0]], q[2], q[3], q[4], q[5], q[6]]).toEqual(['ICCC', 42_100, 282, 42_200, 100, 0x40])
    expect(s.statuses.every((x) => x[2] === 0x54 || x[2] === 0x48 || x[2] === 0x50 || x[2] === 0x51)).toBe(true)
  })
})

describe('TOPS decoder statuses', () => {
  it('reports short, unknown and out-of-buffer messages without throwing', () => {
    const feed = new FeedStats('t'), dec = new TopsDecoder(new RecordingSink(), feed)
    const q = Buffer.alloc(42); q[0] = 0x51; q.write('AAPL    ', 10, 'latin1')
    expect(dec.decode(q, 0, 42)).toBe(DECODE_OK)
    expect(dec.decode(q, 0, 41)).toBe(DECODE_BAD_LENGTH)
    expect(dec.decode(q, 1, 42)).toBe(DECODE_BAD_LENGTH)
    expect(dec.decode(q, 0, 0)).toBe(DECODE_BAD_LENGTH)
    q[0] = 0x7a
    expect(dec.decode(q, 0, 42)).toBe(DECODE_UNKNOWN_TYPE)
    expect([feed.decodeErrors[DECODE_BAD_LENGTH], feed.decodeErrors[DECODE_UNKNOWN_TYPE]]).toEqual([3, 1])
  })
})

function view(d: Decoded): Record<string, unknown> {
  const m = d.m, ts = iso(m.tsUs, m.tsNsRem)
  switch (m.type) {
    case 'S': return { type: 'S', event: m.code, ts, seq: d.seq }
    case 'P': return { type: 'P', status: m.flags, ts, symbol: m.symbol, detail: m.reason, seq: d.seq }
    case 'O': return { type: 'O', status: m.code, ts, symbol: m.symbol, seq: d.seq }
    case 'H': return { type: 'H', status: m.code, ts, symbol: m.symbol, reason: m.reason, seq: d.seq }
    case 'Q': return { type: 'Q', flags: m.flags, ts, symbol: m.symbol, bid_size: m.bidSize, bid: px(m.bidPrice), ask: px(m.askPrice), ask_size: m.askSize, seq: d.seq }
    case 'T': case 'B': return { type: m.type, flags: m.flags, ts, symbol: m.symbol, size: m.size, price: px(m.price), trade_id: m.tradeId, seq: d.seq }
    case 'D': return { type: 'D', flags: m.flags, ts, symbol: m.symbol, round_lot: m.roundLot, adj_poc: px(m.price), luld_tier: m.luldTier, seq: d.seq }
    default: return { type: m.type, seq: d.seq }
  }
}
