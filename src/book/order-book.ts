// Owns the ITCH order book of every symbol at once, reduced to top of book: orders, price levels, best prices.
// Must never allocate per order or per message: all state lives in typed arrays that grow only by rehash.
import { DECODE_BAD_VALUE, DECODE_OK } from '../errors.js'
import type { DecodeStatus } from '../errors.js'
import type { TickSink } from '../normalize/tick-sink.js'

/*
 * Layout (struct of arrays, no object per order or level):
 * - orders: open-addressing table keyed by order reference (Float64 key, exact to 2^53; -1 = empty),
 *   linear probing with backward-shift deletion (no tombstones, so a full day of churn never degrades it).
 *   Per slot: key f64 | remaining shares u32 | level id i32 = 16 bytes; locate, side and price live on
 *   the level, so an order needs nothing else. Load factor ≤ 0.75 → 21..43 bytes per live order.
 * - levels: a pool of (book, price) levels with aggregated shares, found through a second open-addressing
 *   table keyed by book·2^32 + price (book = locate·2 + side). Each book (symbol side) keeps its levels in
 *   a doubly linked list sorted best-first, so the best level is the head: when it empties the next one is
 *   already there (no re-scan). A new level walks from the head (new levels are near the top in practice)
 *   or appends at the tail when it is the worst price.
 * - per locate: the last top of book emitted, so a quote goes out only when best price or size changed.
 * Capacity: `expectedOrders` sizes the order table up front (no rehash during the day); beyond it the
 * table doubles (one rehash pause, O(live orders)). Levels grow the same way.
 */
export const SIDE_BID = 0, SIDE_ASK = 1
const LOCATES = 65536, BOOKS = LOCATES * 2, EMPTY = -1, NONE = -1
const MAX_LOAD = 0.75, TWO32 = 2 ** 32

export type QuoteSink = Pick<TickSink, 'quote'>

export interface OrderBookOptions {
  /** live orders to size for up front (default 1 << 16); the table still grows past it */
  expectedOrders?: number
  /** price levels to size for up front (default 1 << 14) */
  expectedLevels?: number
}

const pow2AtLeast = (n: number): number => { let c = 16; while (c < n) c *= 2; return c }

