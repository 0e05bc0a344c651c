// Owns NASDAQ TotalView-ITCH 5.0 decoding: every message layout, field extraction, and the feed → book → sink flow.
// Must never allocate per order message: strings are built only for the stock directory (once per symbol per day).
import { DECODE_BAD_LENGTH, DECODE_BAD_VALUE, DECODE_OK, DECODE_UNKNOWN_SYMBOL, DECODE_UNKNOWN_TYPE } from '../../errors.js'
import type { DecodeStatus } from '../../errors.js'
import { OrderBook, SIDE_ASK, SIDE_BID } from '../../book/order-book.js'
import type { OrderBookOptions } from '../../book/order-book.js'
import { BOOK_NONE } from '../../model/book-state.js'
import { SYMBOL_PATTERN } from '../../model/symbols.js'
import type { PayloadDecoder, TickSink } from '../../normalize/tick-sink.js'
import type { FeedStats } from '../feed-stats.js'
import { ItchLocates, STOCK_OFFSET } from './itch-locates.js'

// Every ITCH 5.0 message is big-endian and opens with the same 11 bytes:
// 0      1          3            5                  11
// | type | locate u16 | tracking u16 | timestamp u48 ns since midnight ET | body...
// Body offsets (from the message start), spec lengths in brackets:
// S [12] event@11                    R [39] stock@11 mktcat@19 fin@20 lot u32@21 lotsonly@25 class@26 subtype@27(2)
//        auth@29 ssti@30 ipo@31 luld@32 etp@33 lev u32@34 inverse@38
// H [25] stock@11 state@19 rsv@20 reason@21(4)      Y [20] stock@11 action@19
// L [26] mpid@11(4) stock@15 primary@23 mode@24 state@25
// V [35] level1 p8@11 level2 p8@19 level3 p8@27    W [12] breached@11
// K [28] stock@11 release u32 s@19 qualifier@23 ipo px@24     J [35] stock@11 ref@19 upper@23 lower@27 ext u32@31
// h [21] stock@11 market@19 action@20               A [36] ref u64@11 side@19 shares u32@20 stock@24 price@32
// F [40] A + mpid@36(4)                             E [31] ref@11 shares@19 match u64@23
// C [36] ref@11 shares@19 match@23 printable@31 price@32      X [23] ref@11 shares@19      D [19] ref@11
// U [35] old ref@11 new ref@19 shares@27 price@31   P [44] ref@11 side@19 shares@20 stock@24 price@32 match@36
// Q [40] shares u64@11 stock@19 price@27 match@31 type@39     B [19] match@11
// I [50] paired u64@11 imbalance u64@19 dir@27 stock@28 far@36 near@40 ref@44 cross@48 pvi@49
// N [20] stock@11 interest@19
// O [48] stock@11 eligible@19 min@20 max@24 near px@28 near time u64@32 lower@40 upper@44
// Prices are Price(4) u32 (V: Price(8) u64); alpha fields are ASCII, left-justified, space-padded.
export const OFF_TYPE = 0, OFF_LOCATE = 1, OFF_TRACKING = 3, OFF_TS = 5, OFF_BODY = 11
export const OFF_REF = 11, OFF_A_SIDE = 19, OFF_A_SHARES = 20, OFF_A_STOCK = 24, OFF_A_PRICE = 32, OFF_F_MPID = 36
export const OFF_E_SHARES = 19, OFF_E_MATCH = 23, OFF_C_PRINTABLE = 31, OFF_C_PRICE = 32
export const OFF_X_SHARES = 19, OFF_U_NEW_REF = 19, OFF_U_SHARES = 27, OFF_U_PRICE = 31, OFF_P_MATCH = 36
export const OFF_Q_SHARES = 11, OFF_Q_STOCK = 19, OFF_Q_PRICE = 27, OFF_Q_MATCH = 31, OFF_Q_TYPE = 39
export const OFF_R_STOCK = 11, OFF_H_STOCK = 11, OFF_H_STATE = 19, OFF_B_MATCH = 11

