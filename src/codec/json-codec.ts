// Owns the JSON wire format of data messages: quote, trade, status and snapshot objects, and frame batching.
// Must never call JSON.stringify on the hot path: bytes are written once into a caller's buffer and shared.
import type { LastValueCache } from '../cache/last-value-cache.js'
import type { SymbolTable } from '../model/symbols.js'
import { BOOK_NONE, BOOK_STATES, PARTIAL_REASONS, bookStateOf } from '../model/book-state.js'
import { STALE_REASONS } from '../model/staleness.js'
import { ascii, writeBytes, writeDecimal, writeInt } from './ascii.js'

// {"e":"q","s":"AAPL","n":42,"bp":189.12,"bs":100,"ap":189.13,"as":200,"t":1732619000123456}
const Q_HEAD = ascii('{"e":"q","s":'), T_HEAD = ascii('{"e":"t","s":'), ST_HEAD = ascii('{"e":"st","s":')
const SNAP_HEAD = ascii('{"e":"snap","s":'), STALE_HEAD = ascii('{"e":"stale","s":'), FRESH_HEAD = ascii('{"e":"fresh","s":')
const K_STALE = ascii(',"stale":'), K_REASON = ascii(',"reason":')
/** `"feed_gap"` etc. with quotes, by STALE_* code (index 0, fresh, is null) */
const REASON_JSON = STALE_REASONS.map((r, k) => ascii(k === 0 ? 'null' : JSON.stringify(r)))
const BOOK_HEAD = ascii('{"e":"book","s":'), K_STATE = ascii(',"state":'), K_BOOK = ascii(',"book":')
/** `"synced"` / `"partial"` by BOOK_* state; `"late_join"` etc. by PARTIAL_* reason */
const BOOK_JSON = BOOK_STATES.map((b) => ascii(JSON.stringify(b)))
const PARTIAL_JSON = PARTIAL_REASONS.map((r) => ascii(JSON.stringify(r)))
const K_N = ascii(',"n":'), K_BP = ascii(',"bp":'), K_BS = ascii(',"bs":'), K_AP = ascii(',"ap":'), K_AS = ascii(',"as":')
const K_T = ascii(',"t":'), K_P = ascii(',"p":'), K_Q = ascii(',"q":'), K_ID = ascii(',"id":'), K_SIDE = ascii(',"side":')
const K_FEED = ascii(',"feed":'), K_ST = ascii(',"st":'), K_QT = ascii(',"qt":'), K_TT = ascii(',"tt":'), NULL = ascii('null')
const CLOSE = 125 // }
export const JSON_FRAME_OPEN = 91, JSON_FRAME_SEP = 44, JSON_FRAME_CLOSE = 93 // [ , ]

/** Largest bytes one event or snapshot can take: symbol ≤ 16 chars, numbers ≤ 24 chars each, the longest reason, a 32-char feed. */
export const JSON_EVENT_MAX_BYTES = 448

function writeChar(buf: Buffer, off: number, code: number): number {
  if (code === 0) return writeBytes(buf, off, NULL)
  buf[off] = 34; buf[off + 1] = code >= 32 && code < 127 && code !== 34 && code !== 92 ? code : 63; buf[off + 2] = 34
  return off + 3
}

export function writeQuoteJson(buf: Buffer, off: number, sym: Buffer, n: number, bp: number, bs: number, ap: number, as: number, px: number, qx: number, tUs: number): number {
  off = writeBytes(buf, off, Q_HEAD); off = writeBytes(buf, off, sym)
  off = writeBytes(buf, off, K_N); off = writeInt(buf, off, n)
  off = writeBytes(buf, off, K_BP); off = writeDecimal(buf, off, bp, px)
  off = writeBytes(buf, off, K_BS); off = writeDecimal(buf, off, bs, qx)
  off = writeBytes(buf, off, K_AP); off = writeDecimal(buf, off, ap, px)
  off = writeBytes(buf, off, K_AS); off = writeDecimal(buf, off, as, qx)
  off = writeBytes(buf, off, K_T); off = writeInt(buf, off, tUs)
  buf[off] = CLOSE; return off + 1
}

export function writeTradeJson(buf: Buffer, off: number, sym: Buffer, n: number, p: number, q: number, side: number, id: number, px: number, qx: number, tUs: number): number {
  off = writeBytes(buf, off, T_HEAD); off = writeBytes(buf, off, sym)
  off = writeBytes(buf, off, K_N); off = writeInt(buf, off, n)
  off = writeBytes(buf, off, K_P); off = writeDecimal(buf, off, p, px)
  off = writeBytes(buf, off, K_Q); off = writeDecimal(buf, off, q, qx)
  off = writeBytes(buf, off, K_SIDE); off = writeChar(buf, off, side === 32 ? 0 : side)
  off = writeBytes(buf, off, K_ID); off = writeInt(buf, off, id)
  off = writeBytes(buf, off, K_T); off = writeInt(buf, off, tUs)
  buf[off] = CLOSE; return off + 1
}

export function writeStatusJson(buf: Buffer, off: number, sym: Buffer, n: number, code: number, tUs: number): number {
  off = writeBytes(buf, off, ST_HEAD); off = writeBytes(buf, off, sym)
  off = writeBytes(buf, off, K_N); off = writeInt(buf, off, n)
  off = writeBytes(buf, off, K_ST); off = writeChar(buf, off, code)
  off = writeBytes(buf, off, K_T); off = writeInt(buf, off, tUs)
  buf[off] = CLOSE; return off + 1
}

