// Owns the tick ring: power-of-two columns of typed arrays on SharedArrayBuffers, one writer, a cursor.
// Must never block or wait for readers: a feed cannot be slowed, so lapped readers skip and count.
import { bootError } from '../errors.js'

// Event kinds. Everything a client must learn travels through the ring, in order with the data:
export const KIND_QUOTE = 1
export const KIND_TRADE = 2
/** trading status: `code` is the ASCII status byte */
export const KIND_STATUS = 3
/** kinds up to this one are data events (they take a per-symbol sequence number); the rest are markers */
export const LAST_DATA_KIND = KIND_STATUS
/** a symbol appeared: consumers learn its name and exponents from SharedSymbols (symbolSeq 0, no client event) */
export const KIND_SYMBOL = 4
/**
 * The symbol's upstream data may be incomplete from here on (`code` = STALE_* reason, model/staleness.ts);
 * symbolSeq is the symbol's current sequence, not a new one: markers never consume a per-symbol sequence number.
 */
export const KIND_STALE = 5
/** The symbol's state is complete again (after the data event just before it); symbolSeq as for KIND_STALE. */
export const KIND_FRESH = 6
/**
 * The symbol's order book changed state (ITCH only): `code` = PARTIAL_* reason, 0 = synced (model/book-state.ts);
 * symbolSeq as for KIND_STALE. Quotes keep flowing while partial: consumers flag them.
 */
export const KIND_BOOK = 7

/**
 * The writer commits (publishes its cursor to other threads) at least every this many events, even inside one
 * large batch, so a reader on another thread knows how far past the shared cursor slots may be changing.
 */
export const MAX_UNCOMMITTED_EVENTS = 4096

function column<T>(Ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number, from: SharedArrayBuffer[] | null, out: SharedArrayBuffer[]): T {
  const b = from !== null ? from[out.length] : new SharedArrayBuffer(n * Ctor.BYTES_PER_ELEMENT)
  out.push(b)
  return new Ctor(b)
}

/** Float64 columns, symbolSeq … tradeId: F64_SEQ + k × capacity is column k's first slot in TickRing.f64 */
export const F64_COLUMNS = 10
export const F64_SEQ = 0, F64_EXCH = 1, F64_RECV = 2, F64_BID_PX = 3, F64_BID_SZ = 4, F64_ASK_PX = 5, F64_ASK_SZ = 6
export const F64_TRADE_PX = 7, F64_TRADE_SZ = 8, F64_TRADE_ID = 9

// Shared cursor, a seqlock of 32-bit words (Atomics has no Float64; BigInt64 would allocate per read):
// | GEN: odd while the writer updates | LO: cursor+1 mod 2^32 | HI: floor((cursor+1) / 2^32) |
// cursor+1 ≥ 0, so both halves are unsigned; read as hi * 2**32 + lo (exact below 2^53).
const GEN = 0, LO = 1, HI = 2, SHARED_WORDS = 4
const SEQLOCK_TRIES = 64

/** What a fan-out worker needs to map the same ring: postMessage-able (SharedArrayBuffers are shared, not copied). */
export interface RingHandle { capacity: number; columns: SharedArrayBuffer[]; shared: SharedArrayBuffer }

/**
 * One slot per normalized event. Prices and sizes are integer mantissas held in Float64 (exact below
 * 2^53) in the symbol's exponent (SymbolTable.priceExponent / sizeExponent): no binary fractions.
 */
export class TickRing {
  readonly mask: number
  readonly kind: Uint8Array
  /** quote flags, trade aggressor side, or trading-status code (an ASCII byte) */
  readonly code: Uint8Array
  readonly symbolId: Uint32Array
  /** per-symbol sequence: +1 for every event of that symbol, so a client can prove it missed nothing */
  readonly symbolSeq: Float64Array
  /** exchange timestamp, µs since the Unix epoch */
  readonly exchTimeUs: Float64Array
  /** receive time, performance.now() ms of the TCP chunk that carried it (one clock read per chunk) */
  readonly recvTimeMs: Float64Array
  readonly bidPrice: Float64Array
  readonly bidSize: Float64Array
  readonly askPrice: Float64Array
  readonly askSize: Float64Array
  readonly tradePrice: Float64Array
  readonly tradeSize: Float64Array
  readonly tradeId: Float64Array
  /** every Float64 column above, in that order, column k at [k × capacity, (k + 1) × capacity) */
  readonly f64: Float64Array
  /** kind then code: kind at [0, capacity), code at [capacity, 2 × capacity) */
  readonly u8: Uint8Array
  /** last published sequence (global, starts at 0): a plain Number, safe to 2^53, never `| 0` */
  cursor = -1
  /** set once by the consumer that must be woken when the writer commits a batch */
  wake: () => void = noop
  /** the published cursor for other threads (seqlock, see GEN/LO/HI); written once per commit(), not per event */
  readonly shared: Int32Array
  private readonly buffers: SharedArrayBuffer[] = []