const F_U8 = 0, F_U16 = 1, F_U32 = 2, F_U64 = 3, F_CHAR = 4, F_ALPHA = 5
type FieldSpec = readonly [name: string, off: number, kind: number, width?: number]
const STOCK: FieldSpec = ['stock', 11, F_ALPHA, 8]
/** Field table per message type: the same offsets as the diagram, used by decodeItchMessage (tests, tools). */
export const ITCH_FIELDS: Readonly<Record<string, readonly FieldSpec[]>> = {
  S: [['event', 11, F_CHAR]],
  R: [STOCK, ['mkt_cat', 19, F_CHAR], ['fin_status', 20, F_CHAR], ['round_lot', 21, F_U32], ['round_lots_only', 25, F_CHAR],
    ['issue_class', 26, F_CHAR], ['issue_subtype', 27, F_ALPHA, 2], ['authenticity', 29, F_CHAR], ['ssti', 30, F_CHAR],
    ['ipo', 31, F_CHAR], ['luld_tier', 32, F_CHAR], ['etp', 33, F_CHAR], ['etp_lev', 34, F_U32], ['inverse', 38, F_CHAR]],
  H: [STOCK, ['state', 19, F_CHAR], ['reserved', 20, F_CHAR], ['reason', 21, F_ALPHA, 4]],
  Y: [STOCK, ['regsho', 19, F_CHAR]],
  L: [['mpid', 11, F_ALPHA, 4], ['stock', 15, F_ALPHA, 8], ['pmm', 23, F_CHAR], ['mode', 24, F_CHAR], ['state', 25, F_CHAR]],
  V: [['level1', 11, F_U64], ['level2', 19, F_U64], ['level3', 27, F_U64]],
  W: [['breached', 11, F_CHAR]],
  K: [STOCK, ['release_time', 19, F_U32], ['qualifier', 23, F_CHAR], ['ipo_price', 24, F_U32]],
  J: [STOCK, ['ref_price', 19, F_U32], ['upper', 23, F_U32], ['lower', 27, F_U32], ['ext', 31, F_U32]],
  h: [STOCK, ['market', 19, F_CHAR], ['action', 20, F_CHAR]],
  A: [['ref', 11, F_U64], ['side', 19, F_CHAR], ['shares', 20, F_U32], ['stock', 24, F_ALPHA, 8], ['price', 32, F_U32]],
  F: [['ref', 11, F_U64], ['side', 19, F_CHAR], ['shares', 20, F_U32], ['stock', 24, F_ALPHA, 8], ['price', 32, F_U32], ['mpid', 36, F_ALPHA, 4]],
  E: [['ref', 11, F_U64], ['shares', 19, F_U32], ['match', 23, F_U64]],
  C: [['ref', 11, F_U64], ['shares', 19, F_U32], ['match', 23, F_U64], ['printable', 31, F_CHAR], ['price', 32, F_U32]],
  X: [['ref', 11, F_U64], ['shares', 19, F_U32]],
  D: [['ref', 11, F_U64]],
  U: [['old_ref', 11, F_U64], ['new_ref', 19, F_U64], ['shares', 27, F_U32], ['price', 31, F_U32]],
  P: [['ref', 11, F_U64], ['side', 19, F_CHAR], ['shares', 20, F_U32], ['stock', 24, F_ALPHA, 8], ['price', 32, F_U32], ['match', 36, F_U64]],
  Q: [['shares', 11, F_U64], ['stock', 19, F_ALPHA, 8], ['price', 27, F_U32], ['match', 31, F_U64], ['cross_type', 39, F_CHAR]],
  B: [['match', 11, F_U64]],
  I: [['paired', 11, F_U64], ['imbalance', 19, F_U64], ['dir', 27, F_CHAR], ['stock', 28, F_ALPHA, 8], ['far', 36, F_U32],
    ['near', 40, F_U32], ['ref_price', 44, F_U32], ['cross_type', 48, F_CHAR], ['pvi', 49, F_CHAR]],
  N: [STOCK, ['interest', 19, F_CHAR]],
  O: [STOCK, ['eligible', 19, F_CHAR], ['min_price', 20, F_U32], ['max_price', 24, F_U32], ['near_price', 28, F_U32],
    ['near_time', 32, F_U64], ['lower', 40, F_U32], ['upper', 44, F_U32]],
}
/** Spec length per type byte; 0 = not an ITCH 5.0 type. */
export const ITCH_LENGTHS = new Uint8Array(256)
const SPEC_LENGTHS: Record<string, number> = { S: 12, R: 39, H: 25, Y: 20, L: 26, V: 35, W: 12, K: 28, J: 35, h: 21, A: 36, F: 40,
  E: 31, C: 36, X: 23, D: 19, U: 35, P: 44, Q: 40, B: 19, I: 50, N: 20, O: 48 }
