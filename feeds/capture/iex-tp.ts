// Owns IEX-TP v1 segment parsing: the 40-byte header, then [u16 LE length][message] blocks with their seqs.
// Must never interpret message bodies: TOPS/DEEP decoders do that; a bad block ends the segment, counted.
import { CaptureStats } from './capture-types.js'
import type { MessageSink, PayloadSink } from './capture-types.js'

// IEX-TP v1 segment header, 40 bytes, little-endian:
// 0   1    2          4          8          12       14       16             24              32          40
// | ver | rsv | proto id | channel  | session  | pay len | msg cnt | stream off i64 | first seq i64 | send ns i64 |
const HDR_LEN = 40
const OFF_VERSION = 0, OFF_PROTOCOL = 2, OFF_CHANNEL = 4, OFF_SESSION = 8, OFF_PAYLOAD_LEN = 12
const OFF_MSG_COUNT = 14, OFF_STREAM_OFFSET = 16, OFF_FIRST_SEQ = 24, OFF_SEND_TIME = 32
export const IEXTP_VERSION = 1
export const PROTOCOL_TOPS = 0x8003, PROTOCOL_DEEP = 0x8004

export const SEGMENT_OK = 0, SEGMENT_BAD = 1, SEGMENT_TRUNCATED = 2

const u64 = (b: Buffer, o: number): number => b.readUInt32LE(o + 4) * 2 ** 32 + b.readUInt32LE(o) // exact < 2^53

/** Header fields of the last segment read; one instance per reader. */
export class IexTpHeader {
  version = 0
  protocolId = 0
  channelId = 0
  sessionId = 0
  payloadLen = 0
  messageCount = 0
  streamOffset = 0
  firstSeq = 0
  /** send time: µs since the epoch plus the sub-µs nanoseconds */
  sendTimeUs = 0
  sendTimeNsRem = 0
}

/** PayloadSink that splits IEX-TP segments (one per UDP datagram) into sequenced messages. */
export class IexTpReader implements PayloadSink {
  readonly header = new IexTpHeader()
  /** next expected message sequence number; gaps are counted, not repaired */
  nextSeq = -1
  /** segments that skipped ahead of nextSeq, and how many messages they skipped */
  gaps = 0
  gapMessages = 0
  /**
   * Sequence restarts: a segment of another session id, or one starting again at 1 after the session went past
   * its first segment. A venue numbers each session from 1, so this is a new session (a multi-day capture), not
   * a gap nor a duplicate. Known blind spot: the B copy of a session's very first datagram arriving after the A
   * copies of later ones (same session id) reads as a restart.
   */
  restarts = 0
  private session = -1
  private firstSegEnd = -1
  constructor(private readonly sink: MessageSink, readonly stats: CaptureStats = new CaptureStats()) {}

  payload(buf: Buffer, off: number, len: number): void { this.segment(buf, off, len) }

  segment(buf: Buffer, off: number, len: number): number {
    const h = this.header, st = this.stats
    if (len < HDR_LEN) { st.badPackets++; return SEGMENT_BAD }
    h.version = buf[off + OFF_VERSION]
    if (h.version !== IEXTP_VERSION) { st.badPackets++; return SEGMENT_BAD }
    h.protocolId = buf.readUInt16LE(off + OFF_PROTOCOL)
    h.channelId = buf.readUInt32LE(off + OFF_CHANNEL)
    h.sessionId = buf.readUInt32LE(off + OFF_SESSION)
    h.payloadLen = buf.readUInt16LE(off + OFF_PAYLOAD_LEN)
    h.messageCount = buf.readUInt16LE(off + OFF_MSG_COUNT)
    h.streamOffset = u64(buf, off + OFF_STREAM_OFFSET)
    h.firstSeq = u64(buf, off + OFF_FIRST_SEQ)
    const hi = buf.readUInt32LE(off + OFF_SEND_TIME + 4), lo = buf.readUInt32LE(off + OFF_SEND_TIME)
    h.sendTimeUs = hi * 4294967 + Math.floor((hi * 296 + lo) / 1000) // 2^32 = 4294967·1000 + 296
    h.sendTimeNsRem = (hi * 296 + lo) % 1000
    if (h.messageCount === 0) { st.heartbeats++; return SEGMENT_OK }
    if (this.nextSeq >= 0 && (h.sessionId !== this.session || (h.firstSeq === 1 && this.nextSeq > this.firstSegEnd))) {
      this.restarts++; this.nextSeq = -1
    }
    if (this.nextSeq < 0) { this.session = h.sessionId; this.firstSegEnd = h.firstSeq + h.messageCount }
    else if (h.firstSeq > this.nextSeq) { this.gaps++; this.gapMessages += h.firstSeq - this.nextSeq }
    // firstSeq below nextSeq: a copy (A/B line, retransmission); the message sink drops what it has seen
    let o = off + HDR_LEN, seq = h.firstSeq
    const end = off + HDR_LEN + Math.min(h.payloadLen, len - HDR_LEN)
    const truncated = h.payloadLen > len - HDR_LEN
    for (let i = 0; i < h.messageCount; i++) {
      if (o + 2 > end) { st.truncated++; this.advance(seq); return SEGMENT_TRUNCATED }
      const mlen = buf.readUInt16LE(o)
      if (mlen === 0 || o + 2 + mlen > end) { st.truncated++; this.advance(seq); return SEGMENT_TRUNCATED }
      st.messages++
      this.sink.message(buf, o + 2, mlen, seq)
      o += 2 + mlen; seq++
    }
    this.advance(seq)
    if (truncated) { st.truncated++; return SEGMENT_TRUNCATED }
    return SEGMENT_OK
  }

  /** a copy of older segments never moves the expected sequence back */
  private advance(seq: number): void { if (seq > this.nextSeq) this.nextSeq = seq }
}
