// Owns a reader's private copy of the shared ring (a fan-out worker's, or one drain's worth on the main thread when
// ingest has its own thread): copies committed slots, validates them, publishes locally.
// Must never write to the shared ring or wait on the writer: a torn or lapped copy is retried or counted, never waited out.
import { MAX_UNCOMMITTED_EVENTS } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'

export class MirrorStats {
  /** pumps that copied something */
  copies = 0
  /** copies discarded because the writer reached their slots while they were read (retried next pump) */
  torn = 0
}

type Column = Uint8Array | Uint32Array | Float64Array

/**
 * Why a copy rather than reading the shared slots in place: the dispatcher reads a slot twice (cache apply, then
 * encode) and a writer on another thread may overwrite it in between. A copy is checked once, after the fact, like a
 * seqlock: if the writer's cursor stayed far enough behind `from + capacity`, no copied slot can have been rewritten.
 * (On x86, loads are not reordered with later loads, so the check's Atomics.load sees every write the copy saw.)
 */
export interface MirrorOptions {
  /**
   * The highest sequence the local ring may take now (default: no limit). A local ring smaller than the shared one
   * (one drain's worth) is filled only as far as its consumer has read: consumer position + local capacity.
   */
  limit?: () => number
  /** lapped: skip straight to the writer's head (the consumer conflates from the latest values) instead of half a ring back */
  skipToHead?: boolean
}

export class RingMirror {
  readonly stats = new MirrorStats()
  private readonly src: Column[]
  private readonly dst: Column[]
  /** at most half the ring per pump: the copy is then much faster than the writer can lap it */
  private readonly window: number
  private readonly limit: (() => number) | null
  private readonly skipToHead: boolean

  constructor(
    private readonly shared: TickRing,
    /** this thread's ring: same capacity; its cursor is what the local dispatcher drains */
    readonly local: TickRing,
    /** events up to `seq` were not copied in time: the local dispatcher counts them as lapped */
    private readonly skipTo: (seq: number) => void,
    /** how far past its last shared cursor the writer may be writing (the normalizer's commit guarantee) */
    private readonly uncommittedBound = MAX_UNCOMMITTED_EVENTS,
    opts: MirrorOptions = {},
  ) {
    if (local.capacity > shared.capacity) throw new Error('ring mirror: the local ring is larger than the shared one')
    this.limit = opts.limit ?? null
    this.skipToHead = opts.skipToHead === true
    const cols = (r: TickRing): Column[] => [r.kind, r.code, r.symbolId, r.symbolSeq, r.exchTimeUs, r.recvTimeMs, r.bidPrice,
      r.bidSize, r.askPrice, r.askSize, r.tradePrice, r.tradeSize, r.tradeId]
    this.src = cols(shared)
    this.dst = cols(local)
    this.window = shared.capacity >>> 1
  }

  /**
   * Copies what the writer committed since the last pump; returns true when another pump is due soon (a torn copy, or
   * a limited one: the rest once the consumer has read).
   */
  pump(): boolean {
    const cur = this.shared.loadSharedCursor()
    const local = this.local
    if (!(cur > local.cursor)) return false // NaN (seqlock busy) compares false too
    let from = local.cursor + 1
    if (cur - from + 1 > this.window) {
      if (this.skipToHead) { local.cursor = cur; this.skipTo(cur); return false }
      from = cur - this.window + 1
      local.cursor = from - 1
      this.skipTo(from - 1)
    }
    const to = this.limit !== null ? Math.min(cur, this.limit()) : cur
    if (to < from) return true
    this.copy(from, to)
    // The writer may be filling any slot up to uncommittedBound past the cursor it last shared (the normalizer
    // commits at least that often), i.e. the slots of seqs up to after + uncommittedBound - capacity.
    const after = this.shared.loadSharedCursor()
    if (!(after + this.uncommittedBound - this.shared.capacity < from)) { this.stats.torn++; return true }
    this.stats.copies++
    local.cursor = to
    local.commit()
    return to < cur
  }

  /**
   * [from, to] in contiguous ranges (at most two per ring that wraps: the local ring may be smaller than the shared
   * one), column by column: memcpy speed.
   */
  private copy(from: number, to: number): void {
    const sm = this.shared.mask, sc = this.shared.capacity, lm = this.local.mask, lc = this.local.capacity
    for (let seq = from; seq <= to;) {
      const a = seq & sm, b = seq & lm, n = Math.min(to - seq + 1, sc - a, lc - b)
      for (let c = 0; c < this.src.length; c++) this.dst[c].set(this.src[c].subarray(a, a + n), b)
      seq += n
    }
  }
}
