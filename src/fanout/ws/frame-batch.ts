// Owns the dispatcher's data frames on their way to connections: which connection gets which, when each connection's
// share goes (at most once per frame interval, on the connection's own phase) and writing it as one WebSocket frame.
// Must never decide who is subscribed (the registry does) or keep a frame longer than about two frame intervals.
//
// Why (issue 12): uWS's pub/sub sends one WebSocket frame per subscriber per topic publish, and the server's CPU
// followed those frames (~1.1 µs each, 2.6–3 updates per frame at 2 M updates/s). A data frame is an array of events
// that each name their symbol, so the frames of several symbols for one connection join into one: the events of
// every symbol a connection holds that changed in a drain go out in one frame and one send.
import { BATCH_MSGPACK, BATCH_TEXT, END, EVENTS_KIND, FRAME_FIELDS, FrameGenerations, INNER, INNER_END, START } from './frame-store.js'

export { BATCH_JSON, BATCH_MSGPACK, BATCH_TEXT } from './frame-store.js'

/** A merged frame stops growing here at most (as the dispatcher's frames: a busy `*` subscriber gets several). */
export const FRAME_MAX_BYTES = 64 * 1024
/** Room to compose one frame; a single frame bigger than this (none is made today) is sent as it is. */
const COMPOSE_BYTES = 2 * FRAME_MAX_BYTES
/** each generation's bytes at first (it grows as a drain needs) */
const STORE_BYTES = 256 * 1024

const JSON_OPEN = 0x5b, JSON_SEP = 0x2c, JSON_CLOSE = 0x5d
const MSGPACK_ARRAY16 = 0xdc
/**
 * The hot loops use this module's own copies of exported and imported constants: V8's optimized code reads an
 * exported or imported `const` from its cell, with a hole check, at every use (~10 instructions each, 7 uses a
 * delivered update in flushMember); an unexported one is folded in as a number.
 */
const KIND_MSGPACK = BATCH_MSGPACK, KIND_TEXT = BATCH_TEXT
const F_FIELDS = FRAME_FIELDS, F_START = START, F_END = END, F_INNER = INNER, F_INNER_END = INNER_END, F_EVENTS_KIND = EVENTS_KIND

/** A connection as the batch sees it: its pending frame indices (made on its first frame) and its socket. */
export interface BatchMember {
  pending: Int32Array | null
  pendingCount: number
  /** when its next merged frame may go: ms on the batch's wrapped clock (a small integer: no heap number per write);
   * -1 before its first (due at once) */
  flushDue: number
  /** where the batch lists it (it has frames, or was just written early): LISTED_NONE, LISTED_NOW (due at the next
   * scan) or the wrapped ms of its slot in the batch's wheel */
  listedMs: number
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
/** `listedMs` of a member the batch does not list, and of one in its due-now list */
const LISTED_NONE = -1
const LISTED_NOW = -2
/** The spread phases of connections that start sending at once: golden-ratio steps over [0.5, 1) of an interval. */
const GOLDEN = 0.6180339887498949

export class FrameBatch {
  /** the published frames' bytes and fields (frame-store.ts); a frame to send is a view of the arena, not subarray(),
   * which looks up the buffer's species constructor (~400 instructions a send) */
  private readonly gens = new FrameGenerations(COMPOSE_BYTES, STORE_BYTES)
  private readonly arena = this.gens.arena
  private readonly stores = this.gens.stores
  /** members due at the next scan (quiet for an interval, or no interval), in listing order */
  private nowList: Array<BatchMember | null> = []
  private nowCount = 0
  /**
   * Members due later, by the ms they are due: slot (ms & slotMask). A scan visits only the slots of the ms since the
   * last one, so its work follows the members that are due, not all that wait (a timer scan every ms visited all
   * 1,000 listed members). An entry goes stale when its member moves (written early); visiting it again is harmless.
   */
  private readonly slots: Array<Array<BatchMember | null>>
  private readonly slotCounts: Int32Array
  private readonly slotMask: number
  /** listed members, each counted once wherever it is listed */
  private listedCount = 0
  /** the clock of the last scan, absolute and wrapped: slots up to it are visited */
  private clockMs = 0
  private clockWrapped = 0
  /** when the earliest slotted member is due (absolute ms; +Infinity when none is) */
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
    // a power of two above the interval: a due ms is at most one interval after the last scan, and 2^30 ms wraps evenly
    const n = intervalMs > 0 ? 2 ** Math.ceil(Math.log2(intervalMs + 2)) : 1
    this.slotMask = n - 1
    this.slots = Array.from({ length: n }, () => [])
    this.slotCounts = new Int32Array(n)
  }

