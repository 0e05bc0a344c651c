// Owns venue → canonical mapping for one feed: locate codes to symbol ids, exponents, per-symbol seq.
// Must never be bypassed: it is the only writer of the ring, and it never allocates per tick.
import { DECODE_BAD_VALUE, DECODE_OK, DECODE_UNKNOWN_SYMBOL } from '../errors.js'
import type { DecodeStatus } from '../errors.js'
import { NO_SYMBOL } from '../model/symbols.js'
import type { SymbolTable } from '../model/symbols.js'
import { KIND_QUOTE, KIND_STATUS, KIND_TRADE, MAX_UNCOMMITTED_EVENTS } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'
import type { TickSink } from './tick-sink.js'

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18]
const MAX_EXACT = Number.MAX_SAFE_INTEGER

/** Per-symbol sequence counters shared by every feed's normalizer (a symbol may come from several feeds). */
export class SymbolSequences {
  readonly next: Float64Array
  constructor(capacity: number) { this.next = new Float64Array(capacity) }
}

export class Normalizer implements TickSink {
  private idByLocate: Int32Array = new Int32Array(1024).fill(NO_SYMBOL)
  /** feed mantissa × mul (or ÷ div) = table mantissa; exponents can differ when feeds disagree */
  private priceMul: Float64Array = new Float64Array(1024)
  private priceDiv: Float64Array = new Float64Array(1024)
  private sizeMul: Float64Array = new Float64Array(1024)
  private sizeDiv: Float64Array = new Float64Array(1024)
  /** 1 where this feed's exponents differ from the symbol table's, so values must be rescaled and re-checked */
  private rescaled: Uint8Array = new Uint8Array(1024)
  private recvTimeMs = 0
  private pending = 0

  constructor(
    private readonly ring: TickRing,
    private readonly symbols: SymbolTable,
    private readonly seqs: SymbolSequences,
  ) {}

  /** One clock read per TCP chunk: every tick of the chunk carries it. */
  beginBatch(recvTimeMs: number): void { this.recvTimeMs = recvTimeMs }

  /** Publishes the chunk's ticks to consumers with one wake-up. */
  endBatch(): void {
    if (this.pending > 0) { this.pending = 0; this.ring.commit() }
  }

  defineSymbol(locate: number, name: string, priceExponent: number, sizeExponent: number): DecodeStatus {
    if (!Number.isInteger(locate) || locate < 0 || locate > 0xffffff) return DECODE_BAD_VALUE
    if (locate >= this.idByLocate.length) this.grow(locate + 1)
    // A redefinition replaces the entry; a refused one unmaps the locate, so its later quotes are counted as
    // unknown instead of being published under the symbol it used to mean.
    this.idByLocate[locate] = NO_SYMBOL
    const id = this.symbols.add(name, priceExponent, sizeExponent)
    if (id === NO_SYMBOL) return DECODE_UNKNOWN_SYMBOL
    const dp = priceExponent - this.symbols.priceExponent[id]
    const ds = sizeExponent - this.symbols.sizeExponent[id]
    if (Math.abs(dp) > 18 || Math.abs(ds) > 18) return DECODE_BAD_VALUE
    this.idByLocate[locate] = id
    this.priceMul[locate] = dp >= 0 ? POW10[dp] : 1
    this.priceDiv[locate] = dp < 0 ? POW10[-dp] : 1
    this.sizeMul[locate] = ds >= 0 ? POW10[ds] : 1
    this.sizeDiv[locate] = ds < 0 ? POW10[-ds] : 1
    this.rescaled[locate] = dp !== 0 || ds !== 0 ? 1 : 0
    return DECODE_OK
  }

  locateOf(name: string, priceExponent: number, sizeExponent: number): number {
    // Feeds without a directory use the symbol id itself as their locate code. The symbol may already exist
    // (another feed defined it): it must still be mapped in THIS normalizer, with this feed's exponents.
    let id = this.symbols.idOf(name)
    if (id === NO_SYMBOL) id = this.symbols.add(name, priceExponent, sizeExponent)
    if (id === NO_SYMBOL) return NO_SYMBOL
    if (id < this.idByLocate.length && this.idByLocate[id] === id) return id
    return this.defineSymbol(id, name, priceExponent, sizeExponent) === DECODE_OK ? id : NO_SYMBOL
  }

