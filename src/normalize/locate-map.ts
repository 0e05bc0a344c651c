// Owns one feed's per-locate tables: locate code → symbol id, and the scaling from the feed's exponents to the symbol's.
// Must never grow past the bound it is given (a feed's claim alone never sizes it) nor allocate per tick.
import { NO_SYMBOL } from '../model/shared-symbols.js'

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18]
const MAX_EXACT = Number.MAX_SAFE_INTEGER
/** largest exponent difference map() accepts (a factor of 10^18 is still exact in a Float64) */
export const MAX_EXPONENT_SHIFT = 18

/**
 * The tables are plain typed arrays read in place by the normalizer's per-tick paths (one array load each); they are
 * replaced, never resized in place, when a larger locate arrives, so a caller re-reads the field after map().
 */
export class LocateMap {
  /** locate → symbol id (NO_SYMBOL: not mapped) */
  ids: Int32Array = new Int32Array(1024).fill(NO_SYMBOL)
  /**
   * locate → symbol id where the feed's exponents are the symbol's, NO_SYMBOL where not mapped or rescaled: the fused
   * quote path (quote-run.ts) decides with this one lookup, where `ids` and `rescaled` would be two arrays per quote.
   */
  plainIds: Int32Array = new Int32Array(1024).fill(NO_SYMBOL)
  /** 1 where this feed's exponents differ from the symbol table's, so values must be rescaled and re-checked */
  rescaled: Uint8Array = new Uint8Array(1024)
  /** feed mantissa × mul (or ÷ div) = table mantissa; exponents can differ when feeds disagree */
  priceMul: Float64Array = new Float64Array(1024); priceDiv: Float64Array = new Float64Array(1024)
  sizeMul: Float64Array = new Float64Array(1024); sizeDiv: Float64Array = new Float64Array(1024)

  /** `max`: locates at or above it are refused by the caller (symbol capacity, at least ITCH's 65,536) */
  constructor(readonly max: number) {}

  /** The locate means nothing (a refused redefinition): its later events are counted as unknown, never published. */
  unmap(locate: number): void {
    if (locate >= this.ids.length) this.grow(locate + 1)
    this.ids[locate] = NO_SYMBOL; this.plainIds[locate] = NO_SYMBOL
  }

  /** `locate` is symbol `id`, whose exponents are the feed's minus dp (price) and ds (size), |dp|, |ds| ≤ 18. */
  map(locate: number, id: number, dp: number, ds: number): void {
    if (locate >= this.ids.length) this.grow(locate + 1)
    this.ids[locate] = id
    this.priceMul[locate] = dp >= 0 ? POW10[dp] : 1
    this.priceDiv[locate] = dp < 0 ? POW10[-dp] : 1
    this.sizeMul[locate] = ds >= 0 ? POW10[ds] : 1
    this.sizeDiv[locate] = ds < 0 ? POW10[-ds] : 1
    const rescaled = dp !== 0 || ds !== 0
    this.rescaled[locate] = rescaled ? 1 : 0
    this.plainIds[locate] = rescaled ? NO_SYMBOL : id
  }

  private grow(min: number): void {
    let n = this.ids.length
    while (n < min) n *= 2
    this.ids = grownI32(this.ids, n); this.plainIds = grownI32(this.plainIds, n)
    const r = new Uint8Array(n); r.set(this.rescaled); this.rescaled = r
    this.priceMul = grown(this.priceMul, n); this.priceDiv = grown(this.priceDiv, n); this.sizeMul = grown(this.sizeMul, n); this.sizeDiv = grown(this.sizeDiv, n)
  }
}

/** A rescaled mantissa must still be an integer that a Float64 holds exactly. */
export function exact(v: number): boolean { return Number.isInteger(v) && v <= MAX_EXACT && v >= -MAX_EXACT }

function grown(a: Float64Array, n: number): Float64Array { const b = new Float64Array(n); b.set(a); return b }
function grownI32(a: Int32Array, n: number): Int32Array { const b = new Int32Array(n).fill(NO_SYMBOL); b.set(a); return b }
