// Owns turning any supported capture file into one ordered list of venue messages with their capture times.
// Must never copy message bytes: the list holds offsets into the (gunzipped) file buffer.
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { readBinaryFile } from '../capture/binary-file.js'
import { CaptureStats } from '../capture/capture-types.js'
import type { MessageSink, PayloadSink } from '../capture/capture-types.js'
import { IexTpReader, PROTOCOL_DEEP, PROTOCOL_TOPS } from '../capture/iex-tp.js'
import { MoldUdp64Reader } from '../capture/moldudp64.js'
import { TransportDemux } from '../capture/net-frame.js'
import { CAPTURE_BAD, readCapture } from '../capture/pcap.js'
import { RECORDING_BAD, parseRecordingHeader, readRecording } from '../../src/feed/recorder.js'

export type ReplayProtocol = 'native' | 'itch' | 'tops'
export type CaptureFormat = 'pcap' | 'pcapng' | 'binaryfile' | 'tickcast'

/** The messages of a capture in session order: message i is `buf[off[i], off[i] + len[i])`. */
export interface LoadedCapture {
  format: CaptureFormat
  protocol: ReplayProtocol
  buf: Buffer
  count: number
  off: Uint32Array
  len: Uint16Array
  /** capture time of each message, Unix epoch µs (ITCH BinaryFILE: µs since midnight); NaN = unknown */
  tsUs: Float64Array
  /** copies of an already-seen venue sequence number (A/B multicast, retransmissions): left out */
  duplicates: number
  /** the file ended inside a record: the messages before it are kept */
  truncated: boolean
  /**
   * Runs of venue sequence numbers (a pass): a restart at 1 or a new venue session id starts the next one, and its
   * messages are kept (a multi-session capture), never taken for duplicates. `passStarts[k]` = first message of pass k.
   */
  passes: number
  passStarts: number[]
  /** venue sequence numbers skipped inside a pass (the capture missed them): occurrences and messages */
  venueGaps: number
  venueGapMessages: number
  stats: CaptureStats
}

const GZIP_MAGIC = 0x1f8b, PCAPNG_SHB = 0x0a0d0d0a
const PCAP_MAGICS = [0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1]
const IP_PROTO_UDP = 17, IEXTP_HDR_LEN = 40, MOLD_HDR_LEN = 20
const ITCH_OFF_TS = 5, ITCH_TS_LEN = 11

/** Growable columns of message offsets, lengths and times (doubling: no object per message). */
class MessageIndex {
  count = 0
  off = new Uint32Array(1024)
  len = new Uint16Array(1024)
  ts = new Float64Array(1024)
  push(off: number, len: number, tsUs: number): void {
    if (this.count === this.off.length) {
      const n = this.count * 2
      const o = new Uint32Array(n); o.set(this.off); this.off = o
      const l = new Uint16Array(n); l.set(this.len); this.len = l
      const t = new Float64Array(n); t.set(this.ts); this.ts = t
    }
    this.off[this.count] = off; this.len[this.count] = len; this.ts[this.count] = tsUs
    this.count++
  }
}

export function loadCaptureFile(path: string, protocol: ReplayProtocol | 'auto' = 'auto'): LoadedCapture {
  return loadCapture(readFileSync(path), protocol)
}

/** Detects the format (gzip ok), extracts the messages, and names the payload protocol (or uses the one given). */
export function loadCapture(file: Buffer, protocol: ReplayProtocol | 'auto' = 'auto'): LoadedCapture {
  const buf = file.length >= 2 && file.readUInt16BE(0) === GZIP_MAGIC ? gunzipSync(file) : file
  const idx = new MessageIndex(), stats = new CaptureStats()
  const rec = parseRecordingHeader(buf)
  if (rec) {
    const st = readRecording(buf, { record(_b, o, l, t) { idx.push(o, l, t) } })
    stats.messages = idx.count
    const p = protocol !== 'auto' ? protocol : asProtocol(rec.protocol)
    return result('tickcast', p, buf, idx, 0, st !== 0 && st !== RECORDING_BAD, stats, [0], 0, 0)
  }
  const m32 = buf.length >= 4 ? buf.readUInt32BE(0) : 0
  if (buf.length >= 4 && (buf.readUInt32LE(0) === PCAPNG_SHB || PCAP_MAGICS.includes(m32))) {
    const sink = new UdpMessages(idx, stats)
    const st = readCapture(buf, sink.demux, stats)
    if (st === CAPTURE_BAD) throw new Error('capture: damaged pcap/pcapng header')
    if (sink.deep > 0 && protocol === 'auto') throw new Error('capture: IEX DEEP is not supported (TOPS only); pass --protocol to force')
    const p = protocol !== 'auto' ? protocol : sink.tops > 0 ? 'tops' : sink.mold > 0 ? 'itch' : null
    if (p === null) throw new Error('capture: no IEX-TP or MoldUDP64 datagrams found')
    return result(buf.readUInt32LE(0) === PCAPNG_SHB ? 'pcapng' : 'pcap', p, buf, idx, sink.duplicates, stats.truncated > 0, stats,
      sink.passStarts, sink.gaps, sink.gapMessages)
  }
  // Anything else is read as a Nasdaq BinaryFILE: [u16 BE length][message] records (ITCH unless told).
  const p = protocol === 'auto' ? 'itch' : protocol
  const st = readBinaryFile(buf, { message(b, o, l) { idx.push(o, l, p === 'itch' && l >= ITCH_TS_LEN ? itchTsUs(b, o) : Number.NaN) } }, stats)
  if (idx.count === 0) throw new Error('capture: not a pcap, pcapng, tickcast capture or BinaryFILE with records')
  return result('binaryfile', p, buf, idx, 0, st !== 0, stats, [0], 0, 0)
}