  /** `handle`: map another thread's ring (a reader copy: never publish or commit on it). */
  constructor(readonly capacity: number, handle: RingHandle | null = null) {
    if (!Number.isInteger(capacity) || capacity < 2 || (capacity & (capacity - 1)) !== 0 || capacity > 2 ** 26) {
      throw bootError('RING_CAPACITY', `ring capacity must be a power of two in 2..2^26, got ${capacity}`)
    }
    this.mask = capacity - 1
    const from = handle !== null ? handle.columns : null, out = this.buffers
    // kind and code likewise: one array.
    const u = this.u8 = column(Uint8Array, 2 * capacity, from, out)
    this.kind = u.subarray(0, capacity); this.code = u.subarray(capacity, 2 * capacity)
    this.symbolId = column(Uint32Array, capacity, from, out)
    // The Float64 columns are views of one array: a writer that fills a slot touches one typed array for all of them
    // (V8 checks each typed array a loop touches, every iteration: normalize/quote-run.ts).
    const f = this.f64 = column(Float64Array, capacity * F64_COLUMNS, from, out)
    const at = (k: number): Float64Array => f.subarray(k * capacity, (k + 1) * capacity)
    this.symbolSeq = at(0); this.exchTimeUs = at(1); this.recvTimeMs = at(2); this.bidPrice = at(3); this.bidSize = at(4)
    this.askPrice = at(5); this.askSize = at(6); this.tradePrice = at(7); this.tradeSize = at(8); this.tradeId = at(9)
    this.shared = new Int32Array(handle !== null ? handle.shared : new SharedArrayBuffer(SHARED_WORDS * 4))
  }

  /** Columns and shared cursor, for a worker thread: `new TickRing(h.capacity, h)` maps the same memory. */
  handle(): RingHandle { return { capacity: this.capacity, columns: this.buffers.slice(), shared: this.shared.buffer as SharedArrayBuffer } }

  /**
   * Reader side, any thread: the cursor the writer last committed, or NaN when the writer kept the seqlock busy
   * for SEQLOCK_TRIES reads (retry later). Atomics loads are sequentially consistent: every slot written before
   * the commit's GEN store is visible once GEN is read back even.
   */
  loadSharedCursor(): number {
    const w = this.shared
    for (let k = 0; k < SEQLOCK_TRIES; k++) {
      const g = Atomics.load(w, GEN)
      if ((g & 1) !== 0) continue
      const lo = Atomics.load(w, LO) >>> 0, hi = Atomics.load(w, HI) >>> 0
      if (Atomics.load(w, GEN) === g) return hi * 2 ** 32 + lo - 1
    }
    return Number.NaN
  }

  /** The generation word readers may Atomics.waitAsync on (it changes on every commit). */
  sharedGeneration(): number { return Atomics.load(this.shared, GEN) }

  /** Slot index the writer fills next; it becomes visible only after advance(). */
  nextSlot(): number { return (this.cursor + 1) & this.mask }

  /** Makes the slot returned by nextSlot() visible to readers on this thread (others: at the next commit()). */
  advance(): void { this.cursor++ }

  /** End of a writer batch (one TCP chunk): publish the cursor to other threads and wake the consumer, once. */
  commit(): void {
    const w = this.shared, c = this.cursor + 1
    Atomics.add(w, GEN, 1) // odd: readers retry
    Atomics.store(w, LO, c % 2 ** 32 | 0)
    Atomics.store(w, HI, Math.floor(c / 2 ** 32) | 0)
    Atomics.add(w, GEN, 1) // even again
    Atomics.notify(w, GEN) // worker threads parked in Atomics.waitAsync; no waiter: a cheap no-op
    this.wake()
  }
}

function noop(): void {}
