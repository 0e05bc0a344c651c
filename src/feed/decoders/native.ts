// Owns the reader of the tickcast native feed protocol v1 (feeds/PROTOCOL.md): layouts, validation, µs time.
// Must never throw, allocate per quote/trade, or touch BigInt: it is the ≥ 20 M msg/s ingest hot path.
import { DECODE_BAD_LENGTH, DECODE_BAD_VALUE, DECODE_OK, DECODE_UNKNOWN_TYPE } from '../../errors.js'
import type { DecodeStatus } from '../../errors.js'
import { SYMBOL_PATTERN } from '../../model/symbols.js'
import type { FeedStats } from '../feed-stats.js'
import type { PayloadDecoder, TickSink } from '../../normalize/tick-sink.js'

// Common 16-byte head of every message, little-endian (PROTOCOL.md §2):
// 0      1       2          4        8                16
// | type | byte1 | reserved | locate | timestamp ns u64 |
//
// The layout is declared module-private and exported as aliases: V8 keeps every exported binding in a module cell that
// optimized code re-reads (with a TDZ hole check) at each use, where a private const folds to an immediate. The hot
// paths below use only the private names (with the twins in the normalizer and session: 806 → 513 instructions per
// native quote, callgrind, session frame → ring).
const LOCATE = 4, TS = 8, Q_FLAGS = 1, Q_BID_PX = 16, Q_BID_SZ = 24, Q_ASK_PX = 32, Q_ASK_SZ = 40
const T_SIDE = 1, T_PX = 16, T_SZ = 24, T_ID = 32
const QUOTE = 0x51, TRADE = 0x54, QUOTE_BYTES = 48, TRADE_BYTES = 40
const OK = DECODE_OK, BAD_VALUE = DECODE_BAD_VALUE, BAD_LENGTH = DECODE_BAD_LENGTH
export const OFF_TYPE = 0, OFF_BYTE1 = 1, OFF_LOCATE = LOCATE, OFF_TS = TS

export const MSG_SYSTEM_EVENT = 0x53 // 'S'
export const MSG_SYMBOL_DIRECTORY = 0x52 // 'R'
export const MSG_TRADING_STATUS = 0x48 // 'H'
export const MSG_QUOTE = QUOTE // 'Q'
export const MSG_TRADE = TRADE // 'T'

export const SYSTEM_EVENT_LEN = 16, SYMBOL_DIRECTORY_LEN = 40, TRADING_STATUS_LEN = 16, QUOTE_LEN = QUOTE_BYTES, TRADE_LEN = TRADE_BYTES

// SYMBOL DIRECTORY 'R', 40 bytes
// 0      1      2      3     4        8              16                 32          36          40
// | type | pexp | sexp | rsv | locate | timestamp ns | symbol ASCII x16  | round lot | tick size |
export const OFF_DIR_PRICE_EXP = 1, OFF_DIR_SIZE_EXP = 2, OFF_DIR_SYMBOL = 16, OFF_DIR_ROUND_LOT = 32, OFF_DIR_TICK = 36
export const SYMBOL_FIELD_BYTES = 16
// QUOTE 'Q', 48 bytes
// 0      1       2     4        8              16        24       32        40       48
// | type | flags | rsv | locate | timestamp ns | bid px  | bid sz | ask px  | ask sz |
export const OFF_Q_FLAGS = Q_FLAGS, OFF_Q_BID_PX = Q_BID_PX, OFF_Q_BID_SZ = Q_BID_SZ, OFF_Q_ASK_PX = Q_ASK_PX, OFF_Q_ASK_SZ = Q_ASK_SZ
// TRADE 'T', 40 bytes
// 0      1      2     4        8              16       24       32          40
// | type | side | rsv | locate | timestamp ns | price  | size   | trade id  |
export const OFF_T_SIDE = T_SIDE, OFF_T_PX = T_PX, OFF_T_SZ = T_SZ, OFF_T_ID = T_ID
// SYSTEM EVENT 'S' and TRADING STATUS 'H', 16 bytes: the code is byte 1 of the common head.
export const OFF_CODE = 1

