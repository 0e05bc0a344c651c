// Owns reading whole capture files: classic libpcap (µs/ns, either byte order) and pcapng (SHB/IDB/EPB/SPB).
// Must never throw on a damaged file: bad or truncated records are counted and reading stops cleanly.
import { CaptureStats } from './capture-types.js'
import type { PacketSink } from './capture-types.js'

// Classic pcap global header, 24 bytes, byte order given by the magic:
// 0       4      6      8         12        16        20
// | magic | vmaj | vmin | thiszone | sigfigs | snaplen | network |
// Record header, 16 bytes: | ts_sec u32 | ts_frac u32 (µs or ns) | incl_len u32 | orig_len u32 |
const PCAP_GLOBAL_LEN = 24, PCAP_REC_LEN = 16, OFF_LINKTYPE = 20
const MAGIC_US = 0xa1b2c3d4, MAGIC_NS = 0xa1b23c4d
// pcapng: every block is | type u32 | total_len u32 | body | total_len u32 |, byte order from the SHB.
const BT_SHB = 0x0a0d0d0a, BT_IDB = 1, BT_SPB = 3, BT_EPB = 6, BOM = 0x1a2b3c4d
const OPT_IF_TSRESOL = 9
const MAX_INTERFACES = 64

export const CAPTURE_OK = 0, CAPTURE_TRUNCATED = 1, CAPTURE_BAD = 2

/** Reads a classic pcap or pcapng file held in memory, calling `sink.packet` per frame. */
export function readCapture(buf: Buffer, sink: PacketSink, stats: CaptureStats = new CaptureStats()): number {
  if (buf.length < 4) { stats.badBlocks++; return CAPTURE_BAD }
  if (buf.readUInt32LE(0) === BT_SHB) return readPcapng(buf, sink, stats)
  return readPcap(buf, sink, stats)
}

export function readPcap(buf: Buffer, sink: PacketSink, stats: CaptureStats): number {
  if (buf.length < PCAP_GLOBAL_LEN) { stats.truncated++; return CAPTURE_TRUNCATED }
  const mLE = buf.readUInt32LE(0), mBE = buf.readUInt32BE(0)
  const le = mLE === MAGIC_US || mLE === MAGIC_NS
  if (!le && mBE !== MAGIC_US && mBE !== MAGIC_NS) { stats.badBlocks++; return CAPTURE_BAD }
  const nanos = (le ? mLE : mBE) === MAGIC_NS
  const linkType = le ? buf.readUInt32LE(OFF_LINKTYPE) : buf.readUInt32BE(OFF_LINKTYPE)
  let o = PCAP_GLOBAL_LEN
  while (o < buf.length) {
    if (o + PCAP_REC_LEN > buf.length) { stats.truncated++; return CAPTURE_TRUNCATED }
    const sec = le ? buf.readUInt32LE(o) : buf.readUInt32BE(o)
    const frac = le ? buf.readUInt32LE(o + 4) : buf.readUInt32BE(o + 4)
    const incl = le ? buf.readUInt32LE(o + 8) : buf.readUInt32BE(o + 8)
    const orig = le ? buf.readUInt32LE(o + 12) : buf.readUInt32BE(o + 12)
    o += PCAP_REC_LEN
    if (incl > buf.length - o) { stats.truncated++; return CAPTURE_TRUNCATED }
    if (incl < orig) stats.snapped++
    stats.packets++
    sink.packet(buf, o, incl, sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac), linkType)
    o += incl
  }
  return CAPTURE_OK
}

/** Per-interface link type and timestamp units per second, set from IDBs of the current section. */
const ifLink = new Int32Array(MAX_INTERFACES), ifUnitsPerSec = new Float64Array(MAX_INTERFACES)

