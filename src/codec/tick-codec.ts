// Owns the mapping from a ring slot or a last value to its encoded bytes in either wire format.
// Must never decide who receives bytes: it encodes once; the fan-out hands the same bytes to every sink.
import type { LastValueCache } from '../cache/last-value-cache.js'
import { BOOK_NONE } from '../model/book-state.js'
import type { SymbolTable } from '../model/symbols.js'
import { KIND_QUOTE, KIND_TRADE } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'
import { writeBookJson, writeMarkerJson, writeQuoteJson, writeSnapshotJson, writeStatusJson, writeTradeJson } from './json-codec.js'
import { writeBookMsgpack, writeMarkerMsgpack, writeQuoteMsgpack, writeSnapshotMsgpack, writeStatusMsgpack, writeTradeMsgpack } from './msgpack-codec.js'

export const FORMAT_JSON = 0
export const FORMAT_MSGPACK = 1
export type WireFormat = typeof FORMAT_JSON | typeof FORMAT_MSGPACK
export const FORMAT_NAMES = ['json', 'msgpack'] as const
/** MQTT 5 content types of the two formats */
export const CONTENT_TYPES = ['application/json', 'application/x-msgpack'] as const

/** Writes data slot `i` (quote, trade or status) as one event in `format`; returns the new offset. */
export function writeEvent(format: WireFormat, r: TickRing, i: number, symbols: SymbolTable, buf: Buffer, off: number): number {
  const id = r.symbolId[i], px = symbols.priceExponent[id], qx = symbols.sizeExponent[id], k = r.kind[i]
  if (format === FORMAT_JSON) {
    const sym = symbols.jsonName[id]
    if (k === KIND_QUOTE) return writeQuoteJson(buf, off, sym, r.symbolSeq[i], r.bidPrice[i], r.bidSize[i], r.askPrice[i], r.askSize[i], px, qx, r.exchTimeUs[i])
    if (k === KIND_TRADE) return writeTradeJson(buf, off, sym, r.symbolSeq[i], r.tradePrice[i], r.tradeSize[i], r.code[i], r.tradeId[i], px, qx, r.exchTimeUs[i])
    return writeStatusJson(buf, off, sym, r.symbolSeq[i], r.code[i], r.exchTimeUs[i])
  }
  const sym = symbols.msgpackName[id]
  if (k === KIND_QUOTE) return writeQuoteMsgpack(buf, off, sym, r.symbolSeq[i], r.bidPrice[i], r.bidSize[i], r.askPrice[i], r.askSize[i], px, qx, r.exchTimeUs[i])
  if (k === KIND_TRADE) return writeTradeMsgpack(buf, off, sym, r.symbolSeq[i], r.tradePrice[i], r.tradeSize[i], r.code[i], r.tradeId[i], px, qx, r.exchTimeUs[i])
  return writeStatusMsgpack(buf, off, sym, r.symbolSeq[i], r.code[i], r.exchTimeUs[i])
}

/**
 * A stale (reason > 0) or fresh (reason 0) marker of symbol `id` at its sequence `n`. The consumer decides what a
 * marker says (its own view: lapped here, or the feed's word), so markers are not encoded from ring slots directly.
 * `book` and `withFeed` (the feed the symbol belongs to, when it has one) are for the MQTT retained state, which stands
 * in for a snapshot there.
 */
export function writeMarker(format: WireFormat, symbols: SymbolTable, id: number, n: number, reason: number, timeUs: number, buf: Buffer, off: number, book = BOOK_NONE, withFeed = false): number {
  const feed = withFeed && symbols.feed[id] !== null
  return format === FORMAT_JSON
    ? writeMarkerJson(buf, off, symbols.jsonName[id], n, reason, timeUs, book, feed ? symbols.feedJson[id] : null)
    : writeMarkerMsgpack(buf, off, symbols.msgpackName[id], n, reason, timeUs, book, feed ? symbols.feedMsgpack[id] : null)
}

/** A book event of symbol `id` at its sequence `n`: `code` is the KIND_BOOK code (PARTIAL_* reason, 0 = synced). */
export function writeBookMarker(format: WireFormat, symbols: SymbolTable, id: number, n: number, code: number, timeUs: number, buf: Buffer, off: number): number {
  return format === FORMAT_JSON
    ? writeBookJson(buf, off, symbols.jsonName[id], n, code, timeUs)
    : writeBookMsgpack(buf, off, symbols.msgpackName[id], n, code, timeUs)
}

/** The symbol's latest quote as a quote event (MQTT retained payload); the caller checks lvc.hasQuote(id). */
export function writeLastQuote(format: WireFormat, lvc: LastValueCache, symbols: SymbolTable, id: number, buf: Buffer, off: number): number {
  const px = symbols.priceExponent[id], qx = symbols.sizeExponent[id]
  return format === FORMAT_JSON
    ? writeQuoteJson(buf, off, symbols.jsonName[id], lvc.quoteSeq[id], lvc.bidPrice[id], lvc.bidSize[id], lvc.askPrice[id], lvc.askSize[id], px, qx, lvc.quoteTimeUs[id])
    : writeQuoteMsgpack(buf, off, symbols.msgpackName[id], lvc.quoteSeq[id], lvc.bidPrice[id], lvc.bidSize[id], lvc.askPrice[id], lvc.askSize[id], px, qx, lvc.quoteTimeUs[id])
}

/** The symbol's latest trade as a trade event; the caller checks lvc.hasTrade(id). */
export function writeLastTrade(format: WireFormat, lvc: LastValueCache, symbols: SymbolTable, id: number, buf: Buffer, off: number): number {
  const px = symbols.priceExponent[id], qx = symbols.sizeExponent[id]
  return format === FORMAT_JSON
    ? writeTradeJson(buf, off, symbols.jsonName[id], lvc.tradeSeq[id], lvc.tradePrice[id], lvc.tradeSize[id], lvc.tradeSide[id], lvc.tradeId[id], px, qx, lvc.tradeTimeUs[id])
    : writeTradeMsgpack(buf, off, symbols.msgpackName[id], lvc.tradeSeq[id], lvc.tradePrice[id], lvc.tradeSize[id], lvc.tradeSide[id], lvc.tradeId[id], px, qx, lvc.tradeTimeUs[id])
}

/** The symbol's latest trading status as a status event (MQTT retained trading topic); the caller checks lvc.statusSeq[id] > 0. */
export function writeLastStatus(format: WireFormat, lvc: LastValueCache, symbols: SymbolTable, id: number, buf: Buffer, off: number): number {
  return format === FORMAT_JSON
    ? writeStatusJson(buf, off, symbols.jsonName[id], lvc.statusSeq[id], lvc.status[id], lvc.statusTimeUs[id])
    : writeStatusMsgpack(buf, off, symbols.msgpackName[id], lvc.statusSeq[id], lvc.status[id], lvc.statusTimeUs[id])
}

/** The symbol's whole state (snapshot): identical bytes for WebSocket snapshots and the REST snapshot. */
export function writeSnapshot(format: WireFormat, lvc: LastValueCache, symbols: SymbolTable, id: number, buf: Buffer, off: number): number {
  return format === FORMAT_JSON ? writeSnapshotJson(buf, off, lvc, symbols, id) : writeSnapshotMsgpack(buf, off, lvc, symbols, id)
}