export const QUOTE_FLAG_SNAPSHOT = 0x01, QUOTE_FLAG_INDICATIVE = 0x02
const BUY = 0x42, SELL = 0x53, NO_SIDE = 0x20
export const SIDE_BUY = BUY, SIDE_SELL = SELL, SIDE_UNKNOWN = NO_SIDE
export const STATUS_TRADING = 0x54, STATUS_HALTED = 0x48, STATUS_PAUSED = 0x50, STATUS_QUOTATION_ONLY = 0x51, STATUS_CLOSED = 0x43
export const EVENT_START_OF_MESSAGES = 0x4f, EVENT_START_OF_SYSTEM = 0x53, EVENT_START_OF_MARKET = 0x51
export const EVENT_END_OF_MARKET = 0x4d, EVENT_END_OF_SYSTEM = 0x45, EVENT_END_OF_MESSAGES = 0x43

const LOCATE_MAX = 0xffffff
export const MAX_LOCATE = LOCATE_MAX
export const MAX_EXPONENT = 18
/** 2^21: a 64-bit integer is below 2^53 in magnitude iff its high 32-bit word is below this (see quote()) */
const HI_LIMIT = 0x200000
const TWO_32 = 4294967296
/** timestamps with hi ≥ 1000 × 2^21 would give µs ≥ 2^53 (PROTOCOL.md §2) */
const MAX_TS_HI = 2097152000

// Field reads are plain byte arithmetic: 3.5x faster than Buffer#readUInt32LE here (29 vs 8 M quotes/s,
// /tmp bench of the quote path on Node 20) because V8 inlines them with no range-check call. decode()
// checks that the payload lies inside the buffer first, so no read can run off its end.

/** u32 LE at `o`; the top byte is multiplied, not shifted, so the result stays unsigned. */
export function u32(b: Buffer, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 16777216
}

function i32(b: Buffer, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)
}

/**
 * u64 ns since epoch at `o` → µs since epoch, exact, or -1 when beyond the protocol's bound.
 * 2^32 = 4294967 × 1000 + 296, so ns / 1000 = hi × 4294967 + (hi × 296 + lo) / 1000, all below 2^53.
 */
export function nsToMicros(b: Buffer, o: number): number {
  const hi = u32(b, o + 4)
  if (hi >= MAX_TS_HI) return -1
  return hi * 4294967 + Math.floor((hi * 296 + u32(b, o)) / 1000)
}

/**
 * i64 mantissa at `o`. Exact when |v| ≤ 2^53 - 1; beyond that the sum rounds to ≥ 2^53 in magnitude
 * (monotonic rounding, 2^53 representable), so a single range check by the caller rejects it.
 */
export function readI64(b: Buffer, o: number): number {
  return i32(b, o + 4) * TWO_32 + u32(b, o)
}


const EMPTY = new ArrayBuffer(0)

/** µs from a u64 ns split in halves (see nsToMicros); -1 beyond the protocol's bound. */
function microsOf(lo: number, hi: number): number {
  return hi >= MAX_TS_HI ? -1 : hi * 4294967 + Math.floor((hi * 296 + lo) / 1000)
}

export class NativeDecoder implements PayloadDecoder {
  /** last System Event code seen (ASCII) and its time, for the session's logs; 0 / -1 before any */
  systemEvent = 0
  systemEventTimeUs = -1
  // Quotes and trades are read through one DataView per underlying ArrayBuffer (one per TCP chunk, not per
  // message): V8 inlines DataView reads, where the byte-arithmetic reads overran its inlining budget
  // (in-memory decode to a no-op sink: see the commit message for the figures).
  private chunk: Buffer = Buffer.alloc(0)
  private dv: DataView = new DataView(EMPTY)

  constructor(private readonly sink: TickSink, private readonly stats: FeedStats) {}