for (const [t, n] of Object.entries(SPEC_LENGTHS)) ITCH_LENGTHS[t.charCodeAt(0)] = n

// Big-endian reads as byte arithmetic: Buffer#readUInt32BE is a call with its own bounds checks that V8
// does not always inline; plain indexing is (decode-itch bench). Callers have checked the message length.
const TWO32 = 2 ** 32
const u16 = (b: Buffer, o: number): number => (b[o] << 8) | b[o + 1]
const u32 = (b: Buffer, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0
const u48 = (b: Buffer, o: number): number => u16(b, o) * TWO32 + u32(b, o + 2)
const u64 = (b: Buffer, o: number): number => u32(b, o) * TWO32 + u32(b, o + 4)
/** hi word below 2^21 (first byte 0, second < 0x20) keeps a u64 exact in a double */
const u64ok = (b: Buffer, o: number): boolean => b[o] === 0 && b[o + 1] < 0x20

/** Generic decoded record: common header fields plus the type's fields by spec name (u64 over 2^53 → NaN). */
export type ItchRecord = Record<string, string | number>

/** Decodes every field of one message into `out` (tests, tools, the reference comparison; builds strings). */
export function decodeItchMessage(buf: Buffer, off: number, len: number, out: ItchRecord): DecodeStatus {
  if (len < 1 || off < 0 || off + len > buf.length) return DECODE_BAD_LENGTH
  const need = ITCH_LENGTHS[buf[off]]
  if (need === 0) return DECODE_UNKNOWN_TYPE
  if (len !== need) return DECODE_BAD_LENGTH
  const type = String.fromCharCode(buf[off])
  out.type = type; out.locate = buf.readUInt16BE(off + OFF_LOCATE); out.tracking = buf.readUInt16BE(off + OFF_TRACKING)
  out.ts = u48(buf, off + OFF_TS); out.length = len
  for (const [name, o, kind, width] of ITCH_FIELDS[type]) {
    const p = off + o
    out[name] = kind === F_U8 ? buf[p] : kind === F_U16 ? buf.readUInt16BE(p) : kind === F_U32 ? buf.readUInt32BE(p)
      : kind === F_U64 ? (u64ok(buf, p) ? u64(buf, p) : Number.NaN) : kind === F_CHAR ? String.fromCharCode(buf[p])
        : buf.toString('latin1', p, p + (width ?? 1)).trimEnd()
  }
  return DECODE_OK
}

/**
 * Epoch µs of midnight America/New_York on `date` ('YYYY-MM-DD'). Computed once per session: US DST
 * switches at 02:00, so midnight is always either UTC-5 or UTC-4; Intl tells which.
 */
export function easternMidnightUs(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  if (!m) throw new RangeError(`session date must be YYYY-MM-DD, got ${date}`)
  const y = Number(m[1]), mo = Number(m[2]) - 1, d = Number(m[3])
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hourCycle: 'h23', hour: '2-digit', day: '2-digit' })
  for (const offH of [4, 5]) {
    const t = Date.UTC(y, mo, d, offH)
    const parts = fmt.formatToParts(new Date(t))
    const hour = Number(parts.find((p) => p.type === 'hour')?.value), day = Number(parts.find((p) => p.type === 'day')?.value)
    if (hour === 0 && day === d) return t * 1000
  }
  throw new RangeError(`no Eastern midnight found for ${date}`)
}

/** Trading state byte → TickSink status code ('H' halted, 'P' paused, 'Q' quotation only, 'T' trading). */
const STATE_MAP = new Uint8Array(256)
STATE_MAP[0x48] = 0x48; STATE_MAP[0x50] = 0x50; STATE_MAP[0x51] = 0x51; STATE_MAP[0x54] = 0x54
const B = 0x42, S = 0x53, Y = 0x59