export class OrderBook {
  // orders
  private oKey: Float64Array
  private oShares: Uint32Array
  private oLevel: Int32Array
  private oMask: number
  liveOrders = 0
  // levels pool + (book, price) index
  private lPrice: Uint32Array
  private lShares: Float64Array
  private lNext: Int32Array
  private lPrev: Int32Array
  private lBook: Uint32Array
  private lFree = NONE
  private lUsed = 0
  private hKey: Float64Array
  private hLevel: Int32Array
  private hMask: number
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
    const oc = pow2AtLeast((opts.expectedOrders ?? 1 << 16) / MAX_LOAD)
    this.oKey = new Float64Array(oc).fill(EMPTY); this.oShares = new Uint32Array(oc); this.oLevel = new Int32Array(oc)
    this.oMask = oc - 1
    const lc = pow2AtLeast(opts.expectedLevels ?? 1 << 14)
    this.lPrice = new Uint32Array(lc); this.lShares = new Float64Array(lc); this.lNext = new Int32Array(lc)
    this.lPrev = new Int32Array(lc); this.lBook = new Uint32Array(lc)
    const hc = pow2AtLeast(lc / MAX_LOAD)
    this.hKey = new Float64Array(hc).fill(EMPTY); this.hLevel = new Int32Array(hc); this.hMask = hc - 1
  }

  /** Add Order (A/F). `price` is the Price(4) mantissa; shares must be > 0 and the ref new. */
  add(ref: number, locate: number, side: number, price: number, shares: number, tsUs: number): DecodeStatus {
    if (shares <= 0 || locate >= LOCATES) return DECODE_BAD_VALUE
    if (this.findOrder(ref) !== EMPTY) { this.duplicateRefs++; return DECODE_BAD_VALUE }
    this.insertOrder(ref, locate, side, price, shares)
    return this.emitIfChanged(locate, tsUs)
  }

  /** Executed (E/C) and Cancel (X): removes `shares` from the order; at zero the order is gone. */
  reduce(ref: number, shares: number, tsUs: number): DecodeStatus {
    const i = this.lookup(ref)
    if (i === EMPTY) return DECODE_BAD_VALUE
    let n = shares
    const left = this.oShares[i]
    if (n > left) { this.overReductions++; n = left }
    const lvl = this.oLevel[i]
    this.lShares[lvl] -= n
    if (n === left) this.removeAt(i)
    else this.oShares[i] = left - n
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
    const locate = this.lastLocate, side = this.lastSide
    this.dropAt(i)
    if (shares > 0) {
      if (this.findOrder(newRef) !== EMPTY) this.duplicateRefs++
      else this.insertOrder(newRef, locate, side, price, shares)
    }
    return this.emitIfChanged(locate, tsUs)
  }

  /** Finds an order and sets lastLocate/lastSide/lastPrice; returns its slot or -1 (counted). */
  lookup(ref: number): number {
    const i = this.findOrder(ref)
    if (i === EMPTY) { this.unknownRefs++; return EMPTY }
    const lvl = this.oLevel[i], book = this.lBook[lvl]
    this.lastLocate = book >>> 1; this.lastSide = book & 1; this.lastPrice = this.lPrice[lvl]
    return i
  }

  sharesOf(ref: number): number { const i = this.findOrder(ref); return i === EMPTY ? 0 : this.oShares[i] }
  bestPrice(locate: number, side: number): number { const h = this.head[locate * 2 + side]; return h === NONE ? 0 : this.lPrice[h] }
  bestSize(locate: number, side: number): number { const h = this.head[locate * 2 + side]; return h === NONE ? 0 : this.lShares[h] }

  /** Bytes of every array this book holds, divided by live orders (Infinity when empty). */
  bytesPerLiveOrder(): number { return this.liveOrders === 0 ? Infinity : this.bytesTotal() / this.liveOrders }

  bytesTotal(): number {
    const arrays = [this.oKey, this.oShares, this.oLevel, this.lPrice, this.lShares, this.lNext, this.lPrev, this.lBook,
      this.hKey, this.hLevel, this.head, this.tail, this.topBidPx, this.topAskPx, this.topBidSz, this.topAskSz]
    let n = 0
    for (const a of arrays) n += a.byteLength
    return n
  }

  private emitIfChanged(locate: number, tsUs: number): DecodeStatus {
    const hb = this.head[locate * 2], ha = this.head[locate * 2 + 1]
    const bp = hb === NONE ? 0 : this.lPrice[hb], bs = hb === NONE ? 0 : this.lShares[hb]
    const ap = ha === NONE ? 0 : this.lPrice[ha], as = ha === NONE ? 0 : this.lShares[ha]
    if (bp === this.topBidPx[locate] && bs === this.topBidSz[locate] && ap === this.topAskPx[locate] && as === this.topAskSz[locate]) return DECODE_OK
    this.topBidPx[locate] = bp; this.topBidSz[locate] = bs; this.topAskPx[locate] = ap; this.topAskSz[locate] = as
    this.quotesEmitted++
    const st = this.sink.quote(locate, tsUs, bp, bs, ap, as, 0)
    if (st !== DECODE_OK) this.quotesRejected++
    return DECODE_OK // a refused quote is the sink's concern (counted above), not a decode error
  }

  // ---- orders table ----
  private homeOrder(ref: number): number {
    const lo = ref >>> 0, hi = (ref - lo) / TWO32
    let h = Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi, 0x85ebca6b)
    h ^= h >>> 16
    return h & this.oMask
  }

  private findOrder(ref: number): number {
    const k = this.oKey, mask = this.oMask
    for (let i = this.homeOrder(ref); ; i = (i + 1) & mask) {
      const v = k[i]
      if (v === ref) return i
      if (v === EMPTY) return EMPTY
    }
  }

  private insertOrder(ref: number, locate: number, side: number, price: number, shares: number): void {
    if ((this.liveOrders + 1) > this.oKey.length * MAX_LOAD) this.growOrders()
    const lvl = this.levelFor(locate * 2 + side, price)
    this.lShares[lvl] += shares
    const k = this.oKey, mask = this.oMask
    let i = this.homeOrder(ref)
    while (k[i] !== EMPTY) i = (i + 1) & mask
    k[i] = ref; this.oShares[i] = shares; this.oLevel[i] = lvl
    this.liveOrders++
  }

  /** Removes the order at slot i and its shares from its level (dropping the level when it empties). */
  private dropAt(i: number): void {
    const lvl = this.oLevel[i]
    this.lShares[lvl] -= this.oShares[i]
    this.removeAt(i)
    if (this.lShares[lvl] === 0) this.removeLevel(lvl)
  }

  private removeAt(i: number): void {
    const k = this.oKey, mask = this.oMask
    let j = i
    for (;;) { // backward shift: pull later entries of the same probe run into the hole
      j = (j + 1) & mask
      const v = k[j]
      if (v === EMPTY) break
      const h = this.homeOrder(v)
      if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
        k[i] = v; this.oShares[i] = this.oShares[j]; this.oLevel[i] = this.oLevel[j]; i = j
      }
    }
    k[i] = EMPTY
    this.liveOrders--
  }

  private growOrders(): void {
    const ok = this.oKey, os = this.oShares, ol = this.oLevel, n = ok.length * 2
    this.oKey = new Float64Array(n).fill(EMPTY); this.oShares = new Uint32Array(n); this.oLevel = new Int32Array(n)
    this.oMask = n - 1
    const k = this.oKey, mask = this.oMask
    for (let j = 0; j < ok.length; j++) {
      const v = ok[j]
      if (v === EMPTY) continue
      let i = this.homeOrder(v)
      while (k[i] !== EMPTY) i = (i + 1) & mask
      k[i] = v; this.oShares[i] = os[j]; this.oLevel[i] = ol[j]
    }
  }

  // ---- levels ----
  private homeLevel(key: number): number {
    const lo = key >>> 0, hi = (key - lo) / TWO32
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1)
    h ^= h >>> 15
    return h & this.hMask
  }

  /** The level of (book, price), created and linked into the book's sorted list when new. */
  private levelFor(book: number, price: number): number {
    const key = book * TWO32 + price, k = this.hKey, mask = this.hMask
    let i = this.homeLevel(key)
    for (; k[i] !== EMPTY; i = (i + 1) & mask) if (k[i] === key) return this.hLevel[i]
    if (this.liveLevels + 1 > k.length * MAX_LOAD) { this.growLevelIndex(); return this.levelFor(book, price) }
    const lvl = this.allocLevel()
    k[i] = key; this.hLevel[i] = lvl; this.liveLevels++
    this.lPrice[lvl] = price; this.lShares[lvl] = 0; this.lBook[lvl] = book
    this.link(lvl, book, price)
    return lvl
  }

  private link(lvl: number, book: number, price: number): void {
    const bid = (book & 1) === SIDE_BID, lp = this.lPrice, next = this.lNext
    const t = this.tail[book]
    // better(a, b): a ranks before b on this side
    if (t !== NONE && (bid ? price < lp[t] : price > lp[t])) { // worst so far: append
      this.lPrev[lvl] = t; next[lvl] = NONE; next[t] = lvl; this.tail[book] = lvl; return
    }
    let cur = this.head[book], prev = NONE
    while (cur !== NONE && (bid ? lp[cur] > price : lp[cur] < price)) { prev = cur; cur = next[cur] }
    this.lPrev[lvl] = prev; next[lvl] = cur
    if (prev === NONE) this.head[book] = lvl; else next[prev] = lvl
    if (cur === NONE) this.tail[book] = lvl; else this.lPrev[cur] = lvl
  }

  private removeLevel(lvl: number): void {
    const book = this.lBook[lvl], p = this.lPrev[lvl], n = this.lNext[lvl]
    if (p === NONE) this.head[book] = n; else this.lNext[p] = n
    if (n === NONE) this.tail[book] = p; else this.lPrev[n] = p
    // unindex (backward shift as for orders)
    const key = book * TWO32 + this.lPrice[lvl], k = this.hKey, mask = this.hMask
    let i = this.homeLevel(key)
    while (k[i] !== key) i = (i + 1) & mask
    let j = i
    for (;;) {
      j = (j + 1) & mask
      const v = k[j]
      if (v === EMPTY) break
      const h = this.homeLevel(v)
      if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) { k[i] = v; this.hLevel[i] = this.hLevel[j]; i = j }
    }
    k[i] = EMPTY
    this.liveLevels--
    this.lNext[lvl] = this.lFree; this.lFree = lvl // free list threads through lNext
  }

  private allocLevel(): number {
    if (this.lFree !== NONE) { const l = this.lFree; this.lFree = this.lNext[l]; return l }
    if (this.lUsed === this.lPrice.length) {
      const n = this.lPrice.length * 2
      this.lPrice = grownU32(this.lPrice, n); this.lBook = grownU32(this.lBook, n)
      this.lShares = grownF64(this.lShares, n); this.lNext = grownI32(this.lNext, n); this.lPrev = grownI32(this.lPrev, n)
    }
    return this.lUsed++
  }

  private growLevelIndex(): void {
    const ok = this.hKey, ol = this.hLevel, n = ok.length * 2
    this.hKey = new Float64Array(n).fill(EMPTY); this.hLevel = new Int32Array(n); this.hMask = n - 1
    for (let j = 0; j < ok.length; j++) {
      if (ok[j] === EMPTY) continue
      let i = this.homeLevel(ok[j])
      while (this.hKey[i] !== EMPTY) i = (i + 1) & this.hMask
      this.hKey[i] = ok[j]; this.hLevel[i] = ol[j]
    }
  }
}

function grownU32(a: Uint32Array, n: number): Uint32Array { const b = new Uint32Array(n); b.set(a); return b }
function grownI32(a: Int32Array, n: number): Int32Array { const b = new Int32Array(n); b.set(a); return b }
function grownF64(a: Float64Array, n: number): Float64Array { const b = new Float64Array(n); b.set(a); return b }
