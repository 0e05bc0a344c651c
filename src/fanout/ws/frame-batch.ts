// Owns one drain's data frames on their way to connections: the frames the dispatcher handed out, which connection
// gets which, and writing each connection's share as one WebSocket frame (a few when it passes FRAME_MAX_BYTES).
// Must never decide who is subscribed (the registry does) or keep a frame past the drain that made it.
//
// Why (issue 12): uWS's pub/sub sends one WebSocket frame per subscriber per topic publish, and the server's CPU
// followed those frames (~1.1 µs each, 2.6–3 updates per frame at 2 M updates/s). A data frame is an array of events
// that each name their symbol, so the frames of several symbols for one connection join into one: the events of
// every symbol a connection holds that changed in a drain go out in one frame and one send.

/** A merged frame stops growing here at most (as the dispatcher's frames: a busy `*` subscriber gets several). */
export const FRAME_MAX_BYTES = 64 * 1024
/** Room to compose one frame; a single frame bigger than this (none is made today) is sent as it is. */
const COMPOSE_BYTES = 2 * FRAME_MAX_BYTES

const JSON_OPEN = 0x5b, JSON_SEP = 0x2c, JSON_CLOSE = 0x5d
const MSGPACK_ARRAY16 = 0xdc, MSGPACK_ARRAY32 = 0xdd
/** Frame kinds: data frames merge with their neighbours of the same connection; a control text frame goes alone. */
export const BATCH_JSON = 0, BATCH_MSGPACK = 1, BATCH_TEXT = 2

/** A connection as the batch sees it: its pending frame indices (made on its first frame) and its socket. */
export interface BatchMember {
  pending: Int32Array | null
  pendingCount: number
  /** writes one whole frame to the socket now (a closed connection drops it) */
  deliver(frame: Uint8Array, isBinary: boolean): void
}

export class FrameBatch {
  /** [0, COMPOSE_BYTES): where a connection's frame is composed; after it, this drain's frames as published */
  private buf = Buffer.allocUnsafe(COMPOSE_BYTES + 256 * 1024)
  private end = COMPOSE_BYTES
  /** per frame: the whole frame [starts, ends), its events [inners, innerEnds) and how many (msgpack), its kind */
  private starts = new Int32Array(1024)
  private ends = new Int32Array(1024)
  private inners = new Int32Array(1024)
  private innerEnds = new Int32Array(1024)
  private events = new Uint16Array(1024)
  private kinds = new Uint8Array(1024)
  private count = 0
  private members: Array<BatchMember | null> = []
  private memberCount = 0
  /** merged frames written (each is one send), and the published frames they carried */
  framesSent = 0
  framesMerged = 0

  /** `maxFrameBytes`: a merged frame stops growing here (the server passes half its soft limit, as for snapshots) */
  constructor(private readonly maxFrameBytes = FRAME_MAX_BYTES) {}

  /** Is there anything to flush? */
  get pending(): boolean { return this.memberCount !== 0 }

  /** Queues `frame` (copied: the caller reuses its buffer) for every member of `to`, in publish order. */
  add(frame: Uint8Array, kind: number, to: Iterable<BatchMember>): void {
    const f = this.store(frame, kind)
    for (const m of to) this.push(m, f)
  }

  /** Queues `frame` for one member. */
  addOne(frame: Uint8Array, kind: number, m: BatchMember): void { this.push(m, this.store(frame, kind)) }

  /** Writes every member's frames, merged, and forgets the drain's frames. */
  flush(): void {
    const members = this.members
    for (let k = 0; k < this.memberCount; k++) {
      const m = members[k]!
      members[k] = null // a closed connection is not kept alive by the batch
      this.flushMember(m)
    }
    this.memberCount = 0
    this.count = 0; this.end = COMPOSE_BYTES
  }

