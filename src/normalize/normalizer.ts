// Owns venue → canonical mapping for one feed: locate codes to symbol ids, exponents, per-symbol seq, and the feed's
// word on each symbol's completeness (stale / fresh markers). Must never be bypassed: it is the only writer of the
// ring, and it never allocates per tick.
import { DECODE_BAD_VALUE, DECODE_OK, DECODE_UNKNOWN_SYMBOL } from '../errors.js'
import type { DecodeStatus } from '../errors.js'
import { NO_SYMBOL } from '../model/shared-symbols.js'
import type { SharedSymbols } from '../model/shared-symbols.js'
import { STALE_FEED_DOWN, STALE_FEED_GAP, STALE_NONE } from '../model/staleness.js'
import { KIND_BOOK, KIND_FRESH, KIND_QUOTE, KIND_STALE, KIND_STATUS, KIND_SYMBOL, KIND_TRADE, MAX_UNCOMMITTED_EVENTS } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'
import { LocateMap, MAX_EXPONENT_SHIFT, exact } from './locate-map.js'
import { SymbolOwnership } from './symbol-ownership.js'
import type { OwnershipOptions } from './symbol-ownership.js'
import type { QuoteRun } from './quote-run.js'
import type { SymbolSequences } from './symbol-sequences.js'
import type { TickSink } from './tick-sink.js'
export { SymbolSequences } from './symbol-sequences.js'

// Private twins of the imported constants the per-tick paths use: V8 re-reads an imported binding from its module cell
// (with a TDZ hole check) at every use in optimized code, where a private const folds to an immediate (bench:ingest).
const NONE = NO_SYMBOL, OK = DECODE_OK, UNKNOWN = DECODE_UNKNOWN_SYMBOL, BAD_VALUE = DECODE_BAD_VALUE
const QUOTE = KIND_QUOTE, TRADE = KIND_TRADE, STATUS = KIND_STATUS, COMMIT_EVERY = MAX_UNCOMMITTED_EVENTS
/** why this feed holds a symbol stale; a symbol can be both (reported as the gap: it outlasts the outage) */
const GAP_BIT = 1, DOWN_BIT = 2

export interface NormalizerOptions {
  /** True when every quote carries the symbol's whole top of book (native, IEX TOPS): after a feed gap its next quote
   * makes it fresh again. False for ITCH: its quotes come from a book the gap may have damaged (stale until known good). */
  quotesAreFullState: boolean
  /** which feed this is among the configured ones, for symbol ownership and quotas (absent: no checks) */
  ownership?: OwnershipOptions
}

export class Normalizer implements TickSink {
  /** locate → symbol id and exponent scaling (sized to the symbol capacity, at least ITCH's 65,536 locates) */
  private readonly locs: LocateMap
  private recvTimeMs = 0; private pending = 0; private inBatch = false
  /** symbol ids this feed has mapped, each once: the symbols a feed-wide gap or outage concerns */
  private readonly feedSymbols: number[] = []
  private readonly mapped: Uint8Array
  /** per symbol id: GAP_BIT | DOWN_BIT as this feed declared them; staleCount = ids with any bit set */
  private readonly staleBits: Uint8Array
  private staleCount = 0
  private down = false
  private readonly quotesAreFullState: boolean
  private readonly ownership: SymbolOwnership

  constructor(
    private readonly ring: TickRing,
    private readonly symbols: SharedSymbols,
    private readonly seqs: SymbolSequences,
    opts: NormalizerOptions = { quotesAreFullState: true },
  ) {
    this.mapped = new Uint8Array(symbols.capacity); this.staleBits = new Uint8Array(symbols.capacity)
    this.quotesAreFullState = opts.quotesAreFullState
    this.locs = new LocateMap(Math.max(symbols.capacity, 65536))
    this.ownership = new SymbolOwnership(symbols, opts.ownership ?? { index: 0, claims: [], refusals: new Float64Array(4) })
  }

  /** One clock read per TCP chunk: every tick of the chunk carries it. */
  beginBatch(recvTimeMs: number): void { this.recvTimeMs = recvTimeMs; this.inBatch = true }

  /** Publishes the chunk's ticks to consumers with one wake-up. */
  endBatch(): void {
    this.inBatch = false
    if (this.pending > 0) { this.pending = 0; this.ring.commit() }
  }

