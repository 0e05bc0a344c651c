// Owns the tick ring: power-of-two columns of typed arrays on SharedArrayBuffers, one writer, a cursor.
// Must never block or wait for readers: a feed cannot be slowed, so lapped readers skip and count.
import { bootError } from '../errors.js'

export const KIND_QUOTE = 1
export const KIND_TRADE = 2
export const KIND_STATUS = 3

function column<T>(Ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number): T {
  return new Ctor(new SharedArrayBuffer(n * Ctor.BYTES_PER_ELEMENT))
}

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
  /** last published sequence (global, starts at 0): a plain Number, safe to 2^53, never `| 0` */
  cursor = -1
  /** set once by the consumer that must be woken when the writer commits a batch */
  wake: () => void = noop

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2 || (capacity & (capacity - 1)) !== 0 || capacity > 2 ** 26) {
      throw bootError('RING_CAPACITY', `ring capacity must be a power of two in 2..2^26, got ${capacity}`)
    }
    this.mask = capacity - 1
    this.kind = column(Uint8Array, capacity)
    this.code = column(Uint8Array, capacity)
    this.symbolId = column(Uint32Array, capacity)
    this.symbolSeq = column(Float64Array, capacity)
    this.exchTimeUs = column(Float64Array, capacity)
    this.recvTimeMs = column(Float64Array, capacity)
    this.bidPrice = column(Float64Array, capacity)
    this.bidSize = column(Float64Array, capacity)
    this.askPrice = column(Float64Array, capacity)
    this.askSize = column(Float64Array, capacity)
    this.tradePrice = column(Float64Array, capacity)
    this.tradeSize = column(Float64Array, capacity)
    this.tradeId = column(Float64Array, capacity)
  }

  /** Slot index the writer fills next; it becomes visible only after publish(). */
  nextSlot(): number { return (this.cursor + 1) & this.mask }

  /** Makes the slot returned by nextSlot() visible to readers. */
  publish(): void { this.cursor++ }

  /** End of a writer batch (one TCP chunk): wake the consumer once, not per tick. */
  commit(): void { this.wake() }
}

function noop(): void {}