  /** Decodes one payload; every non-OK status is counted in stats.decodeErrors here (callers must not recount). */
  decode(buf: Buffer, off: number, len: number): DecodeStatus {
    let st: DecodeStatus
    // A payload that does not lie inside buf would make the read methods throw: reject it up front.
    if (len <= 0 || off < 0 || off + len > buf.length) st = BAD_LENGTH
    else {
      if (buf !== this.chunk) this.view(buf) // identity check only: reading buf.buffer per message costs more than the decode
      const type = buf[off]
      if (type === QUOTE) st = len === QUOTE_BYTES ? this.quote(this.dv, off) : BAD_LENGTH // the hot case first
      else if (type === TRADE) st = len === TRADE_BYTES ? this.trade(this.dv, off) : BAD_LENGTH
      else st = this.control(buf, off, len, type)
    }
    if (st !== OK) this.stats.decodeErrors[st]++
    return st
  }

  /** Everything but quotes and trades: rare, out of line so decode() stays small enough to inline into the session. */
  private control(buf: Buffer, off: number, len: number, type: number): DecodeStatus {
    switch (type) {
      case MSG_TRADING_STATUS: return len === TRADING_STATUS_LEN ? this.status(buf, off) : DECODE_BAD_LENGTH
      case MSG_SYMBOL_DIRECTORY: return len === SYMBOL_DIRECTORY_LEN ? this.directory(buf, off) : DECODE_BAD_LENGTH
      case MSG_SYSTEM_EVENT: return len === SYSTEM_EVENT_LEN ? this.systemEventMsg(buf, off) : DECODE_BAD_LENGTH
      default: return DECODE_UNKNOWN_TYPE // newer message types: skipped by design (PROTOCOL.md §4)
    }
  }

