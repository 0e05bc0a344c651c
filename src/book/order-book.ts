// Owns the ITCH order book of every symbol at once, reduced to top of book: price levels, best prices, quotes on change.
// Must never allocate per order or per message: all state lives in typed arrays that grow only by rehash.
import { DECODE_BAD_VALUE, DECODE_OK } from '../errors.js'
import type { DecodeStatus } from '../errors.js'
import type { TickSink } from '../normalize/tick-sink.js'
import { EMPTY, GOLD, MAX_LOAD, OrderTable, log2, pow2AtLeast } from './order-table.js'

/*
 * Layout (struct of arrays, no object per order or level):
 * - orders: an OrderTable (order-table.ts), 16 bytes per slot | ref | remaining shares | level id |.
 *   Locate, side and price live on the level. Load factor ≤ 0.75 → 21..43 bytes per live order.
 * - levels: a pool of (book, price) levels with aggregated shares, found through a second open-addressing
 *   table (Int32Array, 2 words per slot: book + 1 (0 = empty) | level id; the price is the level's), book =
 *   locate·2 + side. Each book keeps its levels in a doubly linked list sorted best-first, so the best
 *   level is the head: when it empties the next one is already there (no re-scan). A new level is linked
 *   by walking from whichever end (best or worst) is nearer in price.
 * - per locate: the last top of book emitted, so a quote goes out only when best price or size changed.
 * Capacity: `expectedOrders` sizes the order table up front (no rehash during the day); beyond it the
 * table doubles (one rehash pause, O(live orders)). Levels grow the same way.
 * Speed notes (bench/decode-itch.ts): no Float64 keys or modulo, hashes are Math.imul on int32 halves;
 * the cold paths (growth, level creation) sit in their own methods so the hot ones stay inlinable.
 */
export const SIDE_BID = 0, SIDE_ASK = 1
const LOCATES = 65536, BOOKS = LOCATES * 2, NONE = -1
const MIX_BOOK = 0x27d4eb2d | 0

export type QuoteSink = Pick<TickSink, 'quote'>

export interface OrderBookOptions {
  /** live orders to size for up front (default 1 << 16); the table still grows past it */
  expectedOrders?: number
  /** price levels to size for up front (default 1 << 14) */
  expectedLevels?: number
}

export class OrderBook {
  // orders: [lo, hi + 1, shares, level] per slot
  private readonly orders: OrderTable
  /** orders.slots, re-read after every claim() (growth replaces it): the hot reads skip a hop (bench:decode) */
  private ord: Int32Array
  // levels pool + (book, price) index
  private lPrice: Uint32Array
  private lShares: Float64Array
  private lNext: Int32Array
  private lPrev: Int32Array
  private lBook: Int32Array
  private lFree = NONE
  private lUsed = 0
  private lix: Int32Array // [book + 1, level] per slot; the price is read from the level (8 bytes a slot)
  private hMask: number
  private hShift: number
  liveLevels = 0
  // per book / per locate
  private readonly head = new Int32Array(BOOKS).fill(NONE)
  private readonly tail = new Int32Array(BOOKS).fill(NONE)
  private readonly topBidPx = new Uint32Array(LOCATES)
  private readonly topAskPx = new Uint32Array(LOCATES)
  private readonly topBidSz = new Float64Array(LOCATES)
  private readonly topAskSz = new Float64Array(LOCATES)
  /** the order touched by the last execute/cancel/delete/lookup: its locate, side and price */
  lastLocate = 0
  lastSide = 0
  lastPrice = 0
  /** counters: refs not found, duplicate refs, over-executions clamped, quotes the sink refused */
  unknownRefs = 0
  duplicateRefs = 0
  overReductions = 0
  quotesRejected = 0
  quotesEmitted = 0

