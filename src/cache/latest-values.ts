// Owns the writer's latest value per symbol (quote, trade, status, trade count) in shared memory, for lapped readers.
// Must never be written but by the normalizers (ingest thread), nor read without the per-symbol version check.
import type { LastValueCache } from './last-value-cache.js'

/** What another thread needs to map the same store: postMessage-able (SharedArrayBuffers are shared, not copied). */
export interface LatestValuesHandle { capacity: number; buffer: SharedArrayBuffer }

/** A reader gives up on a symbol the writer kept busy for this many reads (it falls back to a lapped marker). */
const READ_TRIES = 64

// One record per symbol, STRIDE Float64 words (192 bytes: three cache lines), so a quote touches one line:
// line 0 | ver:i32 qFlags:i32 | seq | quoteSeq | quoteTimeUs | bidPrice | bidSize | askPrice | askSize |
// line 1 | tradeSeq | tradeTimeUs | tradePrice | tradeSize | tradeId | tradeSide | trades | statusSeq |
// line 2 | statusTimeUs | status | (free) …
// The two Int32 words of word 0 are read through an Int32Array view (Atomics needs one): index 2 × record base.
// (module-private consts: V8 folds them to immediates on the writer's per-tick path)
const STRIDE = 24
const SEQ = 1, Q_SEQ = 2, Q_TIME = 3, BP = 4, BS = 5, AP = 6, AS = 7
const T_SEQ = 8, T_TIME = 9, TP = 10, TS = 11, TID = 12, SIDE = 13, TRADES = 14, S_SEQ = 15, S_TIME = 16, ST = 17
// Int32 words of word 0: at 2 × record base the seqlock version (odd = being written), then the quote flags

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
  /** the records, STRIDE words per symbol id */
  readonly f: Float64Array
  /** the same memory as Int32 words: version and quote flags at 2 × record base (+ 1) */
  readonly i32: Int32Array
  private readonly buffer: SharedArrayBuffer

  constructor(readonly capacity: number, handle: LatestValuesHandle | null = null) {
    this.buffer = handle?.buffer ?? new SharedArrayBuffer(capacity * STRIDE * 8)
    this.f = new Float64Array(this.buffer)
    this.i32 = new Int32Array(this.buffer)
  }

  handle(): LatestValuesHandle { return { capacity: this.capacity, buffer: this.buffer } }

  // Writer side (the normalizer, where it fills the ring slot): one record, inside the symbol's seqlock (odd: writing).
  quote(id: number, n: number, timeUs: number, flags: number, bp: number, bs: number, ap: number, as: number): void {
    const f = this.f, w = this.i32, b = id * STRIDE, vi = 2 * b, v = w[vi] + 1
    w[vi] = v
    f[b + SEQ] = n; f[b + Q_SEQ] = n; f[b + Q_TIME] = timeUs; w[vi + 1] = flags
    f[b + BP] = bp; f[b + BS] = bs; f[b + AP] = ap; f[b + AS] = as
    w[vi] = v + 1
  }

  trade(id: number, n: number, timeUs: number, side: number, price: number, size: number, tradeId: number): void {
    const f = this.f, w = this.i32, b = id * STRIDE, vi = 2 * b, v = w[vi] + 1
    w[vi] = v
    f[b + SEQ] = n; f[b + T_SEQ] = n; f[b + T_TIME] = timeUs; f[b + SIDE] = side
    f[b + TP] = price; f[b + TS] = size; f[b + TID] = tradeId; f[b + TRADES]++
    w[vi] = v + 1
  }

  status(id: number, n: number, timeUs: number, code: number): void {
    const f = this.f, w = this.i32, b = id * STRIDE, vi = 2 * b, v = w[vi] + 1
    w[vi] = v
    f[b + SEQ] = n; f[b + S_SEQ] = n; f[b + S_TIME] = timeUs; f[b + ST] = code
    w[vi] = v + 1
  }

  /** The symbol's last sequence as the writer left it (0 = none): a quick filter before readInto. */
  seqOf(id: number): number { return this.f[id * STRIDE + SEQ] }

  /**
   * Reader side, any thread: copies symbol `id`'s latest values into `lvc` (the data fields a snapshot shows, its
   * sequence and trade count). False when the writer kept the symbol busy: nothing is copied.
   */
  readInto(id: number, lvc: LastValueCache): boolean {
    const f = this.f, i32 = this.i32, b = id * STRIDE, v32 = 2 * b
    for (let k = 0; k < READ_TRIES; k++) {
      const v = Atomics.load(i32, v32)
      if ((v & 1) !== 0) continue
      const seq = f[b + SEQ], qs = f[b + Q_SEQ], qt = f[b + Q_TIME], qf = i32[v32 + 1]
      const bp = f[b + BP], bs = f[b + BS], ap = f[b + AP], as = f[b + AS]
      const ts = f[b + T_SEQ], tt = f[b + T_TIME], tp = f[b + TP], tq = f[b + TS], ti = f[b + TID], side = f[b + SIDE]
      const ss = f[b + S_SEQ], st = f[b + S_TIME], status = f[b + ST], trades = f[b + TRADES]
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
