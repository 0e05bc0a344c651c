// Owns the bus's binary encoding of one normalized event (a fixed 52-byte little-endian record) and its subjects.
// Must never allocate per event on the publish path: records are written into a caller's buffer.
import {
  KIND_BOOK, KIND_FRESH, KIND_QUOTE, KIND_STALE, KIND_STATUS, KIND_SYMBOL, KIND_TRADE,
} from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'

/**
 * | 0 kind u8 | 1 code u8 | 2 priceExp i8 | 3 sizeExp i8 | 4 n f64 | 12 exchTimeUs f64 | 20 a | 28 b | 36 c | 44 d (f64) |
 * quote: a..d = bid, bidSize, ask, askSize; trade: a = price, b = size, c = tradeId; status/markers (stale, fresh, book
 * state: code = PARTIAL_* reason, 0 = synced): code only.
 * Prices and sizes stay integer mantissas in the symbol's exponents (carried on every record: a record is
 * self-describing, so an edge seeded from one last message per subject needs nothing else).
 */
export const BUS_RECORD_BYTES = 52

/** Subject part per ring kind: `md.v1.{kind}.{SYMBOL}`. */
export const KIND_SUBJECTS: Record<number, string> = {
  [KIND_QUOTE]: 'q', [KIND_TRADE]: 't', [KIND_STATUS]: 'st', [KIND_SYMBOL]: 'sym', [KIND_STALE]: 'stale', [KIND_FRESH]: 'fresh',
  [KIND_BOOK]: 'book',
}

export function subjectOf(prefix: string, kind: number, symbol: string): string { return `${prefix}.${KIND_SUBJECTS[kind]}.${symbol}` }

/** Ring slot `i` of symbol exponents px/qx into buf at off; returns the offset after the record. */
export function writeRecord(r: TickRing, i: number, px: number, qx: number, buf: Buffer, off: number): number {
  const k = r.kind[i]
  buf[off] = k; buf[off + 1] = r.code[i]; buf.writeInt8(px, off + 2); buf.writeInt8(qx, off + 3)
  buf.writeDoubleLE(r.symbolSeq[i], off + 4); buf.writeDoubleLE(r.exchTimeUs[i], off + 12)
  let a = 0, b = 0, c = 0, d = 0
  if (k === KIND_QUOTE) { a = r.bidPrice[i]; b = r.bidSize[i]; c = r.askPrice[i]; d = r.askSize[i] }
  else if (k === KIND_TRADE) { a = r.tradePrice[i]; b = r.tradeSize[i]; c = r.tradeId[i] }
  buf.writeDoubleLE(a, off + 20); buf.writeDoubleLE(b, off + 28); buf.writeDoubleLE(c, off + 36); buf.writeDoubleLE(d, off + 44)
  return off + BUS_RECORD_BYTES
}

/** One decoded record (edges and tests; the edge copies the fields into its ring). */
export interface BusRecord { kind: number; code: number; px: number; qx: number; n: number; timeUs: number; a: number; b: number; c: number; d: number }

export function readRecord(buf: Uint8Array, off: number, out: BusRecord): BusRecord {
  const v = new DataView(buf.buffer, buf.byteOffset + off, BUS_RECORD_BYTES)
  out.kind = v.getUint8(0); out.code = v.getUint8(1); out.px = v.getInt8(2); out.qx = v.getInt8(3)
  out.n = v.getFloat64(4, true); out.timeUs = v.getFloat64(12, true)
  out.a = v.getFloat64(20, true); out.b = v.getFloat64(28, true); out.c = v.getFloat64(36, true); out.d = v.getFloat64(44, true)
  return out
}

export function newRecord(): BusRecord { return { kind: 0, code: 0, px: 0, qx: 0, n: 0, timeUs: 0, a: 0, b: 0, c: 0, d: 0 } }
