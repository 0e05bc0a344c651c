// Owns the writer's latest value per symbol (quote, trade, status, trade count) in shared memory, for lapped readers.
// Must never be written but by the normalizers (ingest thread), nor read without the per-symbol version check.
import type { LastValueCache } from './last-value-cache.js'

/** What another thread needs to map the same store: postMessage-able (SharedArrayBuffers are shared, not copied). */
export interface LatestValuesHandle { capacity: number; buffer: SharedArrayBuffer }

/** A reader gives up on a symbol the writer kept busy for this many reads (it falls back to a lapped marker). */
const READ_TRIES = 64

// One record per symbol, LV_STRIDE Float64 words (192 bytes: three cache lines), so a quote touches one line:
// line 0 | ver:i32 qFlags:i32 | seq | quoteSeq | quoteTimeUs | bidPrice | bidSize | askPrice | askSize |
// line 1 | tradeSeq | tradeTimeUs | tradePrice | tradeSize | tradeId | tradeSide | trades | statusSeq |
// line 2 | statusTimeUs | status | (free) …
// The two Int32 words of word 0 are read through an Int32Array view (Atomics needs one): index 2 × record base.
export const LV_STRIDE = 24
export const LV_SEQ = 1, LV_QUOTE_SEQ = 2, LV_QUOTE_TIME = 3, LV_BP = 4, LV_BS = 5, LV_AP = 6, LV_AS = 7
export const LV_TRADE_SEQ = 8, LV_TRADE_TIME = 9, LV_TP = 10, LV_TS = 11, LV_TID = 12, LV_SIDE = 13, LV_TRADES = 14, LV_STATUS_SEQ = 15
export const LV_STATUS_TIME = 16, LV_STATUS = 17
/** Int32 index offsets inside word 0: the seqlock version (odd = being written) and the quote flags */
export const LV_VER32 = 0, LV_FLAGS32 = 1

/**
 * Why it exists: a fan-out reader that the writer laps (issue 12: the feed is never held back) resumes at the ring head
 * with the latest value of each symbol instead of the events it lost (conflation). The normalizer writes a record in
 * the same place it fills the ring slot (one more store of the same fields, no second pass: bench:ingest).
 *
 * Consistency per symbol is a seqlock: the version word is odd while the writer updates the record. The writer's
 * plain stores are kept in program order by V8 and by x86-64 (TSO; the ingest thread runs only there, like the ring
 * mirror); the reader checks the version with Atomics.load before and after copying, so a torn copy is retried.
 */
export class LatestValues {
  /** the records, LV_STRIDE words per symbol id */
  readonly f: Float64Array
  /** the same memory as Int32 words: version and quote flags at 2 × record base + LV_VER32 / LV_FLAGS32 */
  readonly i32: Int32Array
  private readonly buffer: SharedArrayBuffer

  constructor(readonly capacity: number, handle: LatestValuesHandle | null = null) {
    this.buffer = handle?.buffer ?? new SharedArrayBuffer(capacity * LV_STRIDE * 8)
    this.f = new Float64Array(this.buffer)
    this.i32 = new Int32Array(this.buffer)
  }

  handle(): LatestValuesHandle { return { capacity: this.capacity, buffer: this.buffer } }

  /** The symbol's last sequence as the writer left it (0 = none): a quick filter before readInto. */
  seqOf(id: number): number { return this.f[id * LV_STRIDE + LV_SEQ] }

  /**
   * Reader side, any thread: copies symbol `id`'s latest values into `lvc` (the data fields a snapshot shows, its
   * sequence and trade count). False when the writer kept the symbol busy: nothing is copied.
   */
  readInto(id: number, lvc: LastValueCache): boolean {
    const f = this.f, i32 = this.i32, b = id * LV_STRIDE, v32 = 2 * b + LV_VER32
    for (let k = 0; k < READ_TRIES; k++) {
      const v = Atomics.load(i32, v32)
      if ((v & 1) !== 0) continue
      const seq = f[b + LV_SEQ], qs = f[b + LV_QUOTE_SEQ], qt = f[b + LV_QUOTE_TIME], qf = i32[2 * b + LV_FLAGS32]
      const bp = f[b + LV_BP], bs = f[b + LV_BS], ap = f[b + LV_AP], as = f[b + LV_AS]
      const ts = f[b + LV_TRADE_SEQ], tt = f[b + LV_TRADE_TIME], tp = f[b + LV_TP], tq = f[b + LV_TS], ti = f[b + LV_TID], side = f[b + LV_SIDE]
      const ss = f[b + LV_STATUS_SEQ], st = f[b + LV_STATUS_TIME], status = f[b + LV_STATUS], trades = f[b + LV_TRADES]
      if (Atomics.load(i32, v32) !== v) continue
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