  private view(buf: Buffer): void {
    this.chunk = buf
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.length)
  }

  private quote(v: DataView, o: number): DecodeStatus {
    const locate = v.getUint32(o + LOCATE, true), us = microsOf(v.getUint32(o + TS, true), v.getUint32(o + TS + 4, true))
    // Range checks on the signed high words, in integer arithmetic: a mantissa m is within ±(2^53 - 1) iff its high
    // word h is in [-2^21, 2^21) and not m = -2^53 (h = -2^21, low word 0); a size in [0, 2^53) iff h is in [0, 2^21).
    const bpHi = v.getInt32(o + Q_BID_PX + 4, true), bpLo = v.getUint32(o + Q_BID_PX, true)
    const bsHi = v.getInt32(o + Q_BID_SZ + 4, true), bsLo = v.getUint32(o + Q_BID_SZ, true)
    const apHi = v.getInt32(o + Q_ASK_PX + 4, true), apLo = v.getUint32(o + Q_ASK_PX, true)
    const asHi = v.getInt32(o + Q_ASK_SZ + 4, true), asLo = v.getUint32(o + Q_ASK_SZ, true)
    // An empty side (size 0) carries price 0.
    if (locate === 0 || locate > LOCATE_MAX || us < 0 ||
        (bsHi >>> 0) >= HI_LIMIT || (asHi >>> 0) >= HI_LIMIT ||
        ((bpHi + HI_LIMIT) >>> 0) >= 2 * HI_LIMIT || (bpHi === -HI_LIMIT && bpLo === 0) ||
        ((apHi + HI_LIMIT) >>> 0) >= 2 * HI_LIMIT || (apHi === -HI_LIMIT && apLo === 0) ||
        ((bsHi | bsLo) === 0 && (bpHi | bpLo) !== 0) || ((asHi | asLo) === 0 && (apHi | apLo) !== 0)) return BAD_VALUE
    return this.sink.quote(locate, us, bpHi * TWO_32 + bpLo, bsHi * TWO_32 + bsLo, apHi * TWO_32 + apLo, asHi * TWO_32 + asLo, v.getUint8(o + Q_FLAGS))
  }

  private trade(v: DataView, o: number): DecodeStatus {
    const locate = v.getUint32(o + LOCATE, true), us = microsOf(v.getUint32(o + TS, true), v.getUint32(o + TS + 4, true))
    const side = v.getUint8(o + T_SIDE)
    const pxHi = v.getInt32(o + T_PX + 4, true), pxLo = v.getUint32(o + T_PX, true)
    const szHi = v.getInt32(o + T_SZ + 4, true), szLo = v.getUint32(o + T_SZ, true)
    const idHi = v.getUint32(o + T_ID + 4, true), idLo = v.getUint32(o + T_ID, true)
    // Same high-word range checks as quote(); a size must also be > 0, a trade id (unsigned) below 2^53.
    if (locate === 0 || locate > LOCATE_MAX || us < 0 || (szHi >>> 0) >= HI_LIMIT || (szHi | szLo) === 0 ||
        ((pxHi + HI_LIMIT) >>> 0) >= 2 * HI_LIMIT || (pxHi === -HI_LIMIT && pxLo === 0) || idHi >= HI_LIMIT ||
        (side !== BUY && side !== SELL && side !== NO_SIDE)) return BAD_VALUE
    return this.sink.trade(locate, us, pxHi * TWO_32 + pxLo, szHi * TWO_32 + szLo, idHi * TWO_32 + idLo, side)
  }

  private status(b: Buffer, o: number): DecodeStatus {
    const locate = u32(b, o + OFF_LOCATE), us = nsToMicros(b, o + OFF_TS), code = b[o + OFF_CODE]
    if (locate === 0 || locate > MAX_LOCATE || us < 0 || !isStatusCode(code)) return DECODE_BAD_VALUE
    return this.sink.status(locate, us, code)
  }

  /** Rare (once per symbol per session): allocating the name string here is fine. */
  private directory(b: Buffer, o: number): DecodeStatus {
    const locate = u32(b, o + OFF_LOCATE), us = nsToMicros(b, o + OFF_TS)
    const pexp = b.readInt8(o + OFF_DIR_PRICE_EXP), sexp = b.readInt8(o + OFF_DIR_SIZE_EXP)
    const lot = u32(b, o + OFF_DIR_ROUND_LOT), tick = u32(b, o + OFF_DIR_TICK)
    if (locate === 0 || locate > MAX_LOCATE || us < 0 || lot === 0 || tick === 0 ||
        pexp < -MAX_EXPONENT || pexp > MAX_EXPONENT || sexp < -MAX_EXPONENT || sexp > MAX_EXPONENT) return DECODE_BAD_VALUE
    let end = o + OFF_DIR_SYMBOL + SYMBOL_FIELD_BYTES
    while (end > o + OFF_DIR_SYMBOL && b[end - 1] === 0x20) end--
    const name = b.toString('latin1', o + OFF_DIR_SYMBOL, end)
    if (!SYMBOL_PATTERN.test(name)) return DECODE_BAD_VALUE
    return this.sink.defineSymbol(locate, name, pexp, sexp)
  }

  private systemEventMsg(b: Buffer, o: number): DecodeStatus {
    const us = nsToMicros(b, o + OFF_TS), code = b[o + OFF_CODE]
    if (us < 0 || !isEventCode(code)) return DECODE_BAD_VALUE
    this.systemEvent = code; this.systemEventTimeUs = us
    return DECODE_OK
  }
}

function isStatusCode(c: number): boolean {
  return c === STATUS_TRADING || c === STATUS_HALTED || c === STATUS_PAUSED || c === STATUS_QUOTATION_ONLY || c === STATUS_CLOSED
}

function isEventCode(c: number): boolean {
  return c === EVENT_START_OF_MESSAGES || c === EVENT_START_OF_SYSTEM || c === EVENT_START_OF_MARKET ||
    c === EVENT_END_OF_MARKET || c === EVENT_END_OF_SYSTEM || c === EVENT_END_OF_MESSAGES
}
