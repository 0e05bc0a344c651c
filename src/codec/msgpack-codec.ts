// Owns the MessagePack wire format of data messages: the JSON shapes with integer mantissas + exponents.
// Must never pack through a generic encoder on the hot path: maps are written byte by byte, no allocation.
import type { LastValueCache } from '../cache/last-value-cache.js'
import type { SymbolTable } from '../model/symbols.js'
import { BOOK_NONE, BOOK_STATES, PARTIAL_REASONS, bookStateOf } from '../model/book-state.js'
import { STALE_REASONS } from '../model/staleness.js'
import { writeBytes } from './ascii.js'

// Keys as fixstr (0xa0 | length, then ASCII): precomputed once.
function key(s: string): Buffer { const b = Buffer.alloc(s.length + 1); b[0] = 0xa0 | s.length; b.write(s, 1, 'latin1'); return b }
const E = key('e'), S = key('s'), N = key('n'), BP = key('bp'), BS = key('bs'), AP = key('ap'), AS = key('as')
const PX = key('px'), QX = key('qx'), T = key('t'), P = key('p'), Q = key('q'), SIDE = key('side'), ID = key('id')
const ST = key('st'), QT = key('qt'), TT = key('tt')
const V_Q = key('q'), V_T = key('t'), V_ST = key('st'), V_SNAP = key('snap'), V_STALE = key('stale'), V_FRESH = key('fresh')
const STALE = key('stale'), REASON = key('reason'), BOOK = key('book'), STATE = key('state'), V_BOOK = key('book'), FEED = key('feed')
const BOOK_MP = BOOK_STATES.map((b) => key(b)), PARTIAL_MP = PARTIAL_REASONS.map((r) => key(r))
/** reason strings as fixstr by STALE_* code (index 0, fresh, is nil) */
const REASON_MP = STALE_REASONS.map((r, k) => (k === 0 ? Buffer.from([0xc0]) : key(r)))
const NIL = 0xc0
/** Largest bytes one msgpack event or snapshot can take. */
export const MSGPACK_EVENT_MAX_BYTES = 256

/**
 * Writes an integer |v| ≤ 2^53 in the shortest msgpack form. Beyond 32 bits it is written as float64,
 * which holds it exactly and which every decoder returns as a plain number (msgpackr, for one, turns
 * int64 into BigInt by default, which would break clients doing arithmetic on timestamps).
 */
export function writeMpInt(buf: Buffer, off: number, v: number): number {
  if (v >= 0) {
    if (v < 128) { buf[off] = v; return off + 1 }
    if (v < 256) { buf[off] = 0xcc; buf[off + 1] = v; return off + 2 }
    if (v < 65536) { buf[off] = 0xcd; buf.writeUInt16BE(v, off + 1); return off + 3 }
    if (v < 4294967296) { buf[off] = 0xce; buf.writeUInt32BE(v, off + 1); return off + 5 }
    buf[off] = 0xcb; buf.writeDoubleBE(v, off + 1); return off + 9
  }
  if (v >= -32) { buf[off] = v & 0xff; return off + 1 }
  if (v >= -128) { buf[off] = 0xd0; buf.writeInt8(v, off + 1); return off + 2 }
  if (v >= -32768) { buf[off] = 0xd1; buf.writeInt16BE(v, off + 1); return off + 3 }
  if (v >= -2147483648) { buf[off] = 0xd2; buf.writeInt32BE(v, off + 1); return off + 5 }
  buf[off] = 0xcb; buf.writeDoubleBE(v, off + 1); return off + 9
}

function writeChar(buf: Buffer, off: number, code: number): number {
  if (code === 0 || code === 32) { buf[off] = NIL; return off + 1 }
  buf[off] = 0xa1; buf[off + 1] = code; return off + 2
}

function writeOptInt(buf: Buffer, off: number, present: boolean, v: number): number {
  if (!present) { buf[off] = NIL; return off + 1 }
  return writeMpInt(buf, off, v)
}

/** Array header for a batch of `count` events (array16 always: the size is patched in after the batch). */
export function writeMsgpackFrameHeader(buf: Buffer, off: number, count: number): number {
  buf[off] = 0xdc; buf.writeUInt16BE(count, off + 1); return off + 3
}
export const MSGPACK_FRAME_MAX_EVENTS = 65535

export function writeQuoteMsgpack(buf: Buffer, off: number, sym: Buffer, n: number, bp: number, bs: number, ap: number, as: number, px: number, qx: number, tUs: number): number {
  buf[off++] = 0x8a
  off = writeBytes(buf, off, E); off = writeBytes(buf, off, V_Q)
  off = writeBytes(buf, off, S); off = writeBytes(buf, off, sym)
  off = writeBytes(buf, off, N); off = writeMpInt(buf, off, n)
  off = writeBytes(buf, off, BP); off = writeMpInt(buf, off, bp)
  off = writeBytes(buf, off, BS); off = writeMpInt(buf, off, bs)
  off = writeBytes(buf, off, AP); off = writeMpInt(buf, off, ap)
  off = writeBytes(buf, off, AS); off = writeMpInt(buf, off, as)
  off = writeBytes(buf, off, PX); off = writeMpInt(buf, off, px)
  off = writeBytes(buf, off, QX); off = writeMpInt(buf, off, qx)
  off = writeBytes(buf, off, T); return writeMpInt(buf, off, tUs)
}

