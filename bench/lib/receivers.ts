// Owns what a load-generator connection does with received bytes: count updates and frames, sample latency.
// Must never JSON.parse data frames: a receiver that costs more than the server measures itself, not the server.
import * as hdr from 'hdr-histogram-js'
import type { FrameHandler } from './lean-ws.js'
import { OP_TEXT } from './lean-ws.js'

/** One per load-generator process; every connection of the process adds to it. */
export class RecvStats {
  updates = 0
  frames = 0
  bytes = 0
  controls = 0
  /** feed exchange timestamp → receive wall clock, µs; one sample per WebSocket frame (its first, oldest update) */
  latencyUs = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  /** control messages seen by type (slow, trades_skipped...) */
  readonly controlTypes: Record<string, number> = {}
  reset(): void {
    this.updates = 0; this.frames = 0; this.bytes = 0; this.controls = 0
    this.latencyUs.reset()
    for (const k of Object.keys(this.controlTypes)) delete this.controlTypes[k]
  }
}

const T_KEY = Buffer.from(',"t":', 'latin1')
const TYPE_KEY = Buffer.from('{"type":"', 'latin1')

/** Digits at buf[o..] as a number (the `t` value: µs since the epoch, < 2^53). */
function readDigits(buf: Buffer, o: number, end: number): number {
  let v = 0
  for (; o < end; o++) { const c = buf[o] - 48; if (c < 0 || c > 9) break; v = v * 10 + c }
  return v
}

function sample(stats: RecvStats, buf: Buffer, o: number, end: number, nowUs: number): void {
  const t = readDigits(buf, o, end)
  if (t > 0) { const d = nowUs - t; stats.latencyUs.recordValue(d < 1 ? 1 : d > 59_000_000 ? 59_000_000 : d) }
}

/**
 * tickcast JSON frames (`[ev,ev]`) and the naive server's one-object frames: every update carries `,"t":` once
 * (snapshots carry `qt`/`tt` instead), so updates = occurrences of it; Buffer.indexOf is native.
 */
export class JsonUpdatesReceiver implements FrameHandler {
  constructor(private readonly stats: RecvStats) {}
  onFrame(buf: Buffer, start: number, end: number, opcode: number, nowUs: number): void {
    const st = this.stats
    st.frames++; st.bytes += end - start
    if (opcode === OP_TEXT && buf[start] === 123 && buf.indexOf(TYPE_KEY, start) === start) { this.control(buf, start, end); return }
    let o = buf.indexOf(T_KEY, start)
    if (o < 0 || o >= end) return
    sample(st, buf, o + T_KEY.length, end, nowUs)
    let n = 0
    while (o >= 0 && o < end) { n++; o = buf.indexOf(T_KEY, o + T_KEY.length) }
    st.updates += n
  }
  private control(buf: Buffer, start: number, end: number): void {
    const st = this.stats
    st.controls++
    const s = start + TYPE_KEY.length, q = buf.indexOf(34, s)
    const type = buf.toString('latin1', s, q < 0 || q > end ? end : q)
    st.controlTypes[type] = (st.controlTypes[type] ?? 0) + 1
  }
}

const CR = 13, LF = 10
const CARRY_BYTES = 256 * 1024

/**
 * NATS client protocol over WebSocket frames: the frames are one byte stream (`MSG subj sid n\r\n<n bytes>\r\n`,
 * `PING\r\n`, `+OK`, `INFO {...}`), and a message may straddle frames, so bytes go through a carry.
 */
export class NatsReceiver implements FrameHandler {
  private carry = Buffer.allocUnsafe(CARRY_BYTES)
  private len = 0
  constructor(private readonly stats: RecvStats, private readonly sendText: (s: string) => void) {}

  onFrame(buf: Buffer, start: number, end: number, _op: number, nowUs: number): void {
    const st = this.stats
    st.frames++; st.bytes += end - start
    const n = end - start
    if (this.len + n > this.carry.length) {
      const next = Buffer.allocUnsafe(Math.max(this.carry.length * 2, this.len + n))
      this.carry.copy(next, 0, 0, this.len); this.carry = next
    }
    buf.copy(this.carry, this.len, start, end)
    this.len += n
    const b = this.carry, len = this.len
    let off = 0, first = true
    while (off < len) {
      const eol = b.indexOf(LF, off)
      if (eol < 0 || eol >= len) break
      if (b[off] === 77 /* M */) { // MSG <subject> <sid> [reply] <size>
        let k = eol - 1
        if (b[k] === CR) k--
        let size = 0, mul = 1
        for (; k > off && b[k] !== 32; k--) { size += (b[k] - 48) * mul; mul *= 10 }
        const pStart = eol + 1, pEnd = pStart + size
        if (pEnd + 2 > len) break
        st.updates++
        if (first) { first = false; const t = b.indexOf(T_KEY, pStart); if (t >= 0 && t < pEnd) sample(st, b, t + T_KEY.length, pEnd, nowUs) }
        off = pEnd + 2
        continue
      }
      if (b[off] === 80 /* P */ && b[off + 1] === 73 /* I */) this.sendText('PONG\r\n')
      off = eol + 1
    }
    if (off >= len) this.len = 0
    else { b.copy(b, 0, off, len); this.len = len - off }
  }
}