  /** Does it compose with WebAssembly memory.copy (byte-arena.ts; else copyWithin, where no memory could be made)? */
  get wasm(): boolean { return this.arena.wasm }

  /** Is any member waiting for its frame (or just written and not yet dropped from the list)? */
  get pending(): boolean { return this.listedCount !== 0 }

  /** Bytes of published frames held for members (both generations; 0 once nothing waits). */
  get heldBytes(): number { return this.gens.heldBytes }

  /** When the next member's frame is due (absolute ms on the clock; +Infinity when none waits). */
  get nextDueMs(): number { return this.nowCount !== 0 ? this.clockMs : this.nextScanMs }

  /** Queues `frame` (copied: the caller reuses its buffer) for every member of `to`, in publish order. */
  add(frame: Uint8Array, kind: number, to: readonly BatchMember[]): void {
    const n = to.length, f = this.gens.add(frame, kind, n)
    for (let k = 0; k < n; k++) this.push(to[k], f)
  }

  /** Queues `frame` for one member. */
  addOne(frame: Uint8Array, kind: number, m: BatchMember): void { this.push(m, this.gens.add(frame, kind, 1)) }

  /** A drain is over: the members whose frames are due get them, when any is (cheap when none is). */
  endDrain(): void {
    if (this.listedCount === 0) return
    const now = this.now()
    if (this.nowCount !== 0 || now >= this.nextScanMs) this.scan(now)
  }

  /** Writes the frames of every member that is due, and keeps the others listed in the slot of the ms they are due. */
  scan(now = this.now()): void {
    const clock = Math.floor(now) & CLOCK_MASK, last = this.clockWrapped, mask = this.slotMask
    this.clockMs = now; this.clockWrapped = clock
    const list = this.nowList, n = this.nowCount
    this.nowCount = 0
    for (let k = 0; k < n; k++) {
      const m = list[k]!
      list[k] = null // a closed connection is not kept alive by the batch
      if (m.listedMs === LISTED_NOW) this.visit(m, -1)
    }
    if (mask !== 0) {
      // the ms since the last scan (all slots after a gap of a whole wheel: each member is judged by its own due time)
      const steps = Math.min((clock - last) & CLOCK_MASK, mask + 1)
      for (let i = steps - 1; i >= 0; i--) {
        const s = (clock - i) & mask, c = this.slotCounts[s]
        if (c === 0) continue
        const slot = this.slots[s]
        this.slotCounts[s] = 0 // a member visited here may be listed here again (due a wheel later): before entry k
        for (let k = 0; k < c; k++) {
          const m = slot[k]!
          slot[k] = null
          if (m.listedMs >= 0) this.visit(m, s)
        }
      }
      let next = Number.POSITIVE_INFINITY
      for (let i = 1; i <= mask; i++) if (this.slotCounts[(clock + i) & mask] !== 0) { next = Math.floor(now) + i; break }
      this.nextScanMs = next
    }
    this.gens.recycle(now, this.intervalMs)
  }

  /** Writes every member's frames now, due or not, and forgets every frame. */
  flush(): void {
    const list = this.nowList
    for (let k = 0; k < this.nowCount; k++) { const m = list[k]!; list[k] = null; this.drop(m) }
    this.nowCount = 0
    for (let s = 0; s <= this.slotMask; s++) {
      const slot = this.slots[s], c = this.slotCounts[s]
      this.slotCounts[s] = 0
      for (let k = 0; k < c; k++) { const m = slot[k]!; slot[k] = null; this.drop(m) }
    }
    this.nextScanMs = Number.POSITIVE_INFINITY
    this.gens.recycle(this.now(), this.intervalMs)
  }

