// Owns the dispatcher's data frames on their way to connections: which connection gets which, when each connection's
// share goes (at most once per frame interval, on the connection's own phase) and writing it as one WebSocket frame.
// Must never decide who is subscribed (the registry does) or keep a frame longer than about two frame intervals.
//
// Why (issue 12): uWS's pub/sub sends one WebSocket frame per subscriber per topic publish, and the server's CPU
// followed those frames (~1.1 µs each, 2.6–3 updates per frame at 2 M updates/s). A data frame is an array of events
// that each name their symbol, so the frames of several symbols for one connection join into one: the events of
// every symbol a connection holds that changed in a drain go out in one frame and one send.
import { FrameStore } from './frame-store.js'

/** A merged frame stops growing here at most (as the dispatcher's frames: a busy `*` subscriber gets several). */
export const FRAME_MAX_BYTES = 64 * 1024
/** Room to compose one frame; a single frame bigger than this (none is made today) is sent as it is. */
const COMPOSE_BYTES = 2 * FRAME_MAX_BYTES
/** each generation's bytes at first (it grows as a drain needs) */
const STORE_BYTES = 256 * 1024

const JSON_OPEN = 0x5b, JSON_SEP = 0x2c, JSON_CLOSE = 0x5d
const MSGPACK_ARRAY16 = 0xdc, MSGPACK_ARRAY32 = 0xdd
/** Frame kinds: data frames merge with their neighbours of the same connection; a control text frame goes alone. */
export const BATCH_JSON = 0, BATCH_MSGPACK = 1, BATCH_TEXT = 2

/** A connection as the batch sees it: its pending frame indices (made on its first frame) and its socket. */
export interface BatchMember {
  pending: Int32Array | null
  pendingCount: number
  /** when its next merged frame may go: ms on the batch's wrapped clock (a small integer: no heap number per write);
   * -1 before its first (due at once) */
  flushDue: number
  /** in the batch's list of members with frames (or just written: the next scan drops it) */
  listed: boolean
  /** writes one whole frame to the socket now (a closed connection drops it) */
  deliver(frame: Uint8Array, isBinary: boolean): void
}

/**
 * Why the frame interval (issue 12): each merged frame is one send syscall, ~10 µs of the server's CPU on loopback
 * whatever its size, so CPU follows connections × frames per second. With an interval P each connection gets at most
 * one frame per P: its updates wait up to P, and it costs at most 1000 / P sends a second at any feed rate. Every
 * connection keeps a phase of its own, spread over the interval, so the sends of 1,000 connections go a few at a time
 * rather than as one burst (a burst would add its own length to the wait of the last in it). A connection that was
 * quiet for a whole interval sends at once: the interval never delays the first update after a pause.
 */

/** The wrapped millisecond clock of `flushDue`: 2^30 ms (12 days) round, a V8 small integer. */
const CLOCK_MASK = 0x3fffffff
/** The spread phases of connections that start sending at once: golden-ratio steps over [0.5, 1) of an interval. */
const GOLDEN = 0.6180339887498949

export class FrameBatch {
  /**
   * [0, COMPOSE_BYTES): where a connection's frame is composed; after it, the two generations' bytes. One buffer, so
   * that composing is copyWithin (Buffer.copy between buffers makes a typed array per call: 0.1 µs a delivered update)
   */
  private buf = Buffer.allocUnsafe(COMPOSE_BYTES + 2 * STORE_BYTES)
  /** two generations; a frame's index is (index in its store << 1) | store */
  private readonly stores = [new FrameStore(), new FrameStore()]
  private cur = 0
  private curSinceMs = 0
  /** members with frames queued (and some just written, dropped at the next scan) */
  private members: Array<BatchMember | null> = []
  private memberCount = 0
  /** the clock of the last scan, absolute and wrapped */
  private clockMs = 0
  private clockWrapped = 0
  /** a member listed since the last scan may go now; else the next scan is due at nextScanMs */
  private dueNow = false
  private nextScanMs = Number.POSITIVE_INFINITY
  private phase = 0
  /** merged frames written (each is one send), and the published frames they carried */
  framesSent = 0
  framesMerged = 0

  /**
   * `maxFrameBytes`: a merged frame stops growing here (the server passes half its soft limit, as for snapshots).
   * `intervalMs`: each member gets at most one merged frame per interval (0: one per drain, as soon as it ends).
   */
  constructor(private readonly maxFrameBytes = FRAME_MAX_BYTES, private readonly intervalMs = 0,
    /** the clock (injected: tests pass their own) */
    private readonly now: () => number = () => performance.now()) {
    const [a, b] = this.stores
    a.base = COMPOSE_BYTES; a.cap = STORE_BYTES; b.base = COMPOSE_BYTES + STORE_BYTES; b.cap = STORE_BYTES
  }

