// Owns what a throttle sends for a due symbol: the plain update when its window held one, else the latest update of
// each kind that changed, the first carrying `c` (updates conflated away before it); a `snap` only when what the
// client holds cannot be brought up to date by updates. Must never choose when a symbol is due (writer.ts stepHeld).
//
// Why: throttled symbols were sent as `snap` events (185 bytes against a quote's 91), so 100 `*` clients at maxHz:100
// sent more bytes than 100 unthrottled ones and cost more CPU (issue 10); a throttle must save work, not add it.
import type { LastValueCache } from '../../cache/last-value-cache.js'
import { writeInt } from '../../codec/ascii.js'
import { writeMpInt } from '../../codec/msgpack-codec.js'
import { FORMAT_JSON, writeLastQuote, writeLastStatus, writeLastTrade, writeSnapshot } from '../../codec/tick-codec.js'
import type { WireFormat } from '../../codec/tick-codec.js'
import type { SymbolTable } from '../../model/symbols.js'
import type { HeldSymbol } from './writer.js'

/** At most this many events per due symbol (a status, a quote, a trade): what a frame must keep room for. */
export const THROTTLED_EVENTS_MAX = 3

const K_C = Buffer.from(',"c":', 'latin1'), MP_C = 0x63 /* 'c' */
const KIND_Q = 0, KIND_T = 1, KIND_ST = 2
/** scratch: the kinds to write, in n order (one thread, never re-entered) */
const order = new Int8Array(THROTTLED_EVENTS_MAX), seqOf = new Float64Array(THROTTLED_EVENTS_MAX)

/** What the client holds after this symbol's latest snapshot or update: the throttle's baseline. */
export function recordBaseline(lvc: LastValueCache, h: HeldSymbol, n: number): void {
  h.lastN = n; h.lastStale = lvc.staleReason(h.id); h.lastBook = lvc.book[h.id]
}

export interface ThrottledWrite { off: number; events: number; tradesSkipped: number }
const result: ThrottledWrite = { off: 0, events: 0, tradesSkipped: 0 }

/**
 * Writes what symbol `h.id` owes its throttle since the baseline and moves the baseline on. Updates go out in n
 * order, each with `c` = n − previous n − 1 when that is not 0, so `n ≤ last + 1 + c` tells conflation from loss.
 * A `snap` instead when the staleness or book state changed (updates do not carry them), or the baseline is unknown.
 * `tradesSkipped`: the trades of the window not delivered as a `t` event (signalled with trades_skipped, as for a snap).
 */
export function writeThrottled(format: WireFormat, lvc: LastValueCache, symbols: SymbolTable, h: HeldSymbol, buf: Buffer, off: number, first: boolean): ThrottledWrite {
  const id = h.id, prev = h.lastN
  result.tradesSkipped = h.trades
  if (prev < 0 || prev > lvc.seq[id] || h.lastStale !== lvc.staleReason(id) || h.lastBook !== lvc.book[id]) {
    result.off = writeSnapshot(format, lvc, symbols, id, buf, sep(format, buf, off, first))
    result.events = 1
    recordBaseline(lvc, h, lvc.seq[id])
    return result
  }
  let k = 0
  k = consider(KIND_Q, lvc.quoteSeq[id], prev, k); k = consider(KIND_T, lvc.tradeSeq[id], prev, k); k = consider(KIND_ST, lvc.statusSeq[id], prev, k)
  let last = prev
  for (let j = 0; j < k; j++) {
    const at = sep(format, buf, off, first && j === 0), kind = order[j], n = seqOf[j]
    off = kind === KIND_Q ? writeLastQuote(format, lvc, symbols, id, buf, at)
      : kind === KIND_T ? writeLastTrade(format, lvc, symbols, id, buf, at) : writeLastStatus(format, lvc, symbols, id, buf, at)
    if (n - last > 1) off = appendCount(format, buf, at, off, n - last - 1)
    if (kind === KIND_T) result.tradesSkipped--
    last = n
  }
  h.lastN = last
  result.off = off; result.events = k
  return result
}

/** Inserts `kind` (its latest event at `n`) into the n-ordered list when it is newer than the baseline. */
function consider(kind: number, n: number, prev: number, k: number): number {
  if (!(n > prev)) return k
  let j = k
  while (j > 0 && seqOf[j - 1] > n) { order[j] = order[j - 1]; seqOf[j] = seqOf[j - 1]; j-- }
  order[j] = kind; seqOf[j] = n
  return k + 1
}

/** The JSON separator before every event of a frame but its first. */
function sep(format: WireFormat, buf: Buffer, off: number, first: boolean): number {
  if (format === FORMAT_JSON && !first) buf[off++] = 44 // ,
  return off
}

/** `c` added to the event written at [start, end): JSON `,"c":k}` over its closing brace; msgpack one more map entry. */
function appendCount(format: WireFormat, buf: Buffer, start: number, end: number, c: number): number {
  if (format === FORMAT_JSON) {
    K_C.copy(buf, end - 1)
    end = writeInt(buf, end - 1 + K_C.length, c)
    buf[end] = 125 // }
    return end + 1
  }
  buf[start]++ // fixmap header: one more entry (every update map has ≤ 10)
  buf[end++] = 0xa1; buf[end++] = MP_C
  return writeMpInt(buf, end, c)
}