/**
 * The state of one symbol as of sequence `n`: the same bytes serve the WebSocket snapshot and
 * GET /v1/snapshot/{SYMBOL}. Absent parts are null. `feed` names the configured feed the symbol belongs to (the
 * source of every event of it: ownership refuses any other), so no event carries it.
 */
export function writeSnapshotJson(buf: Buffer, off: number, lvc: LastValueCache, symbols: SymbolTable, id: number): number {
  const px = symbols.priceExponent[id], qx = symbols.sizeExponent[id]
  off = writeBytes(buf, off, SNAP_HEAD); off = writeBytes(buf, off, symbols.jsonName[id])
  off = writeBytes(buf, off, K_N); off = writeInt(buf, off, lvc.seq[id])
  const q = lvc.hasQuote(id), t = lvc.hasTrade(id)
  off = writeBytes(buf, off, K_BP); off = q ? writeDecimal(buf, off, lvc.bidPrice[id], px) : writeBytes(buf, off, NULL)
  off = writeBytes(buf, off, K_BS); off = q ? writeDecimal(buf, off, lvc.bidSize[id], qx) : writeBytes(buf, off, NULL)
  off = writeBytes(buf, off, K_AP); off = q ? writeDecimal(buf, off, lvc.askPrice[id], px) : writeBytes(buf, off, NULL)
  off = writeBytes(buf, off, K_AS); off = q ? writeDecimal(buf, off, lvc.askSize[id], qx) : writeBytes(buf, off, NULL)
  off = writeBytes(buf, off, K_QT); off = q ? writeInt(buf, off, lvc.quoteTimeUs[id]) : writeBytes(buf, off, NULL)
  off = writeBytes(buf, off, K_P); off = t ? writeDecimal(buf, off, lvc.tradePrice[id], px) : writeBytes(buf, off, NULL)
  off = writeBytes(buf, off, K_Q); off = t ? writeDecimal(buf, off, lvc.tradeSize[id], qx) : writeBytes(buf, off, NULL)
  off = writeBytes(buf, off, K_TT); off = t ? writeInt(buf, off, lvc.tradeTimeUs[id]) : writeBytes(buf, off, NULL)
  off = writeBytes(buf, off, K_ST); off = writeChar(buf, off, lvc.status[id])
  off = writeBytes(buf, off, K_STALE); off = writeBytes(buf, off, REASON_JSON[lvc.staleReason(id)])
  off = writeBookField(buf, off, lvc.book[id], true)
  off = writeBytes(buf, off, K_FEED); off = writeBytes(buf, off, symbols.feedJson[id])
  buf[off] = CLOSE; return off + 1
}

/**
 * A symbol's completeness changed: `{"e":"stale","s":"AAPL","n":41,"reason":"feed_gap","t":…}` (reason > 0) or
 * `{"e":"fresh","s":"AAPL","n":41,"t":…}`. `n` is the symbol's sequence at that point: markers never take one.
 * `book` / `feed` (the JSON `"nq"` bytes) only on the MQTT retained state.
 */
export function writeMarkerJson(buf: Buffer, off: number, sym: Buffer, n: number, reason: number, tUs: number, book = BOOK_NONE, feed: Buffer | null = null): number {
  off = writeBytes(buf, off, reason === 0 ? FRESH_HEAD : STALE_HEAD); off = writeBytes(buf, off, sym)
  off = writeBytes(buf, off, K_N); off = writeInt(buf, off, n)
  if (reason !== 0) { off = writeBytes(buf, off, K_REASON); off = writeBytes(buf, off, REASON_JSON[reason]) }
  off = writeBookField(buf, off, book, false)
  if (feed !== null) { off = writeBytes(buf, off, K_FEED); off = writeBytes(buf, off, feed) }
  off = writeBytes(buf, off, K_T); off = writeInt(buf, off, tUs)
  buf[off] = CLOSE; return off + 1
}

/** `,"book":"partial"` from a KIND_BOOK code (PARTIAL_* reason); BOOK_NONE → `null` (`nullable`) or nothing. */
function writeBookField(buf: Buffer, off: number, code: number, nullable: boolean): number {
  if (code === BOOK_NONE && !nullable) return off
  off = writeBytes(buf, off, K_BOOK)
  return writeBytes(buf, off, code === BOOK_NONE ? NULL : BOOK_JSON[bookStateOf(code)])
}

/**
 * The symbol's order book changed state: `{"e":"book","s":"AAPL","n":41,"state":"partial","reason":"late_join","t":…}`
 * or `{"e":"book","s":"AAPL","n":41,"state":"synced","t":…}`. `code` is the KIND_BOOK code (PARTIAL_*, 0 = synced).
 */
export function writeBookJson(buf: Buffer, off: number, sym: Buffer, n: number, code: number, tUs: number): number {
  off = writeBytes(buf, off, BOOK_HEAD); off = writeBytes(buf, off, sym)
  off = writeBytes(buf, off, K_N); off = writeInt(buf, off, n)
  off = writeBytes(buf, off, K_STATE); off = writeBytes(buf, off, BOOK_JSON[bookStateOf(code)])
  if (code !== 0) { off = writeBytes(buf, off, K_REASON); off = writeBytes(buf, off, PARTIAL_JSON[code] ?? NULL) }
  off = writeBytes(buf, off, K_T); off = writeInt(buf, off, tUs)
  buf[off] = CLOSE; return off + 1
}