  /** Is any member waiting for its frame (or just written and not yet dropped from the list)? */
  get pending(): boolean { return this.memberCount !== 0 }

  /** Bytes of published frames held for members (both generations; 0 once nothing waits). */
  get heldBytes(): number { return this.stores[0].end + this.stores[1].end }

  /** When the next member's frame is due (absolute ms on the clock; +Infinity when none waits). */
  get nextDueMs(): number { return this.dueNow ? this.clockMs : this.nextScanMs }

  /** Queues `frame` (copied: the caller reuses its buffer) for every member of `to`, in publish order. */
  add(frame: Uint8Array, kind: number, to: Iterable<BatchMember>): void {
    const g = this.cur, st = this.stores[g], f = (this.store(st, frame, kind) << 1) | g
    let n = 0
    for (const m of to) { this.push(m, f); n++ }
    st.refs += n
  }

  /** Queues `frame` for one member. */
  addOne(frame: Uint8Array, kind: number, m: BatchMember): void {
    const g = this.cur, st = this.stores[g]
    this.push(m, (this.store(st, frame, kind) << 1) | g)
    st.refs++
  }

  /** A drain is over: the members whose frames are due get them, when any is (cheap when none is). */
  endDrain(): void {
    if (this.memberCount === 0) return
    const now = this.now()
    if (this.dueNow || now >= this.nextScanMs) this.scan(now)
  }

  /** Writes the frames of every member that is due, and keeps the others listed with the time of the next one due. */
  scan(now = this.now()): void {
    const clock = Math.floor(now) & CLOCK_MASK, interval = this.intervalMs, members = this.members
    this.clockMs = now; this.clockWrapped = clock
    let keep = 0, next = Number.POSITIVE_INFINITY
    for (let k = 0; k < this.memberCount; k++) {
      const m = members[k]!
      members[k] = null // a closed connection is not kept alive by the batch
      if (m.pendingCount !== 0) {
        const wait = m.flushDue < 0 ? 0 : (m.flushDue - clock) & CLOCK_MASK
        if (wait !== 0 && wait <= interval) { members[keep++] = m; if (now + wait < next) next = now + wait; continue }
        this.flushMember(m)
      }
      m.listed = false
    }
    this.memberCount = keep
    this.dueNow = false; this.nextScanMs = next
    this.recycle(now)
  }

  /** Writes every member's frames now, due or not, and forgets every frame. */
  flush(): void {
    const members = this.members
    for (let k = 0; k < this.memberCount; k++) {
      const m = members[k]!
      members[k] = null
      this.flushMember(m)
      m.listed = false
    }
    this.memberCount = 0
    this.dueNow = false; this.nextScanMs = Number.POSITIVE_INFINITY
    this.recycle(this.now())
  }

  /**
   * Writes `m`'s frames now: a connection about to send something of its own (a reply, a snapshot) first gets what was
   * published for it, as uWS drains a subscriber's pending publishes before a direct send.
   */
  flushMember(m: BatchMember): void {
    const n = m.pendingCount, pend = m.pending!
    if (n === 0) return
    m.pendingCount = 0
    this.nextDue(m)
    const stores = this.stores
    if (n === 1) {
      const f = pend[0], st = stores[f & 1], i = f >> 1, base = st.base
      st.refs--
      m.deliver(this.buf.subarray(base + st.starts[i], base + st.ends[i]), st.kinds[i] === BATCH_MSGPACK); this.framesSent++; this.framesMerged++
      return
    }
    const buf = this.buf, max = this.maxFrameBytes
    let o = 0, parts = 0, events = 0, binary = false
    for (let k = 0; k < n; k++) {
      const f = pend[k], st = stores[f & 1], i = f >> 1, base = st.base, kind = st.kinds[i]
      const from = base + st.inners[i], to = base + st.innerEnds[i]
      st.refs--
      if (kind === BATCH_TEXT) {
        if (parts > 0) { this.send(m, o, events, binary); parts = 0 }
        m.deliver(buf.subarray(base + st.starts[i], base + st.ends[i]), false); this.framesSent++
        continue
      }
      binary = kind === BATCH_MSGPACK
      if (parts > 0 && o + (to - from) + 1 > max) { this.send(m, o, events, binary); parts = 0 }
      if (parts === 0) {
        if (to - from + 5 > COMPOSE_BYTES) { m.deliver(buf.subarray(base + st.starts[i], base + st.ends[i]), binary); this.framesSent++; this.framesMerged++; continue }
        o = binary ? 3 : 1; events = 0
      } else if (!binary) buf[o++] = JSON_SEP
      buf.copyWithin(o, from, to)
      o += to - from; events += st.events[i]; parts++
      this.framesMerged++
    }
    if (parts > 0) this.send(m, o, events, binary)
  }