  /**
   * The feed lost messages nothing could fill: every symbol it carries is marked stale (feed_gap) in the ring, after
   * every event already written and before any written after, so each consumer learns it in order.
   */
  feedGap(): void {
    for (const id of this.feedSymbols) this.setBits(id, GAP_BIT)
    this.commitIfIdle()
  }

  /** The feed went down or silent: its symbols are stale (feed_down) until feedUp(). Idempotent. */
  feedDown(): void {
    if (this.down) return
    this.down = true
    for (const id of this.feedSymbols) this.setBits(id, DOWN_BIT)
    this.commitIfIdle()
  }

  /** True between feedDown() and feedUp(). */
  get isDown(): boolean { return this.down }

  /**
   * The feed is live again and resumed where it left off (SoupBinTCP replays what it missed): fresh, unless a gap.
   * Called by the feed when it hears heartbeats again, and by the normalizer itself on the first event after an outage
   * (an event proves the feed is up, and the markers must come before it).
   */
  feedUp(): void {
    if (!this.down) return
    this.down = false
    if (this.staleCount > 0) for (const id of this.feedSymbols) this.clearBits(id, DOWN_BIT)
    this.commitIfIdle()
  }

  /**
   * A snapshot (GLIMPSE) of a feed whose quotes are whole tops of book was applied: every symbol it carries is complete
   * as of the sequence the live session resumes at, so a gap's stale marker is lifted, also on symbols the snapshot
   * held no quote for (their quote would have lifted it). ITCH books say it per book instead (bookState).
   */
  snapshotApplied(): void {
    if (this.staleCount > 0) for (const id of this.feedSymbols) this.clearBits(id, GAP_BIT)
    this.commitIfIdle()
  }

  /**
   * The decoder's word on an order book (ITCH): `reason` PARTIAL_* (0 = synced) as a KIND_BOOK marker, once per change.
   * A book synced again (a snapshot rebuilt it) is complete again: a gap's stale marker on it is lifted.
   */
  bookState(locate: number, reason: number): void {
    const ids = this.locs.ids, id = locate < ids.length ? ids[locate] : NO_SYMBOL
    if (id === NO_SYMBOL || this.seqs.book[id] === reason) return
    this.seqs.book[id] = reason
    this.marker(KIND_BOOK, id, reason)
    if (reason === 0 && (this.staleBits[id] & GAP_BIT) !== 0) this.clearBits(id, GAP_BIT)
    this.commitIfIdle()
  }

  defineSymbol(locate: number, name: string, priceExponent: number, sizeExponent: number): DecodeStatus {
    // Per-locate tables grow to the largest locate: bounded by the symbol capacity (or ITCH's u16), never by what a feed
    // claims (a locate of 16,777,215 would cost ~600 MiB per feed).
    const m = this.locs
    if (!Number.isInteger(locate) || locate < 0 || locate >= m.max) return DECODE_BAD_VALUE
    // A redefinition replaces the entry; a refused one unmaps the locate, so its later quotes are counted as
    // unknown instead of being published under the symbol it used to mean.
    m.unmap(locate)
    const id = this.addSymbol(name, priceExponent, sizeExponent)
    if (id === NO_SYMBOL) return DECODE_UNKNOWN_SYMBOL
    const dp = priceExponent - this.symbols.priceExponent[id]
    const ds = sizeExponent - this.symbols.sizeExponent[id]
    if (Math.abs(dp) > MAX_EXPONENT_SHIFT || Math.abs(ds) > MAX_EXPONENT_SHIFT) return DECODE_BAD_VALUE
    m.map(locate, id, dp, ds)
    if (this.mapped[id] === 0) { this.mapped[id] = 1; this.feedSymbols.push(id) }
    return DECODE_OK
  }

  locateOf(name: string, priceExponent: number, sizeExponent: number): number {
    // Feeds without a directory use the symbol id itself as their locate code. The symbol may already exist
    // (another feed defined it): it must still be mapped in THIS normalizer, with this feed's exponents.
    const id = this.addSymbol(name, priceExponent, sizeExponent)
    if (id === NO_SYMBOL) return NO_SYMBOL
    const ids = this.locs.ids
    if (id < ids.length && ids[id] === id) return id
    return this.defineSymbol(id, name, priceExponent, sizeExponent) === DECODE_OK ? id : NO_SYMBOL
  }

