import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { readBinaryFile } from '../../../feeds/capture/binary-file.js'
import { CaptureStats } from '../../../feeds/capture/capture-types.js'
import { formatMoldSession, MoldUdp64Reader } from '../../../feeds/capture/moldudp64.js'
import { formatIp, TransportDemux } from '../../../feeds/capture/net-frame.js'
import { readCapture } from '../../../feeds/capture/pcap.js'
import { DECODE_BAD_LENGTH, DECODE_BAD_VALUE, DECODE_OK, DECODE_UNKNOWN_TYPE } from '../../errors.js'
import type { TickSink } from '../../normalize/tick-sink.js'
import { FeedStats } from '../feed-stats.js'
import { decodeItchMessage, easternMidnightUs, ITCH_FIELDS, ITCH_LENGTHS, ItchDecoder } from './itch.js'
import type { ItchRecord } from './itch.js'

const SAMPLES = new URL('../../../feeds/samples/', import.meta.url)
const expected = JSON.parse(readFileSync(new URL('expected/itch50.expected.json', SAMPLES), 'utf8'))
const px = (raw: number): string => (raw / 1e4).toFixed(4)
const hms = (ns: number): string => {
  const s = Math.floor(ns / 1e9), p = (n: number) => String(n).padStart(2, '0')
  return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}.${String(ns % 1e9).padStart(9, '0')}`
}

class RecordingSink implements TickSink {
  readonly defined: [number, string][] = []
  readonly quotes: number[][] = []
  readonly trades: number[][] = []
  readonly statuses: number[][] = []
  defineSymbol(l: number, name: string, pe: number, se: number): number { expect([pe, se]).toEqual([-4, 0]); this.defined.push([l, name]); return DECODE_OK }
  locateOf(): number { return -1 }
  quote(...a: number[]): number { this.quotes.push(a); return DECODE_OK }
  trade(...a: number[]): number { this.trades.push(a); return DECODE_OK }
  status(...a: number[]): number { this.statuses.push(a); return DECODE_OK }
}

/** Compares one decoded record with one reference message, key by key (every key of the reference). */
function expectSame(rec: ItchRecord, exp: Record<string, unknown>, seq: number, where: string): void {
  for (const [k, v] of Object.entries(exp)) {
    let got: unknown
    if (k === 'time_since_midnight') got = hms(rec.ts as number)
    else if (k === 'ts_ns_since_midnight') got = rec.ts
    else if (k === 'mold_seq') got = seq
    else if (k === 'file_offset') continue // checked by the caller
    else if (k.endsWith('_raw')) got = rec[k.slice(0, -4)]
    else if (`${k}_raw` in exp) got = px(rec[k] as number)
    else got = rec[k]
    expect(got, `${where} ${k}`).toEqual(v)
  }
}

describe('ITCH 5.0 BinaryFILE sample (bekele-first1000.itch)', () => {
  const file = readFileSync(new URL('itch50/bekele-first1000.itch', SAMPLES))
  const exp = expected['itch50/bekele-first1000.itch']
  const recs: { rec: ItchRecord; seq: number; fileOffset: number }[] = []
  const stats = new CaptureStats(), sink = new RecordingSink(), feed = new FeedStats('itch')
  const dec = new ItchDecoder(sink, feed, { sessionDate: '2019-12-30' })
  readBinaryFile(file, {
    message(buf, off, len, seq) {
      const rec: ItchRecord = {}
      expect(decodeItchMessage(buf, off, len, rec)).toBe(DECODE_OK)
      recs.push({ rec, seq, fileOffset: off - 2 })
      expect(dec.decode(buf, off, len)).toBe(DECODE_OK)
    },
  }, stats)

  it('is the published file: 1000 messages, S 1, R 993, H 3, Y 3, nothing truncated', () => {
    expect(createHash('sha256').update(file).digest('hex')).toBe(exp.sha256)
    expect(recs.length).toBe(1000)
    expect(stats.truncated).toBe(0)
    const counts: Record<string, number> = {}
    for (const { rec } of recs) counts[rec.type] = (counts[rec.type] as number ?? 0) + 1
    expect(counts).toEqual(exp.counts)
    expect(counts).toEqual({ S: 1, R: 993, H: 3, Y: 3 })
    expect(recs.map((r) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1))
  })

  it('decodes the first five, the last, the trading actions and the selected directory entries field by field', () => {
    for (const [i, e] of exp.first5.entries()) { expectSame(recs[i].rec, e, 0, `first5[${i}]`); expect(recs[i].fileOffset).toBe(e.file_offset) }
    expect(recs.slice(0, 5).map((r) => `${r.rec.type} ${r.rec.stock ?? r.rec.event} ${r.rec.locate}`)).toEqual(['S O 0', 'R A 1', 'R AA 2', 'R AAAU 3', 'R AACG 4'])
    expect([recs[3].rec.mkt_cat, recs[3].rec.etp, recs[4].rec.mkt_cat]).toEqual(['P', 'Y', 'G'])
    const last = recs[999]
    expectSame(last.rec, exp.last, 0, 'last'); expect(last.fileOffset).toBe(exp.last.file_offset)
    const byOffset = new Map(recs.map((r) => [r.fileOffset, r.rec]))
    for (const e of [...exp.trading_actions_and_regsho, ...exp.selected_directory]) expectSame(byOffset.get(e.file_offset)!, e, 0, `@${e.file_offset}`)
  })

  it('has directory locates 1..993, AAPL = 13, AMZN = 393, and the reference category/lot/ETP counts', () => {
    const dir = recs.filter((r) => r.rec.type === 'R').map((r) => r.rec)
    expect(dir.map((r) => r.locate)).toEqual(Array.from({ length: 993 }, (_, i) => i + 1))
    expect(dir.find((r) => r.stock === 'AAPL')).toMatchObject({ locate: 13, mkt_cat: 'Q', fin_status: 'N', round_lot: 100, luld_tier: '1' })
    expect(dir.find((r) => r.stock === 'AMZN')?.locate).toBe(393)
    const cats: Record<string, number> = {}
    for (const r of dir) cats[r.mkt_cat] = (cats[r.mkt_cat] as number ?? 0) + 1
    expect(cats).toEqual(exp.market_category_counts)
    expect(cats).toEqual({ N: 408, Q: 203, S: 140, G: 94, P: 81, A: 38, Z: 29 })
    expect(dir.filter((r) => r.round_lot !== 100).map((r) => [r.stock, r.round_lot])).toEqual(exp.round_lot_not_100)
    expect(dir.filter((r) => r.etp === 'Y').length).toBe(124)
    expect(recs.filter((r) => r.rec.type !== 'R' && r.rec.type !== 'S').map((r) => `${r.rec.type}${r.rec.stock}${r.rec.state ?? r.rec.regsho}`))
      .toEqual(['HAT', 'YA0', 'HAAT', 'YAA0', 'HAAAUT', 'YAAAU0'])
  })

  it('feeds the sink: 993 symbols with exponent -4, three trading statuses at Eastern-time µs', () => {
    // Nasdaq suffixes + (warrant), = (unit) and ^ (rights) are in the symbol alphabet; * (called) is not,
    // because it is the subscription pattern character: those are counted, not defined.
    const refused = recs.filter((r) => r.rec.type === 'R' && (r.rec.stock as string).includes('*')).map((r) => r.rec.stock)
    expect(refused).toEqual(['ALL-A*', 'AXS-D*', 'BAC-Y*'])
    expect(dec.badSymbols).toBe(3)
    expect(sink.defined.length).toBe(993 - 3)
    for (const suffixed of ['ACEL+', 'AIG+', 'ALUS=', 'BIOX+', 'BMY^']) expect(sink.defined.some((d) => d[1] === suffixed), suffixed).toBe(true)
    expect(sink.defined[12]).toEqual([13, 'AAPL'])
    expect(sink.defined.find((d) => d[1] === 'AMZN')).toEqual([393, 'AMZN'])
    expect(sink.statuses.map((s) => [s[0], s[2]])).toEqual([[1, 0x54], [2, 0x54], [3, 0x54]])
    // 2019-12-30 is EST (UTC-5): 03:09:14.328694637 ET = 08:09:14.328694 UTC
    expect(sink.statuses[0][1]).toBe(Date.UTC(2019, 11, 30, 8, 9, 14) * 1000 + 328_694)
  })
})

describe('ITCH 5.0 MoldUDP64 pcaps (omi samples) against itch50.expected.json', () => {
  const files = Object.keys(expected).filter((k) => k.endsWith('.pcap'))
  it('covers both omi folders (22 files, 78 messages: 14 types × 5 + 1 S, plus 7)', () => {
    expect(files.length).toBe(22)
    expect(files.reduce((n, f) => n + expected[f].message_count, 0)).toBe(14 * 5 + 1 + 7)
  })
  for (const f of files) {
    it(`decodes every field of every message in ${f}`, () => {
      const exp = expected[f], bytes = readFileSync(new URL(f, SAMPLES))
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(exp.sha256)
      const stats = new CaptureStats(), got: { rec: ItchRecord; seq: number }[] = [], packets: unknown[] = [], vlans = new Set<number>()
      const dec = new ItchDecoder(new RecordingSink(), new FeedStats('itch'), { sessionDate: '2023-08-22' })
      const mold = new MoldUdp64Reader({
        message(buf, off, len, seq) {
          const rec: ItchRecord = {}
          expect(decodeItchMessage(buf, off, len, rec)).toBe(DECODE_OK)
          got.push({ rec, seq })
          const st = dec.decode(buf, off, len) // mid-day orders are unknown to a fresh book: E/C/X/D/U count refs
          expect([DECODE_OK, DECODE_BAD_VALUE]).toContain(st)
        },
      }, stats)
      const demux = new TransportDemux({
        payload(buf, off, len) {
          mold.packet(buf, off, len)
          const fr = demux.frame
          vlans.add(fr.vlan)
          packets.push({ src: `${formatIp(fr.srcIp)}:${fr.srcPort}`, dst: `${formatIp(fr.dstIp)}:${fr.dstPort}`,
            mold_session: formatMoldSession(mold.header.session), mold_seq: mold.header.seq, mold_count: mold.header.count })
        },
      }, stats)
      readCapture(bytes, demux, stats)
      expect(packets).toEqual(exp.packets)
      expect([...vlans]).toEqual([141])
      expect(got.length).toBe(exp.message_count)
      exp.messages.forEach((e: Record<string, unknown>, i: number) => expectSame(got[i].rec, e, got[i].seq, `${f}#${i}`))
      expect(stats.truncated + stats.badPackets + stats.badBlocks).toBe(0)
    })
  }
  it('sees the same message bytes in both folders (six shared messages agree)', () => {
    const a = expected['itch50/omi-20230822-moldudp64/AddOrderNoMPID.pcap'].messages[0]
    const b = expected['itch50/omi-v5.0-moldudp64/AddOrderNoMpidAttributionMessage.pcap'].messages[0]
    expect({ ...a, mold_seq: 0 }).toEqual({ ...b, mold_seq: 0 })
  })
})