  constructor(private readonly sink: QuoteSink, opts: OrderBookOptions = {}) {
    this.orders = new OrderTable(opts.expectedOrders ?? 1 << 16); this.ord = this.orders.slots
    const lc = pow2AtLeast(opts.expectedLevels ?? 1 << 14)
    this.lPrice = new Uint32Array(lc); this.lShares = new Float64Array(lc); this.lNext = new Int32Array(lc)
    this.lPrev = new Int32Array(lc); this.lBook = new Int32Array(lc)
    const hc = pow2AtLeast(lc / MAX_LOAD)
    this.lix = new Int32Array(hc * 2); this.hMask = hc - 1; this.hShift = 32 - log2(hc)
  }

  /** Add Order (A/F). `price` is the Price(4) mantissa; shares must be > 0 and the ref new. */
  add(ref: number, locate: number, side: number, price: number, shares: number, tsUs: number): DecodeStatus {
    if (shares <= 0 || locate >= LOCATES) return DECODE_BAD_VALUE
    if (!this.insertOrder(ref, locate * 2 + side, price, shares)) { this.duplicateRefs++; return DECODE_BAD_VALUE }
    return this.emitIfChanged(locate, tsUs)
  }

  /** Executed (E/C) and Cancel (X): removes `shares` from the order; at zero the order is gone. */
  reduce(ref: number, shares: number, tsUs: number): DecodeStatus {
    const i = this.lookup(ref)
    if (i === EMPTY) return DECODE_BAD_VALUE
    return this.reduceAt(i, shares, tsUs)
  }

  /** reduce() for a slot just returned by lookup() (no second probe); lastLocate must still be its locate. */
  reduceAt(i: number, shares: number, tsUs: number): DecodeStatus {
    const a = this.ord, p = i << 2, left = a[p + 2] >>> 0, lvl = a[p + 3]
    let n = shares
    if (n > left) { this.overReductions++; n = left }
    this.lShares[lvl] -= n
    if (n === left) this.orders.removeAt(i)
    else a[p + 2] = left - n
    if (this.lShares[lvl] === 0) this.removeLevel(lvl)
    return this.emitIfChanged(this.lastLocate, tsUs)
  }

  /** Order Delete (D). */
  delete(ref: number, tsUs: number): DecodeStatus {
    const i = this.lookup(ref)
    if (i === EMPTY) return DECODE_BAD_VALUE
    this.dropAt(i)
    return this.emitIfChanged(this.lastLocate, tsUs)
  }

  /** Order Replace (U): the old order leaves, the new one joins the same symbol and side; one quote at most. */
  replace(oldRef: number, newRef: number, shares: number, price: number, tsUs: number): DecodeStatus {
    const i = this.lookup(oldRef)
    if (i === EMPTY) return DECODE_BAD_VALUE
    const locate = this.lastLocate
    this.dropAt(i)
    if (shares > 0 && !this.insertOrder(newRef, locate * 2 + this.lastSide, price, shares)) this.duplicateRefs++
    return this.emitIfChanged(locate, tsUs)
  }

  /** Finds an order and sets lastLocate/lastSide/lastPrice; returns its slot or -1 (counted). */
  lookup(ref: number): number {
    const i = this.orders.find(ref)
    if (i === EMPTY) { this.unknownRefs++; return EMPTY }
    const lvl = this.ord[(i << 2) + 3], book = this.lBook[lvl]
    this.lastLocate = book >>> 1; this.lastSide = book & 1; this.lastPrice = this.lPrice[lvl]
    return i
  }

  /** Empties every book (orders, levels, last tops) without reallocating; no quote is emitted. */
  clear(): void {
    this.orders.clear(); this.lix.fill(0); this.lFree = NONE; this.lUsed = 0; this.liveLevels = 0
    this.head.fill(NONE); this.tail.fill(NONE)
    this.topBidPx.fill(0); this.topAskPx.fill(0); this.topBidSz.fill(0); this.topAskSz.fill(0)
  }

  get liveOrders(): number { return this.orders.live }
  sharesOf(ref: number): number { const i = this.orders.find(ref); return i === EMPTY ? 0 : this.ord[(i << 2) + 2] >>> 0 }
  bestPrice(locate: number, side: number): number { const h = this.head[locate * 2 + side]; return h === NONE ? 0 : this.lPrice[h] }
  bestSize(locate: number, side: number): number { const h = this.head[locate * 2 + side]; return h === NONE ? 0 : this.lShares[h] }