export interface ItchDecoderOptions extends OrderBookOptions {
  /** trading day of the feed, 'YYYY-MM-DD' (America/New_York); default: today in New York */
  sessionDate?: string
}

/** ITCH 5.0 → order book → top of book + trades + trading status into a TickSink. */
export class ItchDecoder implements PayloadDecoder {
  readonly book: OrderBook
  readonly midnightUs: number
  /** messages per type byte, directory symbols refused by the alphabet, broken trades */
  readonly typeCounts = new Float64Array(256)
  badSymbols = 0
  brokenTrades = 0
  /** per locate: defined or not, and its book's state (late join, partial/synced) */
  readonly locates: ItchLocates
  /** locates.state, read on the hot path without a hop */
  private readonly locState: Uint8Array

  constructor(private readonly sink: TickSink, private readonly stats: FeedStats, opts: ItchDecoderOptions = {}) {
    this.book = new OrderBook(sink, opts)
    this.locates = new ItchLocates(sink, stats); this.locState = this.locates.state
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York' }).format(new Date())
    this.midnightUs = easternMidnightUs(opts.sessionDate ?? today)
  }

  decode(buf: Buffer, off: number, len: number): DecodeStatus {
    const st = this.decodeOne(buf, off, len)
    if (st !== DECODE_OK) {
      this.stats.decodeErrors[st]++; this.stats.quotesRefused = this.book.quotesRejected
      if (st === DECODE_UNKNOWN_SYMBOL) this.locates.unattributable(u16(buf, off + OFF_LOCATE))
    }
    return st
  }

  /** Every book of this feed becomes partial for `reason` (PARTIAL_*, model/book-state.ts); markers written. */
  markAllPartial(reason: number): void { this.locates.markAllPartial(reason) }

  /** Empties every order book (a snapshot is about to rebuild them); symbols and their book states are kept. */
  clearBooks(): void { this.book.clear() }

  /** Every book of this feed is synced again (a snapshot rebuilt them); markers written. */
  markAllSynced(): void { this.locates.markAllSynced() }

  private decodeOne(b: Buffer, o: number, len: number): DecodeStatus {
    if (len < 1 || o < 0 || o + len > b.length) return DECODE_BAD_LENGTH
    const t = b[o], need = ITCH_LENGTHS[t]
    if (need === 0) return DECODE_UNKNOWN_TYPE // skipped by its length (the framing knows it)
    if (len !== need) return DECODE_BAD_LENGTH
    this.typeCounts[t]++
    // ns < 2^48: the correctly rounded ns / 1000 is never within an ulp of the next integer, so floor is exact
    const ts = this.midnightUs + Math.floor(u48(b, o + OFF_TS) / 1000)
    switch (t) {
      case 0x41: case 0x46: { // A, F
        if (!u64ok(b, o + OFF_REF)) return DECODE_BAD_VALUE
        const side = b[o + OFF_A_SIDE], locate = u16(b, o + OFF_LOCATE)
        if (side !== B && side !== S) return DECODE_BAD_VALUE
        if (this.locState[locate] === BOOK_NONE) this.locates.learn(b, o, locate) // late join: once per symbol
        return this.book.add(u64(b, o + OFF_REF), locate, side === B ? SIDE_BID : SIDE_ASK,
          u32(b, o + OFF_A_PRICE), u32(b, o + OFF_A_SHARES), ts)
      }
      case 0x45: case 0x43: return this.executed(b, o, t, ts) // E, C
      case 0x58: { // X
        if (!u64ok(b, o + OFF_REF)) return DECODE_BAD_VALUE
        const unknown = this.book.unknownRefs, st = this.book.reduce(u64(b, o + OFF_REF), u32(b, o + OFF_X_SHARES), ts)
        return this.book.unknownRefs === unknown ? st : this.locates.unknownOrder(t, u16(b, o + OFF_LOCATE))
      }
      case 0x44: { // D
        if (!u64ok(b, o + OFF_REF)) return DECODE_BAD_VALUE
        const unknown = this.book.unknownRefs, st = this.book.delete(u64(b, o + OFF_REF), ts)
        return this.book.unknownRefs === unknown ? st : this.locates.unknownOrder(t, u16(b, o + OFF_LOCATE))
      }
      case 0x55: { // U
        if (!u64ok(b, o + OFF_REF) || !u64ok(b, o + OFF_U_NEW_REF)) return DECODE_BAD_VALUE
        const unknown = this.book.unknownRefs
        const st = this.book.replace(u64(b, o + OFF_REF), u64(b, o + OFF_U_NEW_REF), u32(b, o + OFF_U_SHARES), u32(b, o + OFF_U_PRICE), ts)
        return this.book.unknownRefs === unknown ? st : this.locates.unknownOrder(t, u16(b, o + OFF_LOCATE))
      }
      default: return this.decodeOther(b, o, t, ts)
    }
  }