  quote(locate: number, exchTimeUs: number, bidPrice: number, bidSize: number, askPrice: number, askSize: number, flags: number): DecodeStatus {
    const m = this.locs, ids = m.ids, id = locate < ids.length ? ids[locate] : NONE
    if (id === NONE) return UNKNOWN
    // Rare paths live out of line so quote() stays small enough for V8 to inline into the decoders (bench:ingest:
    // with them inline it was not, at −9 % events per CPU-second).
    if (m.rescaled[locate] !== 0) return this.quoteRescaled(locate, id, exchTimeUs, bidPrice, bidSize, askPrice, askSize, flags)
    return this.writeQuote(id, exchTimeUs, bidPrice, bidSize, askPrice, askSize, flags)
  }

  /** The fused path for a run of native quote and trade packets (quote-run.ts): each is written as by quote() / trade(). */
  takeQuotes(run: QuoteRun, buf: Buffer, off: number, end: number): number {
    if (this.staleCount !== 0) { run.taken = 0; return off } // markers may be due around the next quote: general path
    const to = run.take(buf, off, end, this.locs, this.ring, this.seqs, this.recvTimeMs, this.pending)
    this.pending = run.pending
    return to
  }

  private writeQuote(id: number, exchTimeUs: number, bp: number, bs: number, ap: number, as: number, flags: number): DecodeStatus {
    if (this.staleCount !== 0) this.beforeEventWhileStale()
    const r = this.ring, i = r.nextSlot(), n = ++this.seqs.next[id]
    r.kind[i] = QUOTE; r.code[i] = flags; r.symbolId[i] = id
    r.symbolSeq[i] = n; this.seqs.lastRingSeq[id] = r.cursor + 1
    r.exchTimeUs[i] = exchTimeUs; r.recvTimeMs[i] = this.recvTimeMs
    r.bidPrice[i] = bp; r.bidSize[i] = bs; r.askPrice[i] = ap; r.askSize[i] = as
    this.seqs.latest?.quote(id, n, exchTimeUs, flags, bp, bs, ap, as) // ingest thread: the same fields, one cache line
    r.advance()
    if (++this.pending >= COMMIT_EVERY) this.commit()
    if (this.staleCount !== 0) this.afterQuoteWhileStale(id)
    return OK
  }

  /** Two feeds disagree on a symbol's exponent: rescale to the symbol's, and refuse what is no longer exact. */
  private quoteRescaled(locate: number, id: number, exchTimeUs: number, bidPrice: number, bidSize: number, askPrice: number, askSize: number, flags: number): DecodeStatus {
    const m = this.locs, pm = m.priceMul[locate], pd = m.priceDiv[locate], sm = m.sizeMul[locate], sd = m.sizeDiv[locate]
    const bp = (bidPrice * pm) / pd, ap = (askPrice * pm) / pd, bs = (bidSize * sm) / sd, as = (askSize * sm) / sd
    if (!exact(bp) || !exact(ap) || !exact(bs) || !exact(as)) return BAD_VALUE
    return this.writeQuote(id, exchTimeUs, bp, bs, ap, as, flags)
  }

  trade(locate: number, exchTimeUs: number, price: number, size: number, tradeId: number, side: number): DecodeStatus {
    const m = this.locs, ids = m.ids, id = locate < ids.length ? ids[locate] : NONE
    if (id === NONE) return UNKNOWN
    let p = price, q = size
    if (m.rescaled[locate] !== 0) {
      p = (p * m.priceMul[locate]) / m.priceDiv[locate]; q = (q * m.sizeMul[locate]) / m.sizeDiv[locate]
      if (!exact(p) || !exact(q)) return BAD_VALUE
    }
    if (this.staleCount !== 0) this.beforeEventWhileStale() // rare paths out of line: quote() must stay small enough to inline
    const r = this.ring, i = r.nextSlot(), n = ++this.seqs.next[id]
    r.kind[i] = TRADE; r.code[i] = side; r.symbolId[i] = id
    r.symbolSeq[i] = n; this.seqs.lastRingSeq[id] = r.cursor + 1
    r.exchTimeUs[i] = exchTimeUs; r.recvTimeMs[i] = this.recvTimeMs
    r.tradePrice[i] = p; r.tradeSize[i] = q; r.tradeId[i] = tradeId; this.seqs.latest?.trade(id, n, exchTimeUs, side, p, q, tradeId)
    r.advance()
    if (++this.pending >= COMMIT_EVERY) this.commit()
    return OK
  }