  /** Bytes of every array this book holds, divided by live orders (Infinity when empty). */
  bytesPerLiveOrder(): number { return this.liveOrders === 0 ? Infinity : this.bytesTotal() / this.liveOrders }

  /** Mean slots probed to find a live order (1 = every order at its home slot); O(table), for benches and tests. */
  meanProbeLength(): number { return this.orders.meanProbeLength() }

  bytesTotal(): number {
    const arrays = [this.ord, this.lPrice, this.lShares, this.lNext, this.lPrev, this.lBook,
      this.lix, this.head, this.tail, this.topBidPx, this.topAskPx, this.topBidSz, this.topAskSz]
    let n = 0
    for (const a of arrays) n += a.byteLength
    return n
  }

  private emitIfChanged(locate: number, tsUs: number): DecodeStatus {
    const hb = this.head[locate * 2], ha = this.head[locate * 2 + 1]
    const bp = hb === NONE ? 0 : this.lPrice[hb], bs = hb === NONE ? 0 : this.lShares[hb]
    const ap = ha === NONE ? 0 : this.lPrice[ha], as = ha === NONE ? 0 : this.lShares[ha]
    if (bp === this.topBidPx[locate] && bs === this.topBidSz[locate] && ap === this.topAskPx[locate] && as === this.topAskSz[locate]) return DECODE_OK
    return this.emit(locate, tsUs, bp, bs, ap, as)
  }

  private emit(locate: number, tsUs: number, bp: number, bs: number, ap: number, as: number): DecodeStatus {
    this.topBidPx[locate] = bp; this.topBidSz[locate] = bs; this.topAskPx[locate] = ap; this.topAskSz[locate] = as
    this.quotesEmitted++
    const st = this.sink.quote(locate, tsUs, bp, bs, ap, as, 0)
    if (st !== DECODE_OK) this.quotesRejected++
    return DECODE_OK // a refused quote is the sink's concern (counted above), not a decode error
  }

  // ---- orders ----
  /** Inserts a new order (false, nothing changed, when the ref is live already). */
  private insertOrder(ref: number, book: number, price: number, shares: number): boolean {
    const i = this.orders.claim(ref)
    if (i === EMPTY) return false
    const lvl = this.levelFor(book, price)
    this.lShares[lvl] += shares
    const a = this.ord = this.orders.slots, p = i << 2 // claim() may have grown the table
    a[p + 2] = shares; a[p + 3] = lvl
    return true
  }

  /** Removes the order at slot i and its shares from its level (dropping the level when it empties). */
  private dropAt(i: number): void {
    const a = this.ord, lvl = a[(i << 2) + 3]
    this.lShares[lvl] -= a[(i << 2) + 2] >>> 0
    this.orders.removeAt(i)
    if (this.lShares[lvl] === 0) this.removeLevel(lvl)
  }

  // ---- levels ----
  private homeLevel(book1: number, price: number): number {
    return Math.imul(price ^ Math.imul(book1, MIX_BOOK), GOLD) >>> this.hShift
  }

  /** The level of (book, price), created and linked into the book's sorted list when new. */
  private levelFor(book: number, price: number): number {
    const x = this.lix, mask = this.hMask, b1 = book + 1, lp = this.lPrice
    for (let i = this.homeLevel(b1, price | 0); ; i = (i + 1) & mask) {
      const p = i << 1, k = x[p]
      if (k === b1 && lp[x[p + 1]] === price) return x[p + 1]
      if (k === 0) return this.newLevel(book, price, i)
    }
  }

  /** Cold path of levelFor: indexes a new level at free index slot `i` and links it into its book. */
  private newLevel(book: number, price: number, i: number): number {
    if (this.liveLevels + 1 > (this.hMask + 1) * MAX_LOAD) { this.growLevelIndex(); return this.levelFor(book, price) }
    const lvl = this.allocLevel(), p = i << 1
    this.lix[p] = book + 1; this.lix[p + 1] = lvl; this.liveLevels++
    this.lPrice[lvl] = price; this.lShares[lvl] = 0; this.lBook[lvl] = book
    this.link(lvl, book, price)
    return lvl
  }

