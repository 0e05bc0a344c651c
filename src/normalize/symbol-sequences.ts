// Owns the per-symbol counters every feed's normalizer shares: the per-symbol sequence, and where each symbol last was
// (and, with ingest on its own thread, the latest values lapped readers conflate from: cache/latest-values.ts).
// Must never be written by anything but the normalizers (ingest thread); readers on other threads only compare.

import type { LatestValues } from '../cache/latest-values.js'
import { BOOK_NONE } from '../model/book-state.js'

export interface SymbolSequencesHandle { capacity: number; buffer: SharedArrayBuffer }

/**
 * `next[id]`: the sequence of the symbol's last event (its next event gets +1; 0 = none yet). A symbol may come from
 * several feeds, so the counter is shared. `lastRingSeq[id]`: the ring sequence of the symbol's last event (-1 =
 * none), so a lapped reader can name exactly the symbols whose last events it lost (fanout/dispatcher.ts).
 * `upstreamStale[id]`: the STALE_* reason of the symbol's last stale/fresh marker, so a reader that lost markers in a
 * lap takes the feed's current word instead of one it never heard revoked. `book[id]`: the same for the symbol's last
 * KIND_BOOK marker (a PARTIAL_* reason, BOOK_NONE = no order book).
 */
export class SymbolSequences {
  readonly next: Float64Array
  readonly lastRingSeq: Float64Array
  readonly upstreamStale: Uint8Array
  readonly book: Uint8Array
  /** `next` then `lastRingSeq` as one array (next[id] = both[id], lastRingSeq[id] = both[capacity + id]): the fused
   * quote path (quote-run.ts) touches one typed array instead of two (V8 checks each array it touches per quote) */
  readonly both: Float64Array
  private readonly buffer: SharedArrayBuffer
  /** the writer's latest value per symbol, kept by every normalizer beside the ring slot; null: none kept (one thread) */
  latest: LatestValues | null = null

  constructor(readonly capacity: number, handle: SymbolSequencesHandle | null = null) {
    this.buffer = handle?.buffer ?? new SharedArrayBuffer(capacity * 18)
    this.next = new Float64Array(this.buffer, 0, capacity)
    this.lastRingSeq = new Float64Array(this.buffer, capacity * 8, capacity)
    this.both = new Float64Array(this.buffer, 0, 2 * capacity)
    this.upstreamStale = new Uint8Array(this.buffer, capacity * 16, capacity)
    this.book = new Uint8Array(this.buffer, capacity * 17, capacity)
    if (handle === null) { this.lastRingSeq.fill(-1); this.book.fill(BOOK_NONE) }
  }

  handle(): SymbolSequencesHandle { return { capacity: this.capacity, buffer: this.buffer } }
}
