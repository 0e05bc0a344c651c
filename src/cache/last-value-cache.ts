// Owns the latest quote, trade and status per symbol as the fan-out has published them, with their sequences.
// Must never be written by ingest: it is a ring consumer, so a snapshot never runs ahead of the published updates.
import { STALE_LAPPED, STALE_NONE } from '../model/staleness.js'
import { BOOK_NONE } from '../model/book-state.js'
import { KIND_BOOK, KIND_FRESH, KIND_QUOTE, KIND_STALE, KIND_STATUS, KIND_TRADE } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'

/** Struct-of-arrays indexed by symbol id; NaN marks "never seen". */
export class LastValueCache {
  /** per-symbol sequence of the last event applied (0 = nothing yet) */
  readonly seq: Float64Array
  readonly quoteSeq: Float64Array
  readonly quoteTimeUs: Float64Array
  readonly quoteFlags: Uint8Array
  readonly bidPrice: Float64Array
  readonly bidSize: Float64Array
  readonly askPrice: Float64Array
  readonly askSize: Float64Array
  readonly tradeSeq: Float64Array
  readonly tradeTimeUs: Float64Array
  readonly tradePrice: Float64Array
  readonly tradeSize: Float64Array
  readonly tradeId: Float64Array
  readonly tradeSide: Uint8Array
  readonly statusSeq: Float64Array
  readonly statusTimeUs: Float64Array
  /** ASCII status code, 0 = unknown */
  readonly status: Uint8Array
  /** STALE_* reason the feed declared (KIND_STALE / KIND_FRESH markers), 0 = fresh */
  readonly upstreamStale: Uint8Array
  /** the order book's last KIND_BOOK code (PARTIAL_* reason, 0 = synced); BOOK_NONE = not an order-book symbol */
  readonly book: Uint8Array
  /** 1 while this consumer lost events of the symbol (lapped) and has not applied a quote since */
  readonly lapped: Uint8Array
  /** trades applied (or taken over by a conflation): the writer's count minus this = trades a conflation skips */
  readonly trades: Float64Array

  constructor(readonly capacity: number) {
    this.seq = new Float64Array(capacity)
    this.quoteSeq = new Float64Array(capacity)
    this.quoteTimeUs = new Float64Array(capacity).fill(Number.NaN)
    this.quoteFlags = new Uint8Array(capacity)
    this.bidPrice = new Float64Array(capacity)
    this.bidSize = new Float64Array(capacity)
    this.askPrice = new Float64Array(capacity)
    this.askSize = new Float64Array(capacity)
    this.tradeSeq = new Float64Array(capacity)
    this.tradeTimeUs = new Float64Array(capacity).fill(Number.NaN)
    this.tradePrice = new Float64Array(capacity)
    this.tradeSize = new Float64Array(capacity)
    this.tradeId = new Float64Array(capacity)
    this.tradeSide = new Uint8Array(capacity)
    this.statusSeq = new Float64Array(capacity)
    this.statusTimeUs = new Float64Array(capacity).fill(Number.NaN)
    this.status = new Uint8Array(capacity)
    this.upstreamStale = new Uint8Array(capacity)
    this.lapped = new Uint8Array(capacity)
    this.trades = new Float64Array(capacity)
    this.book = new Uint8Array(capacity).fill(BOOK_NONE)
  }

  /** What clients are told: lapped here wins (nothing upstream can repair it), else the feed's word; 0 = fresh. */
  staleReason(id: number): number { return this.lapped[id] !== 0 ? STALE_LAPPED : this.upstreamStale[id] }

  hasQuote(id: number): boolean { return this.quoteSeq[id] > 0 }
  hasTrade(id: number): boolean { return this.tradeSeq[id] > 0 }

  /** Applies ring slot `i`; returns its symbol id. */
  apply(r: TickRing, i: number): number {
    const id = r.symbolId[i], n = r.symbolSeq[i]
    this.seq[id] = n
    switch (r.kind[i]) {
      case KIND_QUOTE:
        this.quoteSeq[id] = n; this.quoteTimeUs[id] = r.exchTimeUs[i]; this.quoteFlags[id] = r.code[i]
        this.bidPrice[id] = r.bidPrice[i]; this.bidSize[id] = r.bidSize[i]
        this.askPrice[id] = r.askPrice[i]; this.askSize[id] = r.askSize[i]
        break
      case KIND_TRADE:
        this.tradeSeq[id] = n; this.tradeTimeUs[id] = r.exchTimeUs[i]; this.tradeSide[id] = r.code[i]
        this.tradePrice[id] = r.tradePrice[i]; this.tradeSize[id] = r.tradeSize[i]; this.tradeId[id] = r.tradeId[i]
        this.trades[id]++
        break
      case KIND_STATUS:
        this.statusSeq[id] = n; this.statusTimeUs[id] = r.exchTimeUs[i]; this.status[id] = r.code[i]
        break
      case KIND_STALE: this.upstreamStale[id] = r.code[i]; break
      case KIND_FRESH: this.upstreamStale[id] = STALE_NONE; break
      case KIND_BOOK: this.book[id] = r.code[i]; break
    }
    return id
  }
}
