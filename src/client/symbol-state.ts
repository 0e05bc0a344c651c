// Owns the client's view of one symbol: the event types it hands to callers and merging wire events into state.
// Must never touch sockets or sequence policy: it applies whatever event the client decided to accept.
import { scaledOrNull } from './decimal.js'

/** Latest known state of one symbol (snapshot merged with every update since). Absent values are null. */
export interface SymbolState {
  symbol: string
  /** last applied per-symbol sequence; -1 = no baseline yet (waiting for a snapshot) */
  n: number
  bid: number | null
  bidSize: number | null
  ask: number | null
  askSize: number | null
  /** exchange time of the quote, µs since the Unix epoch */
  quoteTime: number | null
  last: number | null
  lastSize: number | null
  tradeTime: number | null
  /** trading status: 'T' trading, 'H' halted, 'P' paused, 'Q' quotation only, 'C' closed; null = unknown */
  status: string | null
  /**
   * null while everything the source sent has been delivered; else why updates may be missing and the values above
   * may be out of date: 'feed_gap' (the feed lost messages), 'feed_down' (the feed is down or silent), 'lapped'
   * (the server's fan-out fell behind). Cleared by a `fresh` event.
   */
  stale: string | null
  /**
   * Order-book symbols (ITCH) only, else null: 'synced' when the server's book holds every order of the venue, 'partial'
   * when it may miss some (the quotes still come, from what it holds): `bookReason` says why ('late_join', 'gap',
   * 'unknown_order', 'recovering'). Changed by `book` events.
   */
  book: string | null
  bookReason: string | null
  /**
   * The name of the server's feed (`--feed nq=…`) the symbol belongs to: all of its data comes from that feed. From the
   * snapshot; null before one, or when the server has no owning feed for it (a bus edge).
   */
  feed: string | null
  /** updates applied since this state was created (snapshots excluded) */
  updates: number
}

export interface QuoteEvent { symbol: string; n: number; bid: number; bidSize: number; ask: number; askSize: number; time: number }
export interface TradeEvent { symbol: string; n: number; price: number; size: number; side: 'B' | 'S' | null; id: number; time: number }
export interface StatusEvent { symbol: string; n: number; status: string | null; time: number }
/** The symbol's completeness changed: `reason` as SymbolState.stale (null = fresh again); `n` takes no sequence. */
export interface StaleEvent { symbol: string; n: number; reason: string | null; time: number }
/** An order book's state changed: `state` as SymbolState.book, `reason` why it is partial (null when synced). */
export interface BookEvent { symbol: string; n: number; state: string; reason: string | null; time: number }

export function newSymbolState(symbol: string): SymbolState {
  return { symbol, n: -1, bid: null, bidSize: null, ask: null, askSize: null, quoteTime: null, last: null, lastSize: null, tradeTime: null, status: null, stale: null, book: null, bookReason: null, feed: null, updates: 0 }
}

/** A wire event as decoded from JSON text or msgpack (fields per the AsyncAPI document). */
export type WireEvent = Record<string, unknown>

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN)
const optNum = (v: unknown): number | null => (typeof v === 'number' ? v : null)
const optStr = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/**
 * Values of a wire event as numbers. JSON carries exact decimals already; msgpack carries integer mantissas
 * with `px` (prices) and `qx` (sizes) exponents.
 */
function priceOf(ev: WireEvent, key: string, msgpack: boolean): number | null {
  return msgpack ? scaledOrNull(ev[key], num(ev.px)) : optNum(ev[key])
}
function sizeOf(ev: WireEvent, key: string, msgpack: boolean): number | null {
  return msgpack ? scaledOrNull(ev[key], num(ev.qx)) : optNum(ev[key])
}

export function quoteOf(ev: WireEvent, msgpack: boolean): QuoteEvent {
  return {
    symbol: String(ev.s), n: num(ev.n),
    bid: priceOf(ev, 'bp', msgpack) ?? NaN, bidSize: sizeOf(ev, 'bs', msgpack) ?? NaN,
    ask: priceOf(ev, 'ap', msgpack) ?? NaN, askSize: sizeOf(ev, 'as', msgpack) ?? NaN, time: num(ev.t),
  }
}

export function tradeOf(ev: WireEvent, msgpack: boolean): TradeEvent {
  const side = ev.side === 'B' || ev.side === 'S' ? ev.side : null
  return {
    symbol: String(ev.s), n: num(ev.n), price: priceOf(ev, 'p', msgpack) ?? NaN, size: sizeOf(ev, 'q', msgpack) ?? NaN,
    side, id: num(ev.id), time: num(ev.t),
  }
}

export function statusOf(ev: WireEvent): StatusEvent {
  return { symbol: String(ev.s), n: num(ev.n), status: optStr(ev.st), time: num(ev.t) }
}

/** A `stale` event (reason given) or a `fresh` one (reason absent). */
export function staleOf(ev: WireEvent): StaleEvent {
  return { symbol: String(ev.s), n: num(ev.n), reason: ev.e === 'fresh' ? null : optStr(ev.reason) ?? 'unknown', time: num(ev.t) }
}

export function applyStale(s: SymbolState, st: StaleEvent): void { s.n = st.n; s.stale = st.reason }

/** A `book` event: `state` 'synced' | 'partial', `reason` when partial. */
export function bookOf(ev: WireEvent): BookEvent {
  return { symbol: String(ev.s), n: num(ev.n), state: optStr(ev.state) ?? 'partial', reason: optStr(ev.reason), time: num(ev.t) }
}

export function applyBook(s: SymbolState, b: BookEvent): void { s.book = b.state; s.bookReason = b.reason }

/**
 * A throttled subscription's update may carry `c`: how many updates of the symbol the server's throttle conflated
 * away just before it (the update is the latest of its kind). n may then jump by up to c + 1 without a loss.
 */
export function conflatedBefore(ev: WireEvent): number { return typeof ev.c === 'number' && ev.c > 0 ? ev.c : 0 }

export function applyQuote(s: SymbolState, q: QuoteEvent): void {
  s.n = q.n; s.bid = q.bid; s.bidSize = q.bidSize; s.ask = q.ask; s.askSize = q.askSize; s.quoteTime = q.time; s.updates++
}

export function applyTrade(s: SymbolState, t: TradeEvent): void {
  s.n = t.n; s.last = t.price; s.lastSize = t.size; s.tradeTime = t.time; s.updates++
}

export function applyStatus(s: SymbolState, st: StatusEvent): void {
  s.n = st.n; s.status = st.status; s.updates++
}

/** Replaces everything with a snapshot (`e: 'snap'`): the new baseline for sequence checks. */
export function applySnapshot(s: SymbolState, ev: WireEvent, msgpack: boolean): void {
  s.n = num(ev.n)
  s.bid = priceOf(ev, 'bp', msgpack); s.bidSize = sizeOf(ev, 'bs', msgpack)
  s.ask = priceOf(ev, 'ap', msgpack); s.askSize = sizeOf(ev, 'as', msgpack)
  s.quoteTime = optNum(ev.qt)
  s.last = priceOf(ev, 'p', msgpack); s.lastSize = sizeOf(ev, 'q', msgpack)
  s.tradeTime = optNum(ev.tt)
  s.status = optStr(ev.st)
  s.stale = optStr(ev.stale)
  s.book = optStr(ev.book); if (s.book !== 'partial') s.bookReason = null // a snapshot names the state, not the reason
  s.feed = optStr(ev.feed)
}