function asProtocol(p: string): ReplayProtocol {
  if (p === 'native' || p === 'itch' || p === 'tops') return p
  throw new Error('capture: unknown protocol in header: ' + p)
}

/** ITCH timestamp: u48 BE ns since midnight → µs (exact: < 2^47). */
function itchTsUs(b: Buffer, o: number): number {
  const ns = b.readUInt16BE(o + ITCH_OFF_TS) * 2 ** 32 + b.readUInt32BE(o + ITCH_OFF_TS + 2)
  return Math.floor(ns / 1000)
}

function result(format: CaptureFormat, protocol: ReplayProtocol, buf: Buffer, idx: MessageIndex, duplicates: number, truncated: boolean,
  stats: CaptureStats, passStarts: number[], venueGaps: number, venueGapMessages: number): LoadedCapture {
  const n = idx.count
  return { format, protocol, buf, count: n, off: idx.off.subarray(0, n), len: idx.len.subarray(0, n), tsUs: idx.ts.subarray(0, n), duplicates, truncated,
    passes: n === 0 ? 0 : passStarts.length, passStarts: n === 0 ? [] : passStarts, venueGaps, venueGapMessages, stats }
}

/** One pass of a capture (1-based) as a capture of its own: a multi-session capture replayed one session at a time. */
export function capturePass(cap: LoadedCapture, pass: number): LoadedCapture {
  if (!Number.isInteger(pass) || pass < 1 || pass > cap.passes) throw new Error(`capture: pass ${pass} does not exist (the capture has ${cap.passes})`)
  const from = cap.passStarts[pass - 1], to = pass < cap.passes ? cap.passStarts[pass] : cap.count
  return { ...cap, count: to - from, off: cap.off.subarray(from, to), len: cap.len.subarray(from, to), tsUs: cap.tsUs.subarray(from, to), passes: 1, passStarts: [0] }
}

/** UDP datagrams → IEX-TP or MoldUDP64 by their headers → messages, first copy of each venue sequence only. */
class UdpMessages implements PayloadSink, MessageSink {
  readonly demux: TransportDemux
  private readonly iex: IexTpReader
  private readonly moldReader: MoldUdp64Reader
  tops = 0
  deep = 0
  mold = 0
  duplicates = 0
  readonly passStarts: number[] = [0]
  private restarts = 0
  private lastSeq = -1
  private tsUs = Number.NaN
  private lastTsUs = Number.NaN

  constructor(private readonly idx: MessageIndex, stats: CaptureStats) {
    this.demux = new TransportDemux(this, stats)
    this.iex = new IexTpReader(this, stats)
    this.moldReader = new MoldUdp64Reader(this, stats)
  }

  payload(buf: Buffer, off: number, len: number, tsUs: number): void {
    if (this.demux.frame.proto !== IP_PROTO_UDP) return // TCP segments would need stream reassembly
    // SPB frames carry no time: they take the previous frame's
    this.tsUs = Number.isNaN(tsUs) ? this.lastTsUs : tsUs
    this.lastTsUs = this.tsUs
    if (len >= IEXTP_HDR_LEN && buf[off] === 1) {
      const proto = buf.readUInt16LE(off + 2)
      if (proto === PROTOCOL_TOPS || proto === PROTOCOL_DEEP) {
        if (proto === PROTOCOL_TOPS) this.tops++; else this.deep++
        this.iex.segment(buf, off, len)
        return
      }
    }
    if (len >= MOLD_HDR_LEN) { this.mold++; this.moldReader.packet(buf, off, len) }
  }

  get gaps(): number { return this.iex.gaps + this.moldReader.gaps }
  get gapMessages(): number { return this.iex.gapMessages + this.moldReader.gapMessages }

  message(_buf: Buffer, off: number, len: number, seq: number): void {
    // A reader saw the venue start its numbering again: a new pass, whose messages are new, not copies.
    const restarts = this.iex.restarts + this.moldReader.restarts
    if (restarts !== this.restarts) {
      this.restarts = restarts; this.lastSeq = -1
      if (this.idx.count > 0) this.passStarts.push(this.idx.count)
    }
    if (seq <= this.lastSeq) { this.duplicates++; return }
    this.lastSeq = seq
    this.idx.push(off, len, this.tsUs)
  }
}

/** What the replayer prints before serving: nothing a capture held may vanish without a figure saying so. */
export interface CaptureReport {
  /** messages kept, every pass included */
  messages: number
  passes: number
  /** messages per pass */
  passMessages: number[]
  /** copies left out (same venue sequence seen before within its pass) */
  duplicates: number
  /** sequence gaps inside passes: occurrences and missing messages */
  venueGaps: number
  venueGapMessages: number
  /** the file ends inside a record (its last record is cut short and was not read) */
  truncatedLastRecord: boolean
}

export function captureReport(cap: LoadedCapture): CaptureReport {
  const passMessages = cap.passStarts.map((s, k) => (k + 1 < cap.passStarts.length ? cap.passStarts[k + 1] : cap.count) - s)
  return { messages: cap.count, passes: cap.passes, passMessages, duplicates: cap.duplicates, venueGaps: cap.venueGaps,
    venueGapMessages: cap.venueGapMessages, truncatedLastRecord: cap.truncated }
}