describe('ITCH decoder behaviour', () => {
  it('knows the spec length of all 23 message types', () => {
    expect(Object.keys(ITCH_FIELDS).sort().join('')).toBe('ABCDEFHIJKLNOPQRSUVWXYh')
    for (const t of Object.keys(ITCH_FIELDS)) for (const [, o] of ITCH_FIELDS[t]) expect(o).toBeLessThan(ITCH_LENGTHS[t.charCodeAt(0)])
  })

  it('computes Eastern midnight for EST and EDT days', () => {
    expect(easternMidnightUs('2023-08-22')).toBe(Date.UTC(2023, 7, 22, 4) * 1000)
    expect(easternMidnightUs('2019-12-30')).toBe(Date.UTC(2019, 11, 30, 5) * 1000)
    expect(easternMidnightUs('2024-03-10')).toBe(Date.UTC(2024, 2, 10, 5) * 1000) // DST starts at 02:00 that day
  })

  it('returns statuses for short, long, unknown and out-of-buffer messages', () => {
    const feed = new FeedStats('i'), dec = new ItchDecoder(new RecordingSink(), feed, { sessionDate: '2023-08-22' })
    const d = Buffer.alloc(19); d[0] = 0x44
    expect(dec.decode(d, 0, 18)).toBe(DECODE_BAD_LENGTH)
    expect(dec.decode(d, 1, 19)).toBe(DECODE_BAD_LENGTH)
    d[0] = 0x7a
    expect(dec.decode(d, 0, 19)).toBe(DECODE_UNKNOWN_TYPE)
    expect([feed.decodeErrors[DECODE_BAD_LENGTH], feed.decodeErrors[DECODE_UNKNOWN_TYPE]]).toEqual([2, 1])
  })
})
