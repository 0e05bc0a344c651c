// Owns the writer's latest value per symbol (quote, trade, status, trade count) in shared memory, for lapped readers.
// Must never be written but by the normalizers (ingest thread), nor read without the per-symbol version check.
import type { LastValueCache } from './last-value-cache.js'

/** What another thread needs to map the same store: postMessage-able (SharedArrayBuffers are shared, not copied). */
export interface LatestValuesHandle { capacity: number; f64: SharedArrayBuffer; u8: SharedArrayBuffer; ver: SharedArrayBuffer }

/** A reader gives up on a symbol the writer kept busy for this many reads (it falls back to a lapped marker). */
const READ_TRIES = 64

// Float64 columns, in this order, `capacity` each:
const F_SEQ = 0, F_QUOTE_SEQ = 1, F_QUOTE_TIME = 2, F_BP = 3, F_BS = 4, F_AP = 5, F_AS = 6, F_TRADE_SEQ = 7,
  F_TRADE_TIME = 8, F_TP = 9, F_TS = 10, F_TID = 11, F_STATUS_SEQ = 12, F_STATUS_TIME = 13, F_TRADES = 14, F_COLUMNS = 15
// Uint8 columns:
const U_QUOTE_FLAGS = 0, U_TRADE_SIDE = 1, U_STATUS = 2, U_COLUMNS = 3

/**
 * Why it exists: a fan-out reader that the writer laps (issue 12: the feed is never held back) resumes at the ring head
 * with the latest value of each symbol instead of the events it lost (conflation). The normalizer writes these columns
 * in the same place it fills the ring slot (one more store of the same fields, no second pass: bench:ingest).
 *
 * Consistency per symbol is a seqlock: `ver[id]` is odd while the writer updates the symbol. The writer's plain stores
 * are kept in program order by V8 and by x86-64 (TSO; the ingest thread runs only there, like the ring mirror); the
 * reader checks the version with Atomics.load before and after copying, so a torn copy is retried.
 */
export class LatestValues {
  readonly seq: Float64Array
  readonly quoteSeq: Float64Array
  readonly quoteTimeUs: Float64Array
  readonly bidPrice: Float64Array
  readonly bidSize: Float64Array
  readonly askPrice: Float64Array
  readonly askSize: Float64Array
  readonly tradeSeq: Float64Array
  readonly tradeTimeUs: Float64Array
  readonly tradePrice: Float64Array
  readonly tradeSize: Float64Array
  readonly tradeId: Float64Array
  readonly statusSeq: Float64Array
  readonly statusTimeUs: Float64Array
  /** trades written so far per symbol: a reader's own count subtracted from it is the trades a conflation skipped */
  readonly trades: Float64Array
  readonly quoteFlags: Uint8Array
  readonly tradeSide: Uint8Array
  readonly status: Uint8Array
  /** per-symbol seqlock word (odd = being written) */
  readonly ver: Int32Array
  private readonly buffers: { f64: SharedArrayBuffer; u8: SharedArrayBuffer; ver: SharedArrayBuffer }

  constructor(readonly capacity: number, handle: LatestValuesHandle | null = null) {
    const f64 = handle?.f64 ?? new SharedArrayBuffer(capacity * 8 * F_COLUMNS)
    const u8 = handle?.u8 ?? new SharedArrayBuffer(capacity * U_COLUMNS)
    const ver = handle?.ver ?? new SharedArrayBuffer(capacity * 4)
    this.buffers = { f64, u8, ver }
    const f = (k: number): Float64Array => new Float64Array(f64, k * capacity * 8, capacity)
    const u = (k: number): Uint8Array => new Uint8Array(u8, k * capacity, capacity)
    this.seq = f(F_SEQ); this.quoteSeq = f(F_QUOTE_SEQ); this.quoteTimeUs = f(F_QUOTE_TIME)
    this.bidPrice = f(F_BP); this.bidSize = f(F_BS); this.askPrice = f(F_AP); this.askSize = f(F_AS)
    this.tradeSeq = f(F_TRADE_SEQ); this.tradeTimeUs = f(F_TRADE_TIME); this.tradePrice = f(F_TP); this.tradeSize = f(F_TS); this.tradeId = f(F_TID)
    this.statusSeq = f(F_STATUS_SEQ); this.statusTimeUs = f(F_STATUS_TIME); this.trades = f(F_TRADES)
    this.quoteFlags = u(U_QUOTE_FLAGS); this.tradeSide = u(U_TRADE_SIDE); this.status = u(U_STATUS)
    this.ver = new Int32Array(ver)
  }

  handle(): LatestValuesHandle { return { capacity: this.capacity, ...this.buffers } }

  /**
   * Reader side, any thread: copies symbol `id`'s latest values into `lvc` (the data fields a snapshot shows, its
   * sequence and trade count). False when the writer kept the symbol busy: nothing is copied.
   */
  readInto(id: number, lvc: LastValueCache): boolean {
    const ver = this.ver
    for (let k = 0; k < READ_TRIES; k++) {
      const v = Atomics.load(ver, id)
      if ((v & 1) !== 0) continue
      const seq = this.seq[id], qs = this.quoteSeq[id], qt = this.quoteTimeUs[id], qf = this.quoteFlags[id]
      const bp = this.bidPrice[id], bs = this.bidSize[id], ap = this.askPrice[id], as = this.askSize[id]
      const ts = this.tradeSeq[id], tt = this.tradeTimeUs[id], tp = this.tradePrice[id], tq = this.tradeSize[id], ti = this.tradeId[id], side = this.tradeSide[id]
      const ss = this.statusSeq[id], st = this.statusTimeUs[id], status = this.status[id], trades = this.trades[id]
      if (Atomics.load(ver, id) !== v) continue
      lvc.seq[id] = seq
      if (qs > 0) { lvc.quoteSeq[id] = qs; lvc.quoteTimeUs[id] = qt; lvc.quoteFlags[id] = qf; lvc.bidPrice[id] = bp; lvc.bidSize[id] = bs; lvc.askPrice[id] = ap; lvc.askSize[id] = as }
      if (ts > 0) { lvc.tradeSeq[id] = ts; lvc.tradeTimeUs[id] = tt; lvc.tradePrice[id] = tp; lvc.tradeSize[id] = tq; lvc.tradeId[id] = ti; lvc.tradeSide[id] = side }
      if (ss > 0) { lvc.statusSeq[id] = ss; lvc.statusTimeUs[id] = st; lvc.status[id] = status }
      lvc.trades[id] = trades
      return true
    }
    return false
  }
}
