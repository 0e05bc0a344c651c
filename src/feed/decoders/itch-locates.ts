// Owns what one ITCH feed knows about each stock locate: defined or not (directory or late join), and its book's state.
// Must never allocate per order message: a name is built only the first time a locate is seen (once per symbol per day).
import { DECODE_OK } from '../../errors.js'
import type { DecodeStatus } from '../../errors.js'
import { BOOK_NONE, PARTIAL_LATE_JOIN, PARTIAL_NONE, PARTIAL_UNKNOWN_ORDER } from '../../model/book-state.js'
import { SYMBOL_PATTERN } from '../../model/symbols.js'
import type { TickSink } from '../../normalize/tick-sink.js'
import type { FeedStats } from '../feed-stats.js'
import { UNATTRIBUTABLE_BAD_SYMBOL, UNATTRIBUTABLE_NO_STOCK, UNATTRIBUTABLE_REFUSED, UNKNOWN_ORDER_TYPES } from '../feed-stats.js'

/** Per-locate states beyond the book's PARTIAL_* codes: BOOK_NONE (never seen), and the two ways a name was refused. */
export const LOCATE_REFUSED = 0xfe, LOCATE_BAD_SYMBOL = 0xfd
/** `state[locate] >= LOCATE_UNUSABLE`: the locate maps to no symbol of this feed (yet) */
export const LOCATE_UNUSABLE = LOCATE_BAD_SYMBOL
const LOCATES = 65536
/** Type byte → offset of its 8-byte stock field (0 = the message carries none): the messages a late joiner learns from. */
export const STOCK_OFFSET = new Uint8Array(256)
for (const [t, off] of Object.entries({ A: 24, F: 24, P: 24, Q: 19, H: 11, Y: 11, I: 28, N: 11, O: 11, K: 11, J: 11, h: 11, L: 15, R: 11 })) {
  STOCK_OFFSET[t.charCodeAt(0)] = off
}
/** Type byte → index into FeedStats.unknownOrders (E, C, X, D, U) */
const UNKNOWN_ORDER_INDEX = new Uint8Array(256)
UNKNOWN_ORDER_TYPES.forEach((t, k) => { UNKNOWN_ORDER_INDEX[t.charCodeAt(0)] = k })

export class ItchLocates {
  /** per locate: BOOK_NONE, LOCATE_REFUSED / LOCATE_BAD_SYMBOL, or the book's PARTIAL_* reason (0 = synced) */
  readonly state = new Uint8Array(LOCATES).fill(BOOK_NONE)
  /** locates mapped to a symbol, each once, in the order they were defined */
  private readonly defined: number[] = []

  constructor(private readonly sink: TickSink, private readonly stats: FeedStats) {}

  /** Stock Directory (R): the symbol's book is complete from here (the day starts with the directory). */
  directory(locate: number, name: string, priceExponent: number): DecodeStatus {
    const st = this.sink.defineSymbol(locate, name, priceExponent, 0)
    if (st !== DECODE_OK) { this.refuse(locate, LOCATE_REFUSED); return st }
    const s = this.state[locate]
    this.adopt(locate, s >= LOCATE_UNUSABLE ? PARTIAL_NONE : s)
    return DECODE_OK
  }

  /**
   * Late join: a message names the stock of a locate no directory defined. The symbol is defined from that field and
   * its book is partial (orders added before we joined are unknown). Returns nothing: the caller goes on either way,
   * and a refused locate's events are counted as unattributable where the sink refuses them.
   */
  learn(b: Buffer, o: number, locate: number): void {
    if (this.state[locate] !== BOOK_NONE) return // refused before: not retried per message
    const off = STOCK_OFFSET[b[o]]
    if (off === 0) return
    const name = b.toString('latin1', o + off, o + off + 8).trimEnd()
    if (!SYMBOL_PATTERN.test(name)) { this.refuse(locate, LOCATE_BAD_SYMBOL); return }
    if (this.sink.defineSymbol(locate, name, -4, 0) !== DECODE_OK) { this.refuse(locate, LOCATE_REFUSED); return }
    this.stats.lateJoins++
    this.adopt(locate, PARTIAL_LATE_JOIN)
  }

  /** An event of `locate` was refused as an unknown symbol: counted under the reason the locate has none. */
  unattributable(locate: number): void {
    const s = this.state[locate]
    this.stats.unattributable[s === LOCATE_BAD_SYMBOL ? UNATTRIBUTABLE_BAD_SYMBOL : s === LOCATE_REFUSED ? UNATTRIBUTABLE_REFUSED : UNATTRIBUTABLE_NO_STOCK]++
  }

  /** E/C/X/D/U named an order the book never saw: counted by type; a synced book of that locate is partial now. */
  unknownOrder(type: number, locate: number): DecodeStatus {
    this.stats.unknownOrders[UNKNOWN_ORDER_INDEX[type]]++
    if (this.state[locate] === PARTIAL_NONE) this.set(locate, PARTIAL_UNKNOWN_ORDER)
    return DECODE_OK
  }

  /** Every book this feed defined becomes partial for `reason` (markers written). */
  markAllPartial(reason: number): void { for (const l of this.defined) this.set(l, reason) }

  /** Every book this feed defined is synced (markers written): a snapshot rebuilt them. */
  markAllSynced(): void { for (const l of this.defined) this.set(l, PARTIAL_NONE) }

  /** Books currently partial (a gauge). */
  partialCount(): number { let n = 0; for (const l of this.defined) if (this.state[l] !== PARTIAL_NONE) n++; return n }

  set(locate: number, reason: number): void {
    if (this.state[locate] >= LOCATE_UNUSABLE || this.state[locate] === reason) return
    this.stats.partialBooks += (reason !== PARTIAL_NONE ? 1 : 0) - (this.state[locate] !== PARTIAL_NONE ? 1 : 0)
    this.state[locate] = reason
    this.sink.bookState?.(locate, reason)
  }

  private adopt(locate: number, reason: number): void {
    const s = this.state[locate]
    if (s >= LOCATE_UNUSABLE) this.defined.push(locate)
    else if (s !== PARTIAL_NONE) this.stats.partialBooks--
    if (reason !== PARTIAL_NONE) this.stats.partialBooks++
    this.state[locate] = reason
    this.sink.bookState?.(locate, reason)
  }

  private refuse(locate: number, why: number): void {
    const s = this.state[locate]
    if (s < LOCATE_UNUSABLE) {
      const k = this.defined.indexOf(locate); if (k >= 0) this.defined.splice(k, 1)
      if (s !== PARTIAL_NONE) this.stats.partialBooks--
    }
    this.state[locate] = why
  }
}