  quote(locate: number, exchTimeUs: number, bidPrice: number, bidSize: number, askPrice: number, askSize: number, flags: number): DecodeStatus {
    const id = locate < this.idByLocate.length ? this.idByLocate[locate] : NO_SYMBOL
    if (id === NO_SYMBOL) return DECODE_UNKNOWN_SYMBOL
    let bp = bidPrice, ap = askPrice, bs = bidSize, as = askSize
    if (this.rescaled[locate] !== 0) { // rare: two feeds disagree on a symbol's exponent
      const pm = this.priceMul[locate], pd = this.priceDiv[locate], sm = this.sizeMul[locate], sd = this.sizeDiv[locate]
      bp = (bp * pm) / pd; ap = (ap * pm) / pd; bs = (bs * sm) / sd; as = (as * sm) / sd
      if (!exact(bp) || !exact(ap) || !exact(bs) || !exact(as)) return DECODE_BAD_VALUE
    }
    const r = this.ring, i = r.nextSlot()
    r.kind[i] = KIND_QUOTE; r.code[i] = flags; r.symbolId[i] = id
    r.symbolSeq[i] = ++this.seqs.next[id]
    r.exchTimeUs[i] = exchTimeUs; r.recvTimeMs[i] = this.recvTimeMs
    r.bidPrice[i] = bp; r.bidSize[i] = bs; r.askPrice[i] = ap; r.askSize[i] = as
    r.publish()
    if (++this.pending >= MAX_UNCOMMITTED_EVENTS) this.endBatch()
    return DECODE_OK
  }

  trade(locate: number, exchTimeUs: number, price: number, size: number, tradeId: number, side: number): DecodeStatus {
    const id = locate < this.idByLocate.length ? this.idByLocate[locate] : NO_SYMBOL
    if (id === NO_SYMBOL) return DECODE_UNKNOWN_SYMBOL
    let p = price, q = size
    if (this.rescaled[locate] !== 0) {
      p = (p * this.priceMul[locate]) / this.priceDiv[locate]; q = (q * this.sizeMul[locate]) / this.sizeDiv[locate]
      if (!exact(p) || !exact(q)) return DECODE_BAD_VALUE
    }
    const r = this.ring, i = r.nextSlot()
    r.kind[i] = KIND_TRADE; r.code[i] = side; r.symbolId[i] = id
    r.symbolSeq[i] = ++this.seqs.next[id]
    r.exchTimeUs[i] = exchTimeUs; r.recvTimeMs[i] = this.recvTimeMs
    r.tradePrice[i] = p; r.tradeSize[i] = q; r.tradeId[i] = tradeId
    r.publish()
    if (++this.pending >= MAX_UNCOMMITTED_EVENTS) this.endBatch()
    return DECODE_OK
  }

  status(locate: number, exchTimeUs: number, code: number): DecodeStatus {
    const id = locate < this.idByLocate.length ? this.idByLocate[locate] : NO_SYMBOL
    if (id === NO_SYMBOL) return DECODE_UNKNOWN_SYMBOL
    const r = this.ring, i = r.nextSlot()
    r.kind[i] = KIND_STATUS; r.code[i] = code; r.symbolId[i] = id
    r.symbolSeq[i] = ++this.seqs.next[id]
    r.exchTimeUs[i] = exchTimeUs; r.recvTimeMs[i] = this.recvTimeMs
    r.publish()
    if (++this.pending >= MAX_UNCOMMITTED_EVENTS) this.endBatch()
    return DECODE_OK
  }

  private grow(min: number): void {
    let n = this.idByLocate.length
    while (n < min) n *= 2
    const ids = new Int32Array(n).fill(NO_SYMBOL); ids.set(this.idByLocate); this.idByLocate = ids
    this.priceMul = grown(this.priceMul, n); this.priceDiv = grown(this.priceDiv, n)
    this.sizeMul = grown(this.sizeMul, n); this.sizeDiv = grown(this.sizeDiv, n)
    const r = new Uint8Array(n); r.set(this.rescaled); this.rescaled = r
  }
}

/** A rescaled mantissa must still be an integer that a Float64 holds exactly. */
function exact(v: number): boolean { return Number.isInteger(v) && v <= MAX_EXACT && v >= -MAX_EXACT }

function grown(a: Float64Array, n: number): Float64Array { const b = new Float64Array(n); b.set(a); return b }
