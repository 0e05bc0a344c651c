// Owns IEX TOPS 1.6 message decoding: wire layouts, field extraction, symbol caching, calls into a TickSink.
// Must never allocate per message on the hot path: symbols resolve through a cache keyed by their 8 bytes.
import { DECODE_BAD_LENGTH, DECODE_BAD_VALUE, DECODE_OK, DECODE_UNKNOWN_SYMBOL, DECODE_UNKNOWN_TYPE } from '../../errors.js'
import type { DecodeStatus } from '../../errors.js'
import type { PayloadDecoder, TickSink } from '../../normalize/tick-sink.js'
import { SYMBOL_PATTERN } from '../../model/symbols.js'
import type { FeedStats } from '../feed-stats.js'
import { UNATTRIBUTABLE_BAD_SYMBOL, UNATTRIBUTABLE_REFUSED } from '../feed-stats.js'

// Every TOPS 1.6 message is little-endian and opens with | type u8 | flags/status u8 | timestamp i64 ns |.
// Prices are i64 with 4 implied decimals; symbols are 8 ASCII bytes, right-padded with spaces.
// S System Event 10      | S | event | ts |
// D Security Dir 31      | D | flags | ts | symbol 8 | round lot u32 | adj POC px i64 | LULD tier u8 |
// H Trading Status 22    | H | status | ts | symbol 8 | reason 4 ASCII |
// O Operational Halt 18  | O | status | ts | symbol 8 |
// P Short Sale Test 19   | P | status | ts | symbol 8 | detail u8 |
// Q Quote Update 42      | Q | flags | ts | symbol 8 | bid size u32 | bid px i64 | ask px i64 | ask size u32 |
// T Trade Report 38      | T | sale cond flags | ts | symbol 8 | size u32 | price i64 | trade id i64 |
// B Trade Break 38       same layout as T
// X Official Price 26    | X | price type | ts | symbol 8 | price i64 |
// I Retail Liquidity 18  | I | indicator | ts | symbol 8 |
// A Auction Info 80      | A | auction type | ts | symbol 8 | paired u32 | ref px i64 | indicative px i64 |
//                        imbalance u32 @38 | side u8 @42 | extension u8 @43 | scheduled time u32 s @44 |
//                        book clearing px i64 @48 | collar ref px i64 @56 | lower collar @64 | upper collar @72
export const OFF_TYPE = 0, OFF_FLAGS = 1, OFF_TS = 2, OFF_SYMBOL = 10, OFF_BODY = 18
export const OFF_Q_BID_SIZE = 18, OFF_Q_BID_PX = 22, OFF_Q_ASK_PX = 30, OFF_Q_ASK_SIZE = 38
export const OFF_T_SIZE = 18, OFF_T_PRICE = 22, OFF_T_TRADE_ID = 30
export const OFF_D_ROUND_LOT = 18, OFF_D_ADJ_POC = 22, OFF_D_LULD_TIER = 30
export const OFF_H_REASON = 18, OFF_P_DETAIL = 18, OFF_X_PRICE = 18
export const OFF_A_PAIRED = 18, OFF_A_REF_PX = 22, OFF_A_IND_PX = 30, OFF_A_IMBALANCE = 38, OFF_A_SIDE = 42
export const OFF_A_EXTENSION = 43, OFF_A_SCHEDULED = 44, OFF_A_BOOK_PX = 48, OFF_A_COLLAR_REF = 56
export const OFF_A_LOWER = 64, OFF_A_UPPER = 72

export const T_SYSTEM = 0x53, T_DIRECTORY = 0x44, T_STATUS = 0x48, T_OP_HALT = 0x4f, T_SSR = 0x50
export const T_QUOTE = 0x51, T_TRADE = 0x54, T_BREAK = 0x42, T_OFFICIAL = 0x58, T_RETAIL = 0x49, T_AUCTION = 0x41
/** Required length per type byte (0 = not a TOPS 1.6 type); longer messages are accepted (spec allows growth). */
const LENGTHS = new Uint8Array(256)
export const TOPS_LENGTHS = LENGTHS
TOPS_LENGTHS[T_SYSTEM] = 10; TOPS_LENGTHS[T_DIRECTORY] = 31; TOPS_LENGTHS[T_STATUS] = 22
TOPS_LENGTHS[T_OP_HALT] = 18; TOPS_LENGTHS[T_SSR] = 19; TOPS_LENGTHS[T_QUOTE] = 42; TOPS_LENGTHS[T_TRADE] = 38
TOPS_LENGTHS[T_BREAK] = 38; TOPS_LENGTHS[T_OFFICIAL] = 26; TOPS_LENGTHS[T_RETAIL] = 18; TOPS_LENGTHS[T_AUCTION] = 80