  /**
   * Writes `m`'s frames now: a connection about to send something of its own (a reply, a snapshot) first gets what was
   * published for it, as uWS drains a subscriber's pending publishes before a direct send.
   */
  flushMember(m: BatchMember): void {
    const n = m.pendingCount, pend = m.pending!
    if (n === 0) return
    m.pendingCount = 0
    const buf = this.buf, kinds = this.kinds
    if (n === 1) { const f = pend[0]; m.deliver(buf.subarray(this.starts[f], this.ends[f]), kinds[f] === BATCH_MSGPACK); this.framesSent++; this.framesMerged++; return }
    const inners = this.inners, innerEnds = this.innerEnds, max = this.maxFrameBytes
    let o = 0, parts = 0, events = 0, binary = false
    for (let k = 0; k < n; k++) {
      const f = pend[k], kind = kinds[f], from = inners[f], to = innerEnds[f]
      if (kind === BATCH_TEXT) {
        if (parts > 0) { this.send(m, o, events, binary); parts = 0 }
        m.deliver(buf.subarray(this.starts[f], this.ends[f]), false); this.framesSent++
        continue
      }
      binary = kind === BATCH_MSGPACK
      if (parts > 0 && o + (to - from) + 1 > max) { this.send(m, o, events, binary); parts = 0 }
      if (parts === 0) {
        if (to - from + 5 > COMPOSE_BYTES) { m.deliver(buf.subarray(this.starts[f], this.ends[f]), binary); this.framesSent++; this.framesMerged++; continue }
        o = binary ? 3 : 1; events = 0
      } else if (!binary) buf[o++] = JSON_SEP
      buf.copyWithin(o, from, to)
      o += to - from; events += this.events[f]; parts++
      this.framesMerged++
    }
    if (parts > 0) this.send(m, o, events, binary)
  }

  private send(m: BatchMember, o: number, events: number, binary: boolean): void {
    const buf = this.buf
    if (binary) { buf[0] = MSGPACK_ARRAY16; buf.writeUInt16BE(events, 1) } // ≤ 64 KiB of events of ≥ 2 bytes each
    else { buf[0] = JSON_OPEN; buf[o++] = JSON_CLOSE }
    m.deliver(buf.subarray(0, o), binary)
    this.framesSent++
  }

  private store(frame: Uint8Array, kind: number): number {
    const len = frame.length
    if (this.end + len > this.buf.length) this.growBytes(len)
    if (this.count === this.kinds.length) this.growFrames()
    const f = this.count++, buf = this.buf, s = this.end
    buf.set(frame, s)
    this.starts[f] = s; this.end = s + len; this.ends[f] = s + len; this.kinds[f] = kind
    // the events of the frame, without its array opening (and, in JSON, its closing bracket); a frame holds at least one
    let from = s + 1, to = s + len - 1, c = 0
    if (kind === BATCH_MSGPACK) {
      const b = buf[s]
      if (b === MSGPACK_ARRAY16) { c = buf.readUInt16BE(s + 1); from = s + 3 }
      else if (b === MSGPACK_ARRAY32) { c = buf.readUInt32BE(s + 1); from = s + 5 }
      else c = b & 0x0f // fixarray
      to = s + len
    }
    this.inners[f] = from; this.innerEnds[f] = to; this.events[f] = Math.min(c, 0xffff)
    return f
  }

  private push(m: BatchMember, f: number): void {
    let p = m.pending
    const n = m.pendingCount
    if (n === 0) {
      this.members[this.memberCount++] = m
      if (p === null) p = m.pending = new Int32Array(8)
    } else if (n === p!.length) {
      const q = new Int32Array(n * 2); q.set(p!); p = m.pending = q
    }
    p![n] = f
    m.pendingCount = n + 1
  }

  private growBytes(len: number): void {
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.end + len))
    this.buf.copy(b, 0, 0, this.end)
    this.buf = b
  }

  private growFrames(): void {
    const n = this.kinds.length * 2
    const s = new Int32Array(n); s.set(this.starts); this.starts = s
    const e = new Int32Array(n); e.set(this.ends); this.ends = e
    const k = new Uint8Array(n); k.set(this.kinds); this.kinds = k
    const i = new Int32Array(n); i.set(this.inners); this.inners = i
    const j = new Int32Array(n); j.set(this.innerEnds); this.innerEnds = j
    const c = new Uint16Array(n); c.set(this.events); this.events = c
  }
}
