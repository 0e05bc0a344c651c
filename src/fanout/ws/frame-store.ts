// Owns the frame batch's published frames: their bytes in two generations of one arena, where each frame's events
// are, and when a generation no queued (member, frame) pair needs is reused. Must never decide who gets which frame.
import { ByteArena } from './byte-arena.js'

/** Frame kinds: data frames merge with their neighbours of the same connection; a control text frame goes alone. */
export const BATCH_JSON = 0, BATCH_MSGPACK = 1, BATCH_TEXT = 2
/** an unexported copy: V8 folds it, while an exported const is read from its cell at every use (frame-batch.ts) */
const KIND_MSGPACK = BATCH_MSGPACK
const MSGPACK_ARRAY16 = 0xdc, MSGPACK_ARRAY32 = 0xdd
/** called through `.call` from a module constant: `buf.set(...)` loads the method through V8's generic LoadIC */
const setBytes = Uint8Array.prototype.set

/** Per frame, FRAME_FIELDS int32s in `meta`: offsets from the generation's base, and its event count and kind. */
export const FRAME_FIELDS = 5
/** the whole frame is [START, END); its events, without the array's opening (and JSON's closing), [INNER, INNER_END) */
export const START = 0, END = 1, INNER = 2, INNER_END = 3
/** events (msgpack; ≤ 0xffff) | kind << 16 */
export const EVENTS_KIND = 4

/**
 * One generation of published frames: where its bytes are in the batch's arena and where each frame's events are.
 * Frames go to the current one; a generation is emptied and reused only when no member has a frame of it left.
 * Why one strided array: the batch reads a frame's fields once per (connection, frame), ~2 M times a second, and
 * each typed array it touches costs its own loads and checks in V8's optimized code.
 */
export class FrameStore {
  /** its bytes: [base, base + cap) of the batch's arena, [base, base + end) used; the offsets in meta are from base */
  base = 0
  cap = 0
  end = 0
  meta = new Int32Array(1024 * FRAME_FIELDS)
  count = 0
  /** (member, frame) pairs queued and not yet written */
  refs = 0

  reset(): void { this.count = 0; this.end = 0 }

  /** Room for one more frame's fields. */
  reserve(): void {
    if ((this.count + 1) * FRAME_FIELDS <= this.meta.length) return
    const m = new Int32Array(this.meta.length * 2); m.set(this.meta); this.meta = m
  }
}

/**
 * The batch's bytes: [0, composeBytes) of the arena is where a connection's frame is composed, the two generations'
 * bytes follow. One memory, so that composing is a copy within it (byte-arena.ts; Buffer.copy between two buffers made
 * a typed array per call). Frames go to the current generation; the other is emptied once no member needs it.
 */
export class FrameGenerations {
  readonly arena: ByteArena
  /** a frame's index is (index in its store << 1) | store */
  readonly stores: readonly [FrameStore, FrameStore] = [new FrameStore(), new FrameStore()]
  private cur = 0
  private curSinceMs = 0

  constructor(private readonly composeBytes: number, storeBytes: number) {
    this.arena = new ByteArena(composeBytes + 2 * storeBytes)
    const [a, b] = this.stores
    a.base = composeBytes; a.cap = storeBytes; b.base = composeBytes + storeBytes; b.cap = storeBytes
  }

  /** Bytes of published frames held (both generations; 0 once nothing waits). */
  get heldBytes(): number { return this.stores[0].end + this.stores[1].end }

  /** Copies `frame` (the caller reuses its buffer) into the current generation, needed by `refs` members; its index. */
  add(frame: Uint8Array, kind: number, refs: number): number {
    const g = this.cur, st = this.stores[g], f = (this.store(st, frame, kind) << 1) | g
    st.refs += refs
    return f
  }

  /** A generation no member still needs is emptied: the other once the current one is an interval old, both when idle. */
  recycle(now: number, intervalMs: number): void {
    const cur = this.stores[this.cur], other = this.stores[this.cur ^ 1]
    if (other.refs !== 0) return
    if (cur.refs === 0) { cur.reset(); other.reset(); this.curSinceMs = now; return }
    if (now - this.curSinceMs >= intervalMs) { other.reset(); this.cur ^= 1; this.curSinceMs = now }
  }

  /** Copies `frame` into generation `st` and finds its events; returns its index in `st`. */
  private store(st: FrameStore, frame: Uint8Array, kind: number): number {
    const len = frame.length
    if (st.end + len > st.cap) this.grow(st, len)
    st.reserve()
    const f = st.count++, buf = this.arena.bytes, s = st.base + st.end, meta = st.meta, at = f * FRAME_FIELDS
    setBytes.call(buf, frame, s)
    meta[at + START] = st.end; st.end += len; meta[at + END] = st.end
    // the events of the frame, without its array opening (and, in JSON, its closing bracket); a frame holds at least one
    let from = s + 1, to = s + len - 1, c = 0
    if (kind === KIND_MSGPACK) {
      const b = buf[s]
      if (b === MSGPACK_ARRAY16) { c = (buf[s + 1] << 8) | buf[s + 2]; from = s + 3 }
      else if (b === MSGPACK_ARRAY32) { c = (buf[s + 1] << 24 >>> 0) + ((buf[s + 2] << 16) | (buf[s + 3] << 8) | buf[s + 4]); from = s + 5 }
      else c = b & 0x0f // fixarray
      to = s + len
    }
    meta[at + INNER] = from - st.base; meta[at + INNER_END] = to - st.base; meta[at + EVENTS_KIND] = Math.min(c, 0xffff) | (kind << 16)
    return f
  }

  /**
   * Generation `st` needs `len` more bytes: the arena grows in place, and the second generation's bytes move up when
   * the first one grows (memory.copy copies overlapping ranges as memmove does).
   */
  private grow(st: FrameStore, len: number): void {
    st.cap = Math.max(st.cap * 2, st.end + len)
    const [a, b] = this.stores, bBase = this.composeBytes + a.cap
    this.arena.ensure(bBase + b.cap)
    if (b.base !== bBase) { this.arena.copy(bBase, b.base, b.base + b.end); b.base = bBase }
  }
}