  status(locate: number, exchTimeUs: number, code: number): DecodeStatus {
    const ids = this.locs.ids, id = locate < ids.length ? ids[locate] : NONE
    if (id === NONE) return UNKNOWN
    if (this.staleCount !== 0) this.beforeEventWhileStale() // rare paths out of line: quote() must stay small enough to inline
    const r = this.ring, i = r.nextSlot(), n = ++this.seqs.next[id]
    r.kind[i] = STATUS; r.code[i] = code; r.symbolId[i] = id
    r.symbolSeq[i] = n; this.seqs.lastRingSeq[id] = r.cursor + 1
    r.exchTimeUs[i] = exchTimeUs; r.recvTimeMs[i] = this.recvTimeMs; this.seqs.latest?.status(id, n, exchTimeUs, code)
    r.advance()
    if (++this.pending >= COMMIT_EVERY) this.commit()
    return OK
  }

  /** An event proves the feed is up: its fresh markers go before the event (down implies some symbol is stale). */
  private beforeEventWhileStale(): void { if (this.down) this.feedUp() }

  /** A whole top of book: after a gap the symbol is complete again (not on ITCH: its book may be damaged). */
  private afterQuoteWhileStale(id: number): void {
    if ((this.staleBits[id] & GAP_BIT) !== 0 && this.quotesAreFullState) this.clearBits(id, GAP_BIT)
  }

  /**
   * Adds a symbol to the shared store (or finds it) if this feed may publish it (symbol-ownership.ts); a new one is
   * announced with KIND_SYMBOL before any event of it.
   */
  private addSymbol(name: string, priceExponent: number, sizeExponent: number): number {
    const before = this.symbols.size
    const id = this.ownership.admit(name, priceExponent, sizeExponent)
    if (id !== NO_SYMBOL && id >= before) this.marker(KIND_SYMBOL, id, 0)
    return id
  }

  private setBits(id: number, bit: number): void {
    const before = this.staleBits[id], after = before | bit
    if (after === before) return
    this.staleBits[id] = after
    if (before === 0) this.staleCount++
    if (reasonOf(after) !== reasonOf(before)) this.marker(KIND_STALE, id, reasonOf(after))
  }

  private clearBits(id: number, bit: number): void {
    const before = this.staleBits[id], after = before & ~bit
    if (after === before) return
    this.staleBits[id] = after
    if (after === 0) { this.staleCount--; this.marker(KIND_FRESH, id, STALE_NONE) }
    else if (reasonOf(after) !== reasonOf(before)) this.marker(KIND_STALE, id, reasonOf(after))
  }

  /** A control event of symbol `id` (rare: never per tick): it carries the symbol's current sequence, not a new one. */
  private marker(kind: number, id: number, code: number): void {
    const r = this.ring, i = r.nextSlot()
    r.kind[i] = kind; r.code[i] = code; r.symbolId[i] = id
    r.symbolSeq[i] = this.seqs.next[id]
    if (kind === KIND_SYMBOL) { r.exchTimeUs[i] = 0; r.recvTimeMs[i] = this.recvTimeMs } // carried by the data: no clock read
    else { if (kind !== KIND_BOOK) this.seqs.upstreamStale[id] = code; r.exchTimeUs[i] = Date.now() * 1000; r.recvTimeMs[i] = performance.now() }
    r.advance()
    if (++this.pending >= MAX_UNCOMMITTED_EVENTS) this.commit()
  }

  private commit(): void { this.pending = 0; this.ring.commit() }

  /** Markers written outside a TCP chunk (session events, timers) are published at once. */
  private commitIfIdle(): void { if (!this.inBatch && this.pending > 0) this.commit() }
}

function reasonOf(bits: number): number { return (bits & GAP_BIT) !== 0 ? STALE_FEED_GAP : (bits & DOWN_BIT) !== 0 ? STALE_FEED_DOWN : STALE_NONE }
