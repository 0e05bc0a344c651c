import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { BINFILE_TRUNCATED, readBinaryFile } from './binary-file.js'
import { CaptureStats } from './capture-types.js'
import type { MessageSink } from './capture-types.js'
import { IexTpReader } from './iex-tp.js'
import { MoldUdp64Reader } from './moldudp64.js'
import { TransportDemux } from './net-frame.js'
import { CAPTURE_OK, CAPTURE_TRUNCATED, readCapture } from './pcap.js'

const SAMPLES = new URL('../samples/', import.meta.url)
const itchPcap = readFileSync(new URL('itch50/omi-v5.0-moldudp64/OrderReplaceMessage.pcap', SAMPLES))
const ouch = (n: string) => readFileSync(new URL(`reference/soupbintcp-ouch50/${n}`, SAMPLES))

class Collect implements MessageSink {
  readonly got: string[] = []
  message(buf: Buffer, off: number, len: number, seq: number): void { this.got.push(`${seq}:${buf.toString('hex', off, off + len)}`) }
}
/** The same frames rewritten as a pcapng (SHB, IDB with ns resolution, one EPB per frame) by this test. */
function toPcapng(pcap: Buffer, bigEndian: boolean): Buffer {
  const parts: Buffer[] = []
  const block = (type: number, body: Buffer): Buffer => {
    const pad = (4 - (body.length % 4)) % 4, total = 12 + body.length + pad, b = Buffer.alloc(total)
    const w = (v: number, o: number) => (bigEndian ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o))
    w(type, 0); w(total, 4); body.copy(b, 8); w(total, total - 4); return b
  }
  const u32 = (v: number) => { const b = Buffer.alloc(4); if (bigEndian) b.writeUInt32BE(v); else b.writeUInt32LE(v); return b }
  const u16 = (v: number) => { const b = Buffer.alloc(2); if (bigEndian) b.writeUInt16BE(v); else b.writeUInt16LE(v); return b }
  parts.push(block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)])))
  parts.push(block(1, Buffer.concat([u16(1), u16(0), u32(65535), u16(9), u16(1), Buffer.from([9, 0, 0, 0]), u16(0), u16(0)])))
  let o = 24
  while (o + 16 <= pcap.length) {
    const sec = pcap.readUInt32LE(o), ns = pcap.readUInt32LE(o + 4), incl = pcap.readUInt32LE(o + 8)
    const t = sec * 1e9 + ns, hi = Math.floor(t / 2 ** 32), lo = t - hi * 2 ** 32
    parts.push(block(6, Buffer.concat([u32(0), u32(hi), u32(lo), u32(incl), u32(incl), pcap.subarray(o + 16, o + 16 + incl)])))
    o += 16 + incl
  }
  return Buffer.concat(parts)
}
function readMold(file: Buffer, stats = new CaptureStats()): { c: Collect; ts: number[]; st: number; stats: CaptureStats } {
  const c = new Collect(), mold = new MoldUdp64Reader(c, stats), ts: number[] = []
  const st = readCapture(file, new TransportDemux({ payload(b, o, l, t) { ts.push(t); mold.packet(b, o, l) } }, stats), stats)
  return { c, ts, st, stats }
}

describe('capture readers', () => {
  it('reads the ns pcap (4d3cb2a1) and the same frames as pcapng in both byte orders identically', () => {
    const a = readMold(itchPcap)
    expect(a.st).toBe(CAPTURE_OK)
    expect(a.c.got.length).toBe(1)
    expect(a.c.got[0].startsWith('14757701:55')).toBe(true) // MoldUDP64 seq, then the U message
    expect(a.ts[0] % 1e6).toBe(Math.floor(itchPcap.readUInt32LE(28) / 1000)) // ns fraction → µs
    for (const be of [false, true]) {
      const b = readMold(toPcapng(itchPcap, be))
      expect(b.st).toBe(CAPTURE_OK)
      expect(b.c.got).toEqual(a.c.got)
      expect(b.ts).toEqual(a.ts)
    }
  })

  it('reads a big-endian classic pcap (a1b2c3d4 written BE, µs) the same as the original', () => {
    const le = gunzipSync(readFileSync(new URL('iex-tops16/TOPS16.pcapng.gz', SAMPLES))).subarray(0, 24 + 16 + 82 + 16 + 82)
    const be = Buffer.from(le)
    be.writeUInt32BE(0xa1b2c3d4, 0); be.writeUInt16BE(2, 4); be.writeUInt16BE(4, 6); be.writeUInt32BE(le.readUInt32LE(16), 16); be.writeUInt32BE(1, 20)
    for (let o = 24; o < be.length;) { const n = le.readUInt32LE(o + 8); for (let k = 0; k < 16; k += 4) be.writeUInt32BE(le.readUInt32LE(o + k), o + k); o += 16 + n }
    const run = (f: Buffer) => { const c = new Collect(), st = new CaptureStats(), r = new IexTpReader(c, st); const ts: number[] = []; readCapture(f, new TransportDemux({ payload(b, o, l, t) { ts.push(t); r.payload(b, o, l) } }, st), st); return [c.got, ts, st.udpDatagrams] }
    expect(run(be)).toEqual(run(le))
    expect(run(le)[2]).toBe(2)
  })

  it('reports a truncated last record instead of failing, keeping what came before', () => {
    const full = readMold(itchPcap), cut = readMold(itchPcap.subarray(0, itchPcap.length - 5))
    expect(full.stats.truncated).toBe(0)
    expect(cut.st).toBe(CAPTURE_TRUNCATED)
    expect(cut.stats.truncated).toBe(1)
    const bin = readFileSync(new URL('itch50/bekele-first1000.itch', SAMPLES)), st = new CaptureStats(), c = new Collect()
    expect(readBinaryFile(bin.subarray(0, bin.length - 3), c, st)).toBe(BINFILE_TRUNCATED)
    expect([c.got.length, st.messages, st.truncated]).toEqual([999, 999, 1])
  })

  it('hands on TCP payloads of the real SoupBinTCP captures (heartbeats 00 01 48 / 00 01 52)', () => {
    const out: string[] = [], st = new CaptureStats()
    const demux = new TransportDemux({ payload(b, o, l) { out.push(b.toString('hex', o, o + l)) } }, st)
    readCapture(ouch('ServerHeartbeatPacket.pcap'), demux, st); readCapture(ouch('ClientHeartbeatPacket.pcap'), demux, st)
    expect(out).toEqual(['000148', '000152'])
    expect(st.tcpSegments).toBe(2)
  })

  it('splits a MoldUDP64 packet with several messages, counts heartbeats and a cut block', () => {
    const pkt = Buffer.alloc(20 + 2 + 3 + 2 + 1); pkt.write('SESSION001', 0, 'latin1'); pkt.writeUInt32BE(7, 14); pkt.writeUInt16BE(2, 18)
    pkt.writeUInt16BE(3, 20); pkt.write('abc', 22); pkt.writeUInt16BE(1, 25); pkt.write('d', 27)
    const c = new Collect(), st = new CaptureStats(), r = new MoldUdp64Reader(c, st)
    r.packet(pkt, 0, pkt.length)
    expect(c.got).toEqual(['7:616263', '8:64'])
    expect(r.header.session).toBe('SESSION001')
    pkt.writeUInt16BE(0, 18); r.packet(pkt, 0, pkt.length); expect(st.heartbeats).toBe(1)
    pkt.writeUInt16BE(2, 18); pkt.writeUInt16BE(9, 25); r.packet(pkt, 0, pkt.length)
    expect([st.truncated, c.got.length]).toEqual([1, 3])
  })
})
