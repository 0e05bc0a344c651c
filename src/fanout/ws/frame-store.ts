// Owns one generation of the frame batch's published frames: where each frame's bytes and events are, and how many
// queued (member, frame) pairs still need it. Must never hold bytes itself (the batch's arena does) or free itself.

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