  /** Links a new level into its book's best-first list, walking from the end nearer in price. */
  private link(lvl: number, book: number, price: number): void {
    const bid = (book & 1) === SIDE_BID, lp = this.lPrice, next = this.lNext, prev = this.lPrev
    const hd = this.head[book], tl = this.tail[book]
    let before = NONE, after = NONE // the new level goes between `before` (better) and `after` (worse)
    if (hd === NONE) { /* empty book */ }
    else if (bid ? price > lp[hd] : price < lp[hd]) after = hd
    else if (bid ? price < lp[tl] : price > lp[tl]) before = tl
    else if (Math.abs(price - lp[hd]) <= Math.abs(price - lp[tl])) {
      before = hd; after = next[hd] // hd is better (distinct prices per level)
      while (after !== NONE && (bid ? lp[after] > price : lp[after] < price)) { before = after; after = next[after] }
    } else {
      after = tl; before = prev[tl]
      while (before !== NONE && (bid ? lp[before] < price : lp[before] > price)) { after = before; before = prev[before] }
    }
    prev[lvl] = before; next[lvl] = after
    if (before === NONE) this.head[book] = lvl; else next[before] = lvl
    if (after === NONE) this.tail[book] = lvl; else prev[after] = lvl
  }

  private removeLevel(lvl: number): void {
    const book = this.lBook[lvl], p = this.lPrev[lvl], n = this.lNext[lvl]
    if (p === NONE) this.head[book] = n; else this.lNext[p] = n
    if (n === NONE) this.tail[book] = p; else this.lPrev[n] = p
    // unindex (backward shift as for orders)
    const x = this.lix, mask = this.hMask, b1 = book + 1, px = this.lPrice[lvl] | 0
    let i = this.homeLevel(b1, px)
    while (x[(i << 1) + 1] !== lvl || x[i << 1] === 0) i = (i + 1) & mask
    let j = i
    for (;;) {
      j = (j + 1) & mask
      const q = j << 1, k = x[q]
      if (k === 0) break
      const h = this.homeLevel(k, this.lPrice[x[q + 1]] | 0)
      if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) { const r = i << 1; x[r] = k; x[r + 1] = x[q + 1]; i = j }
    }
    x[i << 1] = 0
    this.liveLevels--
    this.lNext[lvl] = this.lFree; this.lFree = lvl // free list threads through lNext
  }

  private allocLevel(): number {
    if (this.lFree !== NONE) { const l = this.lFree; this.lFree = this.lNext[l]; return l }
    if (this.lUsed === this.lPrice.length) {
      const n = this.lPrice.length * 2
      this.lPrice = grownU32(this.lPrice, n); this.lBook = grownI32(this.lBook, n)
      this.lShares = grownF64(this.lShares, n); this.lNext = grownI32(this.lNext, n); this.lPrev = grownI32(this.lPrev, n)
    }
    return this.lUsed++
  }

  private growLevelIndex(): void {
    const old = this.lix, n = (this.hMask + 1) * 2
    const x = new Int32Array(n * 2)
    this.lix = x; this.hMask = n - 1; this.hShift = 32 - log2(n)
    for (let q = 0; q < old.length; q += 2) {
      if (old[q] === 0) continue
      let i = this.homeLevel(old[q], this.lPrice[old[q + 1]] | 0)
      while (x[i << 1] !== 0) i = (i + 1) & this.hMask
      const p = i << 1
      x[p] = old[q]; x[p + 1] = old[q + 1]
    }
  }
}

function grownU32(a: Uint32Array, n: number): Uint32Array { const b = new Uint32Array(n); b.set(a); return b }
function grownI32(a: Int32Array, n: number): Int32Array { const b = new Int32Array(n); b.set(a); return b }
function grownF64(a: Float64Array, n: number): Float64Array { const b = new Float64Array(n); b.set(a); return b }
