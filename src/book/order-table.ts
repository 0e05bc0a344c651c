// Owns the live orders of every book, keyed by ITCH order ref: 16-byte slots in page-sized hash groups, and their growth.
// Must never know what a level, a book or a quote is: the shares and level words are the caller's payload, stored as given.
/*
 * One Int32Array, 4 words (16 bytes) per slot, so a probe touches one cache line, not three:
 *     | ref lo u32 | ref hi + 1 (0 = empty slot) | remaining shares u32 | level id |
 * Open addressing, linear probing, backward-shift deletion (no tombstones, so a day of churn never
 * degrades it). Home slot = Fibonacci hash of (ref >> 8, hi) picks a group of 256 slots (one 4 KiB
 * page), ref & 255 the slot in it. ITCH refs rise through the day (4 interleaved sequences stepping by 4
 * in real captures) and most cancels hit recent orders, so the orders in flight share a few hot pages
 * and cache lines instead of one TLB and cache miss each (bench: 1.3-1.6× over a per-ref hash), while
 * older groups still spread over the whole table by the top bits of the product. Probes stay ≈ 1.01.
 * Load factor ≤ 0.75. The caller indexes `slots` directly (slot i at word i << 2) so a hit costs no call;
 * growth (one rehash pause, O(live orders)) replaces `slots`, so re-read it after claim().
 */
export const EMPTY = -1
/** Load factor both the order table and the book's level index grow at. */
export const MAX_LOAD = 0.75
/** Fibonacci hashing multiplier (2^32 / φ), shared with the level index. */
export const GOLD = 0x9e3779b1 | 0
const TWO_M32 = 2 ** -32, MIX_HI = 0x85ebca6b | 0
const GROUP_BITS = 8, GROUP_MASK = (1 << GROUP_BITS) - 1 // 256 slots × 16 bytes = one 4 KiB page

export const pow2AtLeast = (n: number): number => { let c = 16; while (c < n) c *= 2; return c }
export const log2 = (n: number): number => 31 - Math.clz32(n)
/** Shift that leaves log2(slots / group) top bits of a 32-bit product (≥ 1 bit: `>>> 32` would be `>>> 0`). */
const groupShift = (slots: number): number => 32 - Math.max(1, log2(slots) - GROUP_BITS)

export class OrderTable {
  /** [lo, hi + 1, shares, level] per slot; replaced on growth */
  slots: Int32Array
  live = 0
  private mask: number
  private shift: number // the top bits of the product pick a group of 256 slots
  private limit: number // grow beyond this many live orders

  constructor(expectedOrders: number) {
    const n = pow2AtLeast(expectedOrders / MAX_LOAD)
    this.slots = new Int32Array(n * 4); this.mask = n - 1; this.shift = groupShift(n); this.limit = n * MAX_LOAD
  }
  /** Drops every order, keeping the capacity (a snapshot is about to refill the table). */
  clear(): void { this.slots.fill(0); this.live = 0 }


  /** Slot of a live order, or EMPTY. */
  find(ref: number): number {
    const lo32 = ref >>> 0, lo = lo32 | 0, hi1 = (ref - lo32) * TWO_M32 + 1
    const a = this.slots, mask = this.mask
    for (let i = this.home(lo, hi1); ; i = (i + 1) & mask) {
      const h = a[(i << 2) + 1]
      if (h === hi1 && a[i << 2] === lo) return i
      if (h === 0) return EMPTY
    }
  }

  /**
   * Keys a free slot with `ref` and counts it live; the caller then writes its shares and level words.
   * EMPTY, nothing changed, when the ref is live already. May grow the table first.
   */
  claim(ref: number): number {
    if (this.live >= this.limit) this.grow()
    const lo32 = ref >>> 0, lo = lo32 | 0, hi1 = (ref - lo32) * TWO_M32 + 1
    const a = this.slots, mask = this.mask
    let i = this.home(lo, hi1)
    for (;;) {
      const h = a[(i << 2) + 1]
      if (h === 0) break
      if (h === hi1 && a[i << 2] === lo) return EMPTY
      i = (i + 1) & mask
    }
    a[i << 2] = lo; a[(i << 2) + 1] = hi1
    this.live++
    return i
  }

  removeAt(i: number): void {
    const a = this.slots, mask = this.mask
    let j = i
    for (;;) { // backward shift: pull later entries of the same probe run into the hole
      j = (j + 1) & mask
      const q = j << 2, h1 = a[q + 1]
      if (h1 === 0) break
      const h = this.home(a[q], h1)
      if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
        const p = i << 2
        a[p] = a[q]; a[p + 1] = h1; a[p + 2] = a[q + 2]; a[p + 3] = a[q + 3]; i = j
      }
    }
    a[(i << 2) + 1] = 0
    this.live--
  }

  /** Mean slots probed to find a live order (1 = every order at its home slot); O(table), for benches and tests. */
  meanProbeLength(): number {
    const a = this.slots, mask = this.mask
    let n = 0, sum = 0
    for (let i = 0; i <= mask; i++) {
      const h1 = a[(i << 2) + 1]
      if (h1 === 0) continue
      n++; sum += ((i - this.home(a[i << 2], h1)) & mask) + 1
    }
    return n === 0 ? 0 : sum / n
  }

  /** Home slot of (lo int32, hi + 1): group from the top bits of a Fibonacci product, slot in group = lo & 255. */
  private home(lo: number, hi1: number): number {
    return (((Math.imul((lo >>> GROUP_BITS) ^ Math.imul(hi1, MIX_HI), GOLD) >>> this.shift) << GROUP_BITS) | (lo & GROUP_MASK)) & this.mask
  }

  // Cold: its own method so the probing ones above stay small enough to inline.
  private grow(): void {
    const old = this.slots, n = (this.mask + 1) * 2
    const a = new Int32Array(n * 4)
    this.slots = a; this.mask = n - 1; this.shift = groupShift(n); this.limit = n * MAX_LOAD
    const mask = this.mask
    for (let q = 0; q < old.length; q += 4) {
      if (old[q + 1] === 0) continue
      let i = this.home(old[q], old[q + 1])
      while (a[(i << 2) + 1] !== 0) i = (i + 1) & mask
      const p = i << 2
      a[p] = old[q]; a[p + 1] = old[q + 1]; a[p + 2] = old[q + 2]; a[p + 3] = old[q + 3]
    }
  }
}