const PRICE_EXPONENT = -4, SIZE_EXPONENT = 0
// Private twins for the per-message path: V8 re-reads every exported or imported binding from its module cell (with a
// TDZ hole check) at each use in optimized code, where a private const folds to an immediate. With the range checks
// reading the high words once (below), this won back the ~15 % the checks had cost (bench:decode, tops row).
const QUOTE = 0x51, TRADE = 0x54, STATUS = 0x48, BREAK = 0x42
const FLAGS = 1, TS = 2, SYMBOL = 10, Q_BID_SIZE = 18, Q_BID_PX = 22, Q_ASK_PX = 30, Q_ASK_SIZE = 38
const T_SIZE = 18, T_PRICE = 22, T_TRADE_ID = 30
const OK = DECODE_OK, BAD_LENGTH = DECODE_BAD_LENGTH, BAD_VALUE = DECODE_BAD_VALUE, UNKNOWN_TYPE = DECODE_UNKNOWN_TYPE
const UNKNOWN_SYMBOL = DECODE_UNKNOWN_SYMBOL
/** 2^21: an i64 is exact in a double when its high word h satisfies -2^21 < h < 2^21 (a u64: h < 2^21) */
const HI_LIMIT = 0x200000
const TWO32 = 2 ** 32
/** Signed i64 LE; exact below 2^53 in magnitude (IEX prices are far below). */
const i64 = (b: Buffer, o: number): number => b.readInt32LE(o + 4) * TWO32 + b.readUInt32LE(o)
const u64 = (b: Buffer, o: number): number => b.readUInt32LE(o + 4) * TWO32 + b.readUInt32LE(o)
/** Refused symbols (invalid, or refused by the sink) the cache remembers; past this they cost a lookup each, not memory. */
export const TOPS_REFUSED_CACHE_LIMIT = 4096
/** cached locate of a symbol that fails SYMBOL_PATTERN (vs -1: refused by the sink) */
const LOC_BAD_SYMBOL = -2
/** ns since epoch (i64 LE) → µs, exact: 2^32 = 4294967·1000 + 296, so no partial product passes 2^53. */
export const nsToUs = (b: Buffer, o: number): number => {
  const hi = b.readUInt32LE(o + 4), lo = b.readUInt32LE(o)
  return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000)
}
const nsRem = (b: Buffer, o: number): number => (b.readUInt32LE(o + 4) * 296 + b.readUInt32LE(o)) % 1000

/** Trading status byte → TickSink status code. 'O' (order acceptance period) quotes without trading. */
const STATUS_MAP = new Uint8Array(256)
STATUS_MAP[0x48] = 0x48; STATUS_MAP[0x50] = 0x50; STATUS_MAP[0x54] = 0x54; STATUS_MAP[0x4f] = 0x51

/** Every field of any TOPS message, for tests and tools (strings are built here: not the hot path). */
export class TopsMessage {
  type = ''
  flags = 0
  tsUs = 0
  tsNsRem = 0
  symbol = ''
  /** status/event/detail as a one-character string where the field is ASCII */
  code = ''
  size = 0
  price = 0
  bidSize = 0
  bidPrice = 0
  askPrice = 0
  askSize = 0
  tradeId = 0
  roundLot = 0
  luldTier = 0
  reason = ''
  auction = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
}

