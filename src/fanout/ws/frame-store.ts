// Owns one generation of the frame batch's published frames: where each frame's bytes and events are, and how many
// queued (member, frame) pairs still need it. Must never hold bytes itself (the batch's one buffer does) or free itself.

/**
 * One generation of published frames: where its bytes are in the batch's buffer and where each frame's events are.
 * Frames go to the current one; a generation is emptied and reused only when no member has a frame of it left.
 */
export class FrameStore {
  /** its bytes: [base, base + cap) of the batch's buffer, [base, base + end) used; the offsets below are from base */
  base = 0
  cap = 0
  end = 0
  /** per frame: the whole frame [starts, ends), its events [inners, innerEnds) and how many (msgpack), its kind */
  starts = new Int32Array(1024)
  ends = new Int32Array(1024)
  inners = new Int32Array(1024)
  innerEnds = new Int32Array(1024)
  events = new Uint16Array(1024)
  kinds = new Uint8Array(1024)
  count = 0
  /** (member, frame) pairs queued and not yet written */
  refs = 0

  reset(): void { this.count = 0; this.end = 0 }

  growFrames(): void {
    const n = this.kinds.length * 2
    const s = new Int32Array(n); s.set(this.starts); this.starts = s
    const e = new Int32Array(n); e.set(this.ends); this.ends = e
    const k = new Uint8Array(n); k.set(this.kinds); this.kinds = k
    const i = new Int32Array(n); i.set(this.inners); this.inners = i
    const j = new Int32Array(n); j.set(this.innerEnds); this.innerEnds = j
    const c = new Uint16Array(n); c.set(this.events); this.events = c
  }
}