  /** E/C: one probe (lookup, then reduceAt on the same slot), then the print unless C says non-printable. */
  private executed(b: Buffer, o: number, t: number, ts: number): DecodeStatus {
    if (!u64ok(b, o + OFF_REF) || !u64ok(b, o + OFF_E_MATCH)) return DECODE_BAD_VALUE
    const book = this.book, shares = u32(b, o + OFF_E_SHARES), i = book.lookup(u64(b, o + OFF_REF))
    if (i < 0) return this.locates.unknownOrder(t, u16(b, o + OFF_LOCATE))
    const locate = book.lastLocate, aggressor = book.lastSide === SIDE_BID ? S : B
    const price = t === 0x45 ? book.lastPrice : u32(b, o + OFF_C_PRICE)
    const printable = t === 0x45 || b[o + OFF_C_PRINTABLE] === Y
    book.reduceAt(i, shares, ts)
    if (!printable) return DECODE_OK
    return this.sink.trade(locate, ts, price, shares, u64(b, o + OFF_E_MATCH), aggressor)
  }

  /** Everything but the order messages: rarer, kept out of decodeOne so that one stays small enough to inline. */
  private decodeOther(b: Buffer, o: number, t: number, ts: number): DecodeStatus {
    if (STOCK_OFFSET[t] !== 0 && t !== 0x52 && this.locState[u16(b, o + OFF_LOCATE)] === BOOK_NONE) this.locates.learn(b, o, u16(b, o + OFF_LOCATE))
    switch (t) {
      case 0x50: { // P: a non-displayed order executed; its side is the resting one, the aggressor is the other
        if (!u64ok(b, o + OFF_P_MATCH)) return DECODE_BAD_VALUE
        const side = b[o + OFF_A_SIDE]
        return this.sink.trade(u16(b, o + OFF_LOCATE), ts, u32(b, o + OFF_A_PRICE), u32(b, o + OFF_A_SHARES),
          u64(b, o + OFF_P_MATCH), side === B ? S : side === S ? B : 0)
      }
      case 0x51: { // Q cross trade: one print for the whole cross, if any shares crossed
        if (!u64ok(b, o + OFF_Q_SHARES) || !u64ok(b, o + OFF_Q_MATCH)) return DECODE_BAD_VALUE
        const shares = u64(b, o + OFF_Q_SHARES)
        if (shares === 0) return DECODE_OK
        return this.sink.trade(u16(b, o + OFF_LOCATE), ts, u32(b, o + OFF_Q_PRICE), shares, u64(b, o + OFF_Q_MATCH), 0)
      }
      case 0x42: this.brokenTrades++; return DECODE_OK // B: counted; consumers are not told to unwind prints
      case 0x52: { // R: once per symbol per day, so a string here is fine
        const name = b.toString('latin1', o + OFF_R_STOCK, o + OFF_R_STOCK + 8).trimEnd()
        if (!SYMBOL_PATTERN.test(name)) { this.badSymbols++; return DECODE_OK }
        return this.locates.directory(u16(b, o + OFF_LOCATE), name, -4)
      }
      case 0x48: { // H
        const code = STATE_MAP[b[o + OFF_H_STATE]]
        if (code === 0) return DECODE_BAD_VALUE
        return this.sink.status(u16(b, o + OFF_LOCATE), ts, code)
      }
      default: return DECODE_OK // S, Y, L, V, W, K, J, h, I, N, O: valid, not part of the tick stream
    }
  }
}