export function decodeTopsMessage(buf: Buffer, off: number, len: number, out: TopsMessage): DecodeStatus {
  if (len < 1 || off + len > buf.length) return DECODE_BAD_LENGTH
  const t = buf[off], need = TOPS_LENGTHS[t]
  if (need === 0) return DECODE_UNKNOWN_TYPE
  if (len < need) return DECODE_BAD_LENGTH
  out.type = String.fromCharCode(t); out.flags = buf[off + OFF_FLAGS]
  out.tsUs = nsToUs(buf, off + OFF_TS); out.tsNsRem = nsRem(buf, off + OFF_TS)
  out.symbol = t === T_SYSTEM ? '' : symbolString(buf, off + OFF_SYMBOL)
  out.code = String.fromCharCode(out.flags)
  switch (t) {
    case T_QUOTE:
      out.bidSize = buf.readUInt32LE(off + OFF_Q_BID_SIZE); out.bidPrice = i64(buf, off + OFF_Q_BID_PX)
      out.askPrice = i64(buf, off + OFF_Q_ASK_PX); out.askSize = buf.readUInt32LE(off + OFF_Q_ASK_SIZE); break
    case T_TRADE: case T_BREAK:
      out.size = buf.readUInt32LE(off + OFF_T_SIZE); out.price = i64(buf, off + OFF_T_PRICE)
      out.tradeId = u64(buf, off + OFF_T_TRADE_ID); break
    case T_DIRECTORY:
      out.roundLot = buf.readUInt32LE(off + OFF_D_ROUND_LOT); out.price = i64(buf, off + OFF_D_ADJ_POC)
      out.luldTier = buf[off + OFF_D_LULD_TIER]; break
    case T_STATUS: out.reason = buf.toString('latin1', off + OFF_H_REASON, off + OFF_H_REASON + 4).trimEnd(); break
    case T_SSR: out.reason = String.fromCharCode(buf[off + OFF_P_DETAIL]); break
    case T_OFFICIAL: out.price = i64(buf, off + OFF_X_PRICE); break
    case T_AUCTION: {
      const a = out.auction
      a[0] = buf.readUInt32LE(off + OFF_A_PAIRED); a[1] = i64(buf, off + OFF_A_REF_PX); a[2] = i64(buf, off + OFF_A_IND_PX)
      a[3] = buf.readUInt32LE(off + OFF_A_IMBALANCE); a[4] = buf[off + OFF_A_SIDE]; a[5] = buf[off + OFF_A_EXTENSION]
      a[6] = buf.readUInt32LE(off + OFF_A_SCHEDULED); a[7] = i64(buf, off + OFF_A_BOOK_PX)
      a[8] = i64(buf, off + OFF_A_COLLAR_REF); a[9] = i64(buf, off + OFF_A_LOWER); a[10] = i64(buf, off + OFF_A_UPPER)
      break
    }
  }
  return DECODE_OK
}

function symbolString(buf: Buffer, o: number): string {
  let end = o + 8
  while (end > o && (buf[end - 1] === 0x20 || buf[end - 1] === 0)) end--
  return buf.toString('latin1', o, end)
}

/**
 * 8-byte symbol → sink locate, open addressing on the two u32 halves (linear probing, power-of-two).
 * A symbol the sink rejects is cached as -1 (-2: not a valid symbol) so it costs no string per message either, up to
 * TOPS_REFUSED_CACHE_LIMIT of them: a feed sending garbage symbols cannot grow the cache without bound.
 */
export class SymbolCache {
  /** refused symbols held; accepted ones are bounded by the symbol table's capacity */
  refused = 0
  private hi = new Uint32Array(1024)
  private lo = new Uint32Array(1024)
  private loc = new Int32Array(1024)
  private used = new Uint8Array(1024)
  private count = 0
  constructor(private readonly sink: TickSink) {}

  locate(buf: Buffer, o: number): number {
    const lo = u32(buf, o), hi = u32(buf, o + 4)
    const mask = this.used.length - 1
    let i = (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 15) & mask
    while (this.used[i] === 1) {
      if (this.lo[i] === lo && this.hi[i] === hi) return this.loc[i]
      i = (i + 1) & mask
    }
    const name = symbolString(buf, o)
    const l = SYMBOL_PATTERN.test(name) ? Math.max(-1, this.sink.locateOf(name, PRICE_EXPONENT, SIZE_EXPONENT)) : LOC_BAD_SYMBOL
    if (l < 0 && this.refused >= TOPS_REFUSED_CACHE_LIMIT) return l
    if (l < 0) this.refused++
    this.used[i] = 1; this.lo[i] = lo; this.hi[i] = hi; this.loc[i] = l
    if (++this.count * 2 > this.used.length) this.grow()
    return l
  }

  /** Slots held (bounded: symbol capacity + TOPS_REFUSED_CACHE_LIMIT). */
  get size(): number { return this.count }

  private grow(): void {
    const oh = this.hi, ol = this.lo, oc = this.loc, ou = this.used, n = ou.length * 2, mask = n - 1
    this.hi = new Uint32Array(n); this.lo = new Uint32Array(n); this.loc = new Int32Array(n); this.used = new Uint8Array(n)
    for (let j = 0; j < ou.length; j++) {
      if (ou[j] === 0) continue
      let i = (Math.imul(ol[j] ^ Math.imul(oh[j], 0x9e3779b1), 0x85ebca6b) >>> 15) & mask
      while (this.used[i] === 1) i = (i + 1) & mask
      this.used[i] = 1; this.lo[i] = ol[j]; this.hi[i] = oh[j]; this.loc[i] = oc[j]
    }
  }
}