export function readPcapng(buf: Buffer, sink: PacketSink, stats: CaptureStats): number {
  let o = 0, le = true, nIf = 0
  while (o < buf.length) {
    if (o + 12 > buf.length) { stats.truncated++; return CAPTURE_TRUNCATED }
    const rawType = buf.readUInt32LE(o)
    if (rawType === BT_SHB) {
      // The SHB's byte-order magic decides how this section (and this block's length) is read.
      const bom = buf.readUInt32LE(o + 8)
      if (bom === BOM) le = true
      else if (buf.readUInt32BE(o + 8) === BOM) le = false
      else { stats.badBlocks++; return CAPTURE_BAD }
      nIf = 0
    }
    const type = le ? rawType : buf.readUInt32BE(o)
    const total = le ? buf.readUInt32LE(o + 4) : buf.readUInt32BE(o + 4)
    if (total < 12 || (total & 3) !== 0) { stats.badBlocks++; return CAPTURE_BAD }
    if (total > buf.length - o) { stats.truncated++; return CAPTURE_TRUNCATED }
    const body = o + 8, end = o + total - 4
    if (type === BT_IDB) {
      if (nIf < MAX_INTERFACES && end - body >= 8) {
        ifLink[nIf] = le ? buf.readUInt16LE(body) : buf.readUInt16BE(body)
        ifUnitsPerSec[nIf] = idbUnitsPerSec(buf, body + 8, end, le)
        nIf++
      } else stats.badBlocks++
    } else if (type === BT_EPB) {
      if (end - body < 20) { stats.badBlocks++; o += total; continue }
      const ifId = le ? buf.readUInt32LE(body) : buf.readUInt32BE(body)
      const hi = le ? buf.readUInt32LE(body + 4) : buf.readUInt32BE(body + 4)
      const lo = le ? buf.readUInt32LE(body + 8) : buf.readUInt32BE(body + 8)
      const cap = le ? buf.readUInt32LE(body + 12) : buf.readUInt32BE(body + 12)
      const orig = le ? buf.readUInt32LE(body + 16) : buf.readUInt32BE(body + 16)
      if (ifId >= nIf || cap > end - body - 20) { stats.badBlocks++; o += total; continue }
      if (cap < orig) stats.snapped++
      stats.packets++
      sink.packet(buf, body + 20, cap, ticksToUs(hi, lo, ifUnitsPerSec[ifId]), ifLink[ifId])
    } else if (type === BT_SPB) {
      if (nIf === 0 || end - body < 4) { stats.badBlocks++; o += total; continue }
      const orig = le ? buf.readUInt32LE(body) : buf.readUInt32BE(body)
      const cap = Math.min(orig, end - body - 4)
      if (cap < orig) stats.snapped++
      stats.packets++
      sink.packet(buf, body + 4, cap, Number.NaN, ifLink[0]) // SPBs carry no timestamp
    }
    o += total
  }
  return CAPTURE_OK
}

/** if_tsresol: MSB clear → 10^-n s, MSB set → 2^-n s; default µs. */
function idbUnitsPerSec(buf: Buffer, o: number, end: number, le: boolean): number {
  while (o + 4 <= end) {
    const code = le ? buf.readUInt16LE(o) : buf.readUInt16BE(o)
    const len = le ? buf.readUInt16LE(o + 2) : buf.readUInt16BE(o + 2)
    if (code === 0) break
    if (code === OPT_IF_TSRESOL && len >= 1 && o + 5 <= end) {
      const v = buf[o + 4]
      return (v & 0x80) !== 0 ? 2 ** (v & 0x7f) : 10 ** v
    }
    o += 4 + ((len + 3) & ~3)
  }
  return 1e6
}

/** 64-bit tick count → µs; exact for µs and ns resolutions below 2^53 µs. */
function ticksToUs(hi: number, lo: number, unitsPerSec: number): number {
  if (unitsPerSec === 1e6) return hi * 2 ** 32 + lo
  if (unitsPerSec === 1e9) {
    // floor((hi·2^32 + lo) / 1000) without leaving the exact range: 2^32 = 4294967·1000 + 296
    return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000)
  }
  return Math.floor(((hi * 2 ** 32 + lo) / unitsPerSec) * 1e6)
}