  /** A listed member found in slot `s` (-1: the due-now list): written when due, else listed where it is due. */
  private visit(m: BatchMember, s: number): void {
    if (m.pendingCount !== 0) {
      const wait = m.flushDue < 0 ? 0 : (m.flushDue - this.clockWrapped) & CLOCK_MASK
      if (wait !== 0 && wait <= this.intervalMs) {
        // not due: listed in the slot of its due ms, unless an entry of it is there already (one not being visited)
        if (m.listedMs !== m.flushDue || (m.flushDue & this.slotMask) === s) this.slot(m, m.flushDue, wait)
        return
      }
      this.flushMember(m)
    }
    this.unlist(m)
  }

  /** A listed member is written now, due or not, and no longer listed (its other entries go stale). */
  private drop(m: BatchMember): void {
    if (m.listedMs === LISTED_NONE) return
    this.flushMember(m)
    this.unlist(m)
  }

  private unlist(m: BatchMember): void { m.listedMs = LISTED_NONE; this.listedCount-- }

  private slot(m: BatchMember, dueMs: number, wait: number): void {
    m.listedMs = dueMs
    const s = dueMs & this.slotMask
    this.slots[s][this.slotCounts[s]++] = m
    const at = Math.floor(this.clockMs) + wait
    if (at < this.nextScanMs) this.nextScanMs = at
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
    const s0 = this.stores[0], s1 = this.stores[1], arena = this.arena
    if (n === 1) {
      const f = pend[0], st = (f & 1) === 0 ? s0 : s1, at = (f >> 1) * F_FIELDS, meta = st.meta, base = st.base
      st.refs--
      m.deliver(arena.view(base + meta[at + F_START], base + meta[at + F_END]), meta[at + F_EVENTS_KIND] >> 16 === KIND_MSGPACK)
      this.framesSent++; this.framesMerged++
      return
    }
    const buf = arena.bytes, max = this.maxFrameBytes
    let o = 0, parts = 0, events = 0, binary = false, merged = 0, inSecond = 0
    for (let k = 0; k < n; k++) {
      const f = pend[k], g = f & 1, st = g === 0 ? s0 : s1, at = (f >> 1) * F_FIELDS, meta = st.meta, base = st.base
      const from = base + meta[at + F_INNER], to = base + meta[at + F_INNER_END], ek = meta[at + F_EVENTS_KIND], kind = ek >> 16
      inSecond += g
      if (kind === KIND_TEXT) {
        if (parts > 0) { this.send(m, o, events, binary); parts = 0 }
        m.deliver(arena.view(base + meta[at + F_START], base + meta[at + F_END]), false); this.framesSent++
        continue
      }
      binary = kind === KIND_MSGPACK
      merged++
      if (parts > 0 && o + (to - from) + 1 > max) { this.send(m, o, events, binary); parts = 0 }
      if (parts === 0) {
        if (to - from + 5 > COMPOSE_BYTES) { m.deliver(arena.view(base + meta[at + F_START], base + meta[at + F_END]), binary); this.framesSent++; continue }
        o = binary ? 3 : 1; events = 0
      } else if (!binary) buf[o++] = JSON_SEP
      arena.copy(o, from, to)
      o += to - from; events += ek & 0xffff; parts++
    }
    s1.refs -= inSecond; s0.refs -= n - inSecond
    this.framesMerged += merged
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

  private send(m: BatchMember, o: number, events: number, binary: boolean): void {
    const buf = this.arena.bytes
    if (binary) { buf[0] = MSGPACK_ARRAY16; buf[1] = events >> 8; buf[2] = events & 0xff } // ≤ 64 KiB of ≥ 2-byte events
    else { buf[0] = JSON_OPEN; buf[o++] = JSON_CLOSE }
    m.deliver(this.arena.view(0, o), binary)
    this.framesSent++
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
   * listed still (written early, by flushMember): it is counted once, and listed again where its due time now is.
   */
  private list(m: BatchMember): void {
    const wait = m.flushDue < 0 ? 0 : (m.flushDue - this.clockWrapped) & CLOCK_MASK
    const due = wait === 0 || wait > this.intervalMs, at = m.listedMs
    if (at === LISTED_NONE) this.listedCount++
    else if (at === LISTED_NOW || (!due && at === m.flushDue)) return // listed where it is due already
    if (due) { m.listedMs = LISTED_NOW; this.nowList[this.nowCount++] = m }
    else this.slot(m, m.flushDue, wait)
  }
}