/** Little-endian u32 from byte reads: V8 inlines these with no range-check call, unlike Buffer#readUInt32LE (decode() checked the bounds). */
function u32(b: Buffer, o: number): number { return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 16777216 }
function i32(b: Buffer, o: number): number { return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24) }
/** ns (u64 LE at o) → µs, exact; as nsToUs, from byte reads */
function micros(b: Buffer, o: number): number { const hi = u32(b, o + 4); return hi * 4294967 + Math.floor((hi * 296 + u32(b, o)) / 1000) }

/** TOPS 1.6 → TickSink. Quote, trade and trading status reach the sink; the rest is counted only. */
export class TopsDecoder implements PayloadDecoder {
  readonly symbols: SymbolCache
  /** messages per type byte, for tests and metrics */
  readonly typeCounts = new Float64Array(256)
  tradeBreaks = 0
  /** the negative locate of the last unknown symbol (why it is unattributable) */
  private missReason = 0
  constructor(private readonly sink: TickSink, private readonly stats: FeedStats) {
    this.symbols = new SymbolCache(sink)
  }

  decode(buf: Buffer, off: number, len: number): DecodeStatus {
    const st = this.decodeOne(buf, off, len)
    if (st !== OK) this.count(st)
    return st
  }

  /** Out of line: the error path must not weigh on decode()'s inlining budget. */
  private count(st: DecodeStatus): void {
    this.stats.decodeErrors[st]++
    if (st === DECODE_UNKNOWN_SYMBOL) this.stats.unattributable[this.missReason === LOC_BAD_SYMBOL ? UNATTRIBUTABLE_BAD_SYMBOL : UNATTRIBUTABLE_REFUSED]++
  }

  private decodeOne(buf: Buffer, off: number, len: number): DecodeStatus {
    if (len < 1 || off < 0 || off + len > buf.length) return BAD_LENGTH
    const t = buf[off], need = LENGTHS[t]
    if (need === 0) return UNKNOWN_TYPE // skipped: the caller moves on by its length
    if (len < need) return BAD_LENGTH
    this.typeCounts[t]++
    if (t === QUOTE) return this.quote(buf, off)
    if (t === TRADE) return this.trade(buf, off)
    if (t === STATUS) return this.status(buf, off)
    if (t === BREAK) this.tradeBreaks++
    return OK
  }

  private quote(b: Buffer, o: number): DecodeStatus {
    // Each price's high word is read once, for the range check and the value (a value beyond ±2^53 is refused, never
    // rounded into the ring).
    const bpHi = i32(b, o + Q_BID_PX + 4), apHi = i32(b, o + Q_ASK_PX + 4)
    if (bpHi <= -HI_LIMIT || bpHi >= HI_LIMIT || apHi <= -HI_LIMIT || apHi >= HI_LIMIT) return BAD_VALUE
    const loc = this.symbols.locate(b, o + SYMBOL)
    if (loc < 0) { this.missReason = loc; return UNKNOWN_SYMBOL }
    return this.sink.quote(loc, micros(b, o + TS), bpHi * TWO32 + u32(b, o + Q_BID_PX), u32(b, o + Q_BID_SIZE),
      apHi * TWO32 + u32(b, o + Q_ASK_PX), u32(b, o + Q_ASK_SIZE), b[o + FLAGS])
  }

  private trade(b: Buffer, o: number): DecodeStatus {
    const pxHi = i32(b, o + T_PRICE + 4), idHi = u32(b, o + T_TRADE_ID + 4)
    if (pxHi <= -HI_LIMIT || pxHi >= HI_LIMIT || idHi >= HI_LIMIT) return BAD_VALUE
    const loc = this.symbols.locate(b, o + SYMBOL)
    if (loc < 0) { this.missReason = loc; return UNKNOWN_SYMBOL }
    // TOPS does not say which side was the aggressor: side 0.
    return this.sink.trade(loc, micros(b, o + TS), pxHi * TWO32 + u32(b, o + T_PRICE), u32(b, o + T_SIZE),
      idHi * TWO32 + u32(b, o + T_TRADE_ID), 0)
  }

  private status(b: Buffer, o: number): DecodeStatus {
    const code = STATUS_MAP[b[o + FLAGS]]
    if (code === 0) return BAD_VALUE // not a TOPS 1.6 status: counted, no tick
    const loc = this.symbols.locate(b, o + SYMBOL)
    if (loc < 0) { this.missReason = loc; return UNKNOWN_SYMBOL }
    return this.sink.status(loc, micros(b, o + TS), code)
  }
}
