// Owns MoldUDP64 downstream packet parsing: session, sequence, count, then [u16 BE length][message] blocks.
// Must never request retransmissions: it reads captures and counts gaps; recovery belongs to a live session.
import { CaptureStats } from './capture-types.js'
import type { MessageSink, PayloadSink } from './capture-types.js'

// MoldUDP64 packet header, 20 bytes, big-endian:
// 0                10                 18          20
// | session (10 ASCII) | seq u64 (first) | count u16 | then count × [ len u16 | message ]
const HDR_LEN = 20, OFF_SEQ = 10, OFF_COUNT = 18, SESSION_LEN = 10
/** count 0xFFFF marks the end of the session; 0 is a heartbeat */
export const MOLD_END_OF_SESSION = 0xffff

export const MOLD_OK = 0, MOLD_BAD = 1, MOLD_TRUNCATED = 2

export class MoldHeader {
  /** session as its 10 raw bytes (latin1); built only when the bytes change */
  session = ''
  seq = 0
  count = 0
  endOfSession = false
}

export class MoldUdp64Reader implements PayloadSink {
  readonly header = new MoldHeader()
  private readonly sessionBytes = Buffer.alloc(SESSION_LEN)
  nextSeq = -1
  /** packets that skipped ahead of nextSeq, and how many messages they skipped */
  gaps = 0
  gapMessages = 0
  /** sequence restarts: another session name, or sequence 1 again after the first packet (as IexTpReader) */
  restarts = 0
  private firstPktEnd = -1
  constructor(private readonly sink: MessageSink, readonly stats: CaptureStats = new CaptureStats()) {}

  payload(buf: Buffer, off: number, len: number): void { this.packet(buf, off, len) }

  packet(buf: Buffer, off: number, len: number): number {
    const h = this.header, st = this.stats
    if (len < HDR_LEN) { st.badPackets++; return MOLD_BAD }
    let newSession = false
    if (buf.compare(this.sessionBytes, 0, SESSION_LEN, off, off + SESSION_LEN) !== 0 || h.session === '') {
      newSession = h.session !== ''
      buf.copy(this.sessionBytes, 0, off, off + SESSION_LEN)
      h.session = this.sessionBytes.toString('latin1')
    }
    h.seq = buf.readUInt16BE(off + OFF_SEQ) * 2 ** 48 + buf.readUInt16BE(off + OFF_SEQ + 2) * 2 ** 32 + buf.readUInt32BE(off + OFF_SEQ + 4)
    h.count = buf.readUInt16BE(off + OFF_COUNT)
    h.endOfSession = h.count === MOLD_END_OF_SESSION
    if (h.count === 0 || h.endOfSession) { st.heartbeats++; return MOLD_OK }
    if (this.nextSeq >= 0 && (newSession || (h.seq === 1 && this.nextSeq > this.firstPktEnd))) { this.restarts++; this.nextSeq = -1 }
    if (this.nextSeq < 0) this.firstPktEnd = h.seq + h.count
    else if (h.seq > this.nextSeq) { this.gaps++; this.gapMessages += h.seq - this.nextSeq }
    const end = off + len
    let o = off + HDR_LEN, seq = h.seq
    for (let i = 0; i < h.count; i++) {
      if (o + 2 > end) { st.truncated++; this.advance(seq); return MOLD_TRUNCATED }
      const mlen = buf.readUInt16BE(o)
      if (o + 2 + mlen > end) { st.truncated++; this.advance(seq); return MOLD_TRUNCATED }
      st.messages++
      this.sink.message(buf, o + 2, mlen, seq)
      o += 2 + mlen; seq++
    }
    this.advance(seq)
    return MOLD_OK
  }

  /** a copy of older packets never moves the expected sequence back */
  private advance(seq: number): void { if (seq > this.nextSeq) this.nextSeq = seq }
}

/** Session bytes as the reference data writes them: ASCII when printable, else 20 hex digits. */
export function formatMoldSession(session: string): string {
  return /^[\x20-\x7e]{10}$/.test(session) ? session : Buffer.from(session, 'latin1').toString('hex')
}