  /**
   * `m`'s frame goes now: the next may go one interval after this one was due, which keeps its phase; one that was
   * not due (written early, or after a pause) starts a phase of its own, spread over the second half of the interval.
   */
  private nextDue(m: BatchMember): void {
    const interval = this.intervalMs
    if (interval === 0) return
    const late = (this.clockWrapped - m.flushDue) & CLOCK_MASK
    if (m.flushDue >= 0 && late < interval) { m.flushDue = (m.flushDue + interval) & CLOCK_MASK; return }
    this.phase = (this.phase + GOLDEN) % 1
    m.flushDue = (this.clockWrapped + Math.max(1, Math.round(interval * (0.5 + 0.5 * this.phase)))) & CLOCK_MASK
  }

  /** A generation no member still needs is emptied: the other once the current one is an interval old, both when idle. */
  private recycle(now: number): void {
    const cur = this.stores[this.cur], other = this.stores[this.cur ^ 1]
    if (other.refs !== 0) return
    if (cur.refs === 0) { cur.reset(); other.reset(); this.curSinceMs = now; return }
    if (now - this.curSinceMs >= this.intervalMs) { other.reset(); this.cur ^= 1; this.curSinceMs = now }
  }

  private send(m: BatchMember, o: number, events: number, binary: boolean): void {
    const buf = this.buf
    if (binary) { buf[0] = MSGPACK_ARRAY16; buf.writeUInt16BE(events, 1) } // ≤ 64 KiB of events of ≥ 2 bytes each
    else { buf[0] = JSON_OPEN; buf[o++] = JSON_CLOSE }
    m.deliver(buf.subarray(0, o), binary)
    this.framesSent++
  }

  /** Copies `frame` into generation `st` (the caller reuses its buffer) and finds its events; returns its index. */
  private store(st: FrameStore, frame: Uint8Array, kind: number): number {
    const len = frame.length
    if (st.end + len > st.cap) this.growBytes(st, len)
    if (st.count === st.kinds.length) st.growFrames()
    const f = st.count++, buf = this.buf, s = st.base + st.end
    buf.set(frame, s)
    st.starts[f] = st.end; st.end += len; st.ends[f] = st.end; st.kinds[f] = kind
    // the events of the frame, without its array opening (and, in JSON, its closing bracket); a frame holds at least one
    let from = s + 1, to = s + len - 1, c = 0
    if (kind === BATCH_MSGPACK) {
      const b = buf[s]
      if (b === MSGPACK_ARRAY16) { c = buf.readUInt16BE(s + 1); from = s + 3 }
      else if (b === MSGPACK_ARRAY32) { c = buf.readUInt32BE(s + 1); from = s + 5 }
      else c = b & 0x0f // fixarray
      to = s + len
    }
    st.inners[f] = from - st.base; st.innerEnds[f] = to - st.base; st.events[f] = Math.min(c, 0xffff)
    return f
  }

  /** Generation `st` needs `len` more bytes: a bigger buffer, both generations' bytes copied to their new places. */
  private growBytes(st: FrameStore, len: number): void {
    st.cap = Math.max(st.cap * 2, st.end + len)
    const [a, b] = this.stores, next = Buffer.allocUnsafe(COMPOSE_BYTES + a.cap + b.cap)
    this.buf.copy(next, COMPOSE_BYTES, a.base, a.base + a.end)
    this.buf.copy(next, COMPOSE_BYTES + a.cap, b.base, b.base + b.end)
    a.base = COMPOSE_BYTES; b.base = COMPOSE_BYTES + a.cap
    this.buf = next
  }

  private push(m: BatchMember, f: number): void {
    let p = m.pending
    const n = m.pendingCount
    if (n === 0) {
      this.list(m)
      if (p === null) p = m.pending = new Int32Array(8)
    } else if (n === p!.length) {
      const q = new Int32Array(n * 2); q.set(p!); p = m.pending = q
    }
    p![n] = f
    m.pendingCount = n + 1
  }

  /**
   * `m` gets its first frame since its last was written: due now (quiet for an interval), or at its phase. It may be
   * listed still (written early, by flushMember): it is not listed twice, but its due time counts again.
   */
  private list(m: BatchMember): void {
    if (!m.listed) { m.listed = true; this.members[this.memberCount++] = m }
    if (this.dueNow) return
    const wait = m.flushDue < 0 ? 0 : (m.flushDue - this.clockWrapped) & CLOCK_MASK
    if (wait === 0 || wait > this.intervalMs) this.dueNow = true
    else if (this.clockMs + wait < this.nextScanMs) this.nextScanMs = this.clockMs + wait
  }
}