export function writeTradeMsgpack(buf: Buffer, off: number, sym: Buffer, n: number, p: number, q: number, side: number, id: number, px: number, qx: number, tUs: number): number {
  buf[off++] = 0x8a
  off = writeBytes(buf, off, E); off = writeBytes(buf, off, V_T)
  off = writeBytes(buf, off, S); off = writeBytes(buf, off, sym)
  off = writeBytes(buf, off, N); off = writeMpInt(buf, off, n)
  off = writeBytes(buf, off, P); off = writeMpInt(buf, off, p)
  off = writeBytes(buf, off, Q); off = writeMpInt(buf, off, q)
  off = writeBytes(buf, off, SIDE); off = writeChar(buf, off, side)
  off = writeBytes(buf, off, ID); off = writeMpInt(buf, off, id)
  off = writeBytes(buf, off, PX); off = writeMpInt(buf, off, px)
  off = writeBytes(buf, off, QX); off = writeMpInt(buf, off, qx)
  off = writeBytes(buf, off, T); return writeMpInt(buf, off, tUs)
}

export function writeStatusMsgpack(buf: Buffer, off: number, sym: Buffer, n: number, code: number, tUs: number): number {
  buf[off++] = 0x85
  off = writeBytes(buf, off, E); off = writeBytes(buf, off, V_ST)
  off = writeBytes(buf, off, S); off = writeBytes(buf, off, sym)
  off = writeBytes(buf, off, N); off = writeMpInt(buf, off, n)
  off = writeBytes(buf, off, ST); off = writeChar(buf, off, code)
  off = writeBytes(buf, off, T); return writeMpInt(buf, off, tUs)
}

export function writeSnapshotMsgpack(buf: Buffer, off: number, lvc: LastValueCache, symbols: SymbolTable, id: number): number {
  const q = lvc.hasQuote(id), t = lvc.hasTrade(id), book = lvc.book[id]
  buf[off++] = 0xde; buf[off++] = 0; buf[off++] = 17 // map16: 17 entries
  off = writeBytes(buf, off, E); off = writeBytes(buf, off, V_SNAP)
  off = writeBytes(buf, off, S); off = writeBytes(buf, off, symbols.msgpackName[id])
  off = writeBytes(buf, off, N); off = writeMpInt(buf, off, lvc.seq[id])
  off = writeBytes(buf, off, BP); off = writeOptInt(buf, off, q, lvc.bidPrice[id])
  off = writeBytes(buf, off, BS); off = writeOptInt(buf, off, q, lvc.bidSize[id])
  off = writeBytes(buf, off, AP); off = writeOptInt(buf, off, q, lvc.askPrice[id])
  off = writeBytes(buf, off, AS); off = writeOptInt(buf, off, q, lvc.askSize[id])
  off = writeBytes(buf, off, QT); off = writeOptInt(buf, off, q, lvc.quoteTimeUs[id])
  off = writeBytes(buf, off, P); off = writeOptInt(buf, off, t, lvc.tradePrice[id])
  off = writeBytes(buf, off, Q); off = writeOptInt(buf, off, t, lvc.tradeSize[id])
  off = writeBytes(buf, off, TT); off = writeOptInt(buf, off, t, lvc.tradeTimeUs[id])
  off = writeBytes(buf, off, ST); off = writeChar(buf, off, lvc.status[id])
  off = writeBytes(buf, off, STALE); off = writeBytes(buf, off, REASON_MP[lvc.staleReason(id)])
  off = writeBytes(buf, off, BOOK)
  if (book === BOOK_NONE) buf[off++] = NIL; else off = writeBytes(buf, off, BOOK_MP[bookStateOf(book)])
  off = writeBytes(buf, off, FEED); off = writeBytes(buf, off, symbols.feedMsgpack[id])
  off = writeBytes(buf, off, PX); off = writeMpInt(buf, off, symbols.priceExponent[id])
  off = writeBytes(buf, off, QX); return writeMpInt(buf, off, symbols.sizeExponent[id])
}

/** The JSON marker shapes (json-codec.ts writeMarkerJson) as msgpack maps. */
export function writeMarkerMsgpack(buf: Buffer, off: number, sym: Buffer, n: number, reason: number, tUs: number, book = BOOK_NONE, feed: Buffer | null = null): number {
  buf[off++] = (reason === 0 ? 0x84 : 0x85) + (book === BOOK_NONE ? 0 : 1) + (feed === null ? 0 : 1)
  off = writeBytes(buf, off, E); off = writeBytes(buf, off, reason === 0 ? V_FRESH : V_STALE)
  off = writeBytes(buf, off, S); off = writeBytes(buf, off, sym)
  off = writeBytes(buf, off, N); off = writeMpInt(buf, off, n)
  if (reason !== 0) { off = writeBytes(buf, off, REASON); off = writeBytes(buf, off, REASON_MP[reason]) }
  if (book !== BOOK_NONE) { off = writeBytes(buf, off, BOOK); off = writeBytes(buf, off, BOOK_MP[bookStateOf(book)]) }
  if (feed !== null) { off = writeBytes(buf, off, FEED); off = writeBytes(buf, off, feed) }
  off = writeBytes(buf, off, T); return writeMpInt(buf, off, tUs)
}

/** The JSON book event (json-codec.ts writeBookJson) as a msgpack map. */
export function writeBookMsgpack(buf: Buffer, off: number, sym: Buffer, n: number, code: number, tUs: number): number {
  buf[off++] = code === 0 ? 0x85 : 0x86
  off = writeBytes(buf, off, E); off = writeBytes(buf, off, V_BOOK)
  off = writeBytes(buf, off, S); off = writeBytes(buf, off, sym)
  off = writeBytes(buf, off, N); off = writeMpInt(buf, off, n)
  off = writeBytes(buf, off, STATE); off = writeBytes(buf, off, BOOK_MP[bookStateOf(code)])
  if (code !== 0) { off = writeBytes(buf, off, REASON); off = writeBytes(buf, off, PARTIAL_MP[code] ?? Buffer.from([NIL])) }
  off = writeBytes(buf, off, T); return writeMpInt(buf, off, tUs)
}
