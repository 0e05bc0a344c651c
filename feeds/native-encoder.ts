// Owns the writer of the tickcast native feed protocol v1 (feeds/PROTOCOL.md), for the simulator, tests, benches.
// Must never allocate per message or use BigInt; it trusts its caller's values (the decoder is the validator).
import {
  MSG_QUOTE, MSG_SYMBOL_DIRECTORY, MSG_SYSTEM_EVENT, MSG_TRADE, MSG_TRADING_STATUS,
  OFF_BYTE1, OFF_DIR_PRICE_EXP, OFF_DIR_ROUND_LOT, OFF_DIR_SIZE_EXP, OFF_DIR_SYMBOL, OFF_DIR_TICK, OFF_LOCATE,
  OFF_Q_ASK_PX, OFF_Q_ASK_SZ, OFF_Q_BID_PX, OFF_Q_BID_SZ, OFF_T_ID, OFF_T_PX, OFF_T_SZ, OFF_TS,
  QUOTE_LEN, SYMBOL_DIRECTORY_LEN, SYMBOL_FIELD_BYTES, SYSTEM_EVENT_LEN, TRADE_LEN, TRADING_STATUS_LEN,
} from '../src/feed/decoders/native.js'

// Timestamps: the wire carries u64 ns since epoch, which exceeds 2^53. Callers pass them as two exact
// numbers instead: `tsUs` = whole µs since epoch (a safe integer until year 2255) and `tsNs` = the
// 0..999 ns remainder. That is what the server keeps anyway (µs), without BigInt.
const TWO_32 = 4294967296

// Byte stores instead of Buffer#writeUInt32LE: no range-check call per field (same measurement as the
// decoder's reads). Values are the caller's responsibility: out-of-range input writes wrapped bytes.
function put32(b: Buffer, o: number, v: number): void {
  b[o] = v; b[o + 1] = v >>> 8; b[o + 2] = v >>> 16; b[o + 3] = v >>> 24
}

/** Writes the head shared by every message: type, byte 1, reserved 0, locate, timestamp ns. */
function writeHead(b: Buffer, o: number, type: number, byte1: number, locate: number, tsUs: number, tsNs: number): void {
  b[o] = type; b[o + OFF_BYTE1] = byte1; b[o + 2] = 0; b[o + 3] = 0
  put32(b, o + OFF_LOCATE, locate)
  writeNs(b, o + OFF_TS, tsUs, tsNs)
}

/** ns = us × 1000 + rem as u64 LE: split us into 2^32 halves so every product stays below 2^53. */
export function writeNs(b: Buffer, o: number, tsUs: number, tsNs: number): void {
  const uh = Math.floor(tsUs / TWO_32), ul = tsUs - uh * TWO_32
  const low = ul * 1000 + tsNs // < 4.3e12, exact
  const carry = Math.floor(low / TWO_32)
  put32(b, o, low - carry * TWO_32)
  put32(b, o + 4, uh * 1000 + carry)
}

/** A signed mantissa (|v| ≤ 2^53 - 1) as i64 LE: floor split keeps lo in 0..2^32-1 for negatives too. */
export function writeI64(b: Buffer, o: number, v: number): void {
  const hi = Math.floor(v / TWO_32)
  put32(b, o, v - hi * TWO_32)
  put32(b, o + 4, hi) // `>>> 8` etc. of a negative hi yields its two's-complement bytes
}

export function writeSystemEvent(b: Buffer, o: number, code: number, tsUs: number, tsNs: number): number {
  writeHead(b, o, MSG_SYSTEM_EVENT, code, 0, tsUs, tsNs)
  return SYSTEM_EVENT_LEN
}

/** `symbol` must already match the protocol alphabet (≤ 16 ASCII chars); it is space-padded here. */
export function writeSymbolDirectory(
  b: Buffer, o: number, locate: number, tsUs: number, tsNs: number, symbol: string,
  priceExponent: number, sizeExponent: number, roundLot: number, tickSize: number,
): number {
  writeHead(b, o, MSG_SYMBOL_DIRECTORY, 0, locate, tsUs, tsNs)
  b.writeInt8(priceExponent, o + OFF_DIR_PRICE_EXP)
  b.writeInt8(sizeExponent, o + OFF_DIR_SIZE_EXP)
  const n = b.write(symbol, o + OFF_DIR_SYMBOL, SYMBOL_FIELD_BYTES, 'latin1')
  b.fill(0x20, o + OFF_DIR_SYMBOL + n, o + OFF_DIR_SYMBOL + SYMBOL_FIELD_BYTES)
  b.writeUInt32LE(roundLot, o + OFF_DIR_ROUND_LOT)
  b.writeUInt32LE(tickSize, o + OFF_DIR_TICK)
  return SYMBOL_DIRECTORY_LEN
}

export function writeTradingStatus(b: Buffer, o: number, locate: number, tsUs: number, tsNs: number, status: number): number {
  writeHead(b, o, MSG_TRADING_STATUS, status, locate, tsUs, tsNs)
  return TRADING_STATUS_LEN
}

/** An empty side is price 0 and size 0. */
export function writeQuote(
  b: Buffer, o: number, locate: number, tsUs: number, tsNs: number, flags: number,
  bidPrice: number, bidSize: number, askPrice: number, askSize: number,
): number {
  writeHead(b, o, MSG_QUOTE, flags, locate, tsUs, tsNs)
  writeI64(b, o + OFF_Q_BID_PX, bidPrice); writeI64(b, o + OFF_Q_BID_SZ, bidSize)
  writeI64(b, o + OFF_Q_ASK_PX, askPrice); writeI64(b, o + OFF_Q_ASK_SZ, askSize)
  return QUOTE_LEN
}

/** `side` is 'B' (0x42), 'S' (0x53) or ' ' (0x20); `tradeId` ≤ 2^53 - 1. */
export function writeTrade(
  b: Buffer, o: number, locate: number, tsUs: number, tsNs: number, side: number,
  price: number, size: number, tradeId: number,
): number {
  writeHead(b, o, MSG_TRADE, side, locate, tsUs, tsNs)
  writeI64(b, o + OFF_T_PX, price); writeI64(b, o + OFF_T_SZ, size); writeI64(b, o + OFF_T_ID, tradeId)
  return TRADE_LEN
}
