// Owns how a saturation load connection reads its frames: tickcast's and the naive server's JSON frames, and the
// NATS client protocol over WebSocket; every event inside goes to the connection's ConnSeq.
// Must never JSON.parse data frames: a receiver that costs more than the server measures itself, not the server.
import type { FrameHandler } from '../lib/lean-ws.js'
import { OP_TEXT } from '../lib/lean-ws.js'
import type { ConnSeq } from './update-stats.js'

const TYPE_KEY = Buffer.from('{"type":"', 'latin1')

/** tickcast (`[ev,ev]` per symbol per turn, `{"type":…}` controls) and the naive server (one event per frame). */
export class JsonFrames implements FrameHandler {
  constructor(private readonly seq: ConnSeq) {}
  onFrame(buf: Buffer, start: number, end: number, opcode: number, nowUs: number): void {
    const st = this.seq.stats
    st.frames++; st.bytes += end - start
    // `{"type":"` opens a control message; `{"e":` a naive server's event (compared in place: an indexOf would scan on)
    if (opcode === OP_TEXT && buf[start] === 123 && buf[start + 2] === 116 && end - start > TYPE_KEY.length && buf.compare(TYPE_KEY, 0, TYPE_KEY.length, start, start + TYPE_KEY.length) === 0) {
      const s = start + TYPE_KEY.length, q = buf.indexOf(34, s)
      st.control(buf.toString('latin1', s, q < 0 || q > end ? end : q)) // rare: subscribed, slow, trades_skipped
      return
    }
    st.messages++
    this.seq.events(buf, start, end, nowUs)
  }
}

const CR = 13, LF = 10
const CARRY_BYTES = 256 * 1024

/**
 * NATS over WebSocket: the frames are one byte stream (`MSG subj sid n\r\n<n bytes>\r\n`, `PING\r\n`, `+OK`,
 * `INFO {...}`), and a message may straddle frames. A frame is parsed where it lies; only a message left incomplete
 * at its end is copied to the carry (and the next frame appended to it), so most bytes are never copied. A payload
 * is one event (unbatched publisher) or one symbol's events of a turn as an array (batched).
 */
export class NatsFrames implements FrameHandler {
  private carry = Buffer.allocUnsafe(CARRY_BYTES)
  private len = 0
  constructor(private readonly seq: ConnSeq, private readonly sendText: (s: string) => void) {}

  onFrame(buf: Buffer, start: number, end: number, _op: number, nowUs: number): void {
    const st = this.seq.stats
    st.frames++; st.bytes += end - start
    if (this.len === 0) { this.keep(buf, this.parse(buf, start, end, nowUs), end); return }
    const n = end - start
    if (this.len + n > this.carry.length) {
      const next = Buffer.allocUnsafe(Math.max(this.carry.length * 2, this.len + n))
      this.carry.copy(next, 0, 0, this.len); this.carry = next
    }
    buf.copy(this.carry, this.len, start, end)
    const len = this.len + n
    this.len = 0
    this.keep(this.carry, this.parse(this.carry, 0, len, nowUs), len)
  }

  /** b[off, end) is an incomplete message: into the carry's start (from the carry itself, a move to the front) */
  private keep(b: Buffer, off: number, end: number): void {
    if (off >= end) return
    if (end - off > this.carry.length) this.carry = Buffer.allocUnsafe(Math.max(this.carry.length * 2, end - off))
    b.copy(this.carry, 0, off, end)
    this.len = end - off
  }

  /** every complete line and message of b[off, end); returns where the incomplete rest starts */
  private parse(b: Buffer, off: number, end: number, nowUs: number): number {
    const st = this.seq.stats
    while (off < end) {
      let eol = off
      while (eol < end && b[eol] !== LF) eol++ // control lines are short: a loop beats a native indexOf call
      if (eol >= end) break
      if (b[off] === 77 /* M */) { // MSG <subject> <sid> [reply] <size>
        let k = eol - 1
        if (b[k] === CR) k--
        let size = 0, mul = 1
        for (; k > off && b[k] !== 32; k--) { size += (b[k] - 48) * mul; mul *= 10 }
        const pStart = eol + 1, pEnd = pStart + size
        if (pEnd + 2 > end) break
        st.messages++ // nats-server packs many messages into one WebSocket frame
        this.seq.events(b, pStart, pEnd, nowUs)
        off = pEnd + 2
        continue
      }
      if (b[off] === 80 /* P */ && b[off + 1] === 73 /* I */) this.sendText('PONG\r\n')
      else if (b[off] === 45 /* - */) st.control('nats_err') // -ERR 'Slow Consumer' and the like
      off = eol + 1
    }
    return off
  }
}
